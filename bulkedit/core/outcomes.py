"""What happened in a run: one `Outcome` per input row, and the `RunResult` around them.

Plain data: the runner fills it in, the reports and the CLI read it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from bulkedit.core.display import count_words, counted, rounded_duration, short_source
from bulkedit.core.errors import ApiError, ErrorClass, ExitCode
from bulkedit.core.planning import RowPlan, RowStatus, normal
from bulkedit.core.schema import FIELDS
from bulkedit.core.sheet import HIDDEN_ROW, Sheet
from bulkedit.core.types import UnknownValue
from bulkedit.core.validation import ValidationResult


class Status(StrEnum):
    """A row's status in the results sheet (#status)."""

    UPDATED = "updated"  # written, and every field read back as sent
    SENT = "sent"  # accepted by the API, not (all) read back: --no-verify, or unreadable
    UNCHANGED = "unchanged"
    FAILED = "failed"
    INVALID = "invalid"
    SKIPPED = "skipped"
    CONFLICT = "conflict"


@dataclass
class Outcome:
    """What happened to one input row (DESIGN.md §3)."""

    row: int
    video_id: str | None
    status: Status
    error_class: ErrorClass = ErrorClass.NONE
    error: str = ""
    http_status: int | None = None
    error_type: str = ""
    changed_fields: tuple[str, ...] = ()
    attempts: int = 0
    started: float | None = None
    finished: float | None = None


@dataclass(frozen=True, repr=False)
class Estimate:
    """What an apply of a planned sheet would cost: API calls, and time at a rate."""

    reads: int  # of the live values, before any write
    writes: int
    seconds: float | None  # None: no fixed rate (none, or auto), as fast as the API goes
    read_backs: int = 0  # reads of what was written (the canary's, and with verify on)
    rate: float | None = None  # the fixed rate the time is at (requests per second)

    @property
    def calls(self) -> int:
        return self.reads + self.writes + self.read_backs

    @property
    def time(self) -> str:
        """The time as the command line says it: "about 2 min 10 s", "under a second";
        "" without a fixed rate."""
        if self.seconds is None:
            return ""
        spoken = rounded_duration(self.seconds)
        return spoken if spoken == "under a second" else f"about {spoken}"

    def __repr__(self) -> str:
        # The words of `bulkedit plan`'s footer.
        back = f", {self.read_backs:,} to read them back" if self.read_backs else ""
        calls = (f"{counted(self.calls, 'API call')} ({counted(self.reads, 'read')}, "
                 f"{counted(self.writes, 'write')}{back})")
        pace = (f"{self.time} at {self.rate:g}/s" if self.time and self.rate
                else self.time or "no time: no fixed rate")
        return f"<Estimate {calls}, {pace}>"


# The shortest run whose calls per second are reported (RunResult.achieved_rate).
MIN_RATE_SECONDS = 5.0


@dataclass(repr=False)  # its repr would list every outcome
class RunResult:
    sheet: Sheet
    validation: ValidationResult
    outcomes: list[Outcome]
    plans: dict[int, RowPlan] = field(default_factory=dict)  # by sheet position
    live: dict[str, dict[str, Any]] = field(default_factory=dict)  # read values, by id
    started: float = 0.0
    finished: float = 0.0
    reads: int = 0
    writes: int = 0
    retries: int = 0
    rate_limited: int = 0
    rate_cuts: int = 0
    rate: dict[str, Any] = field(default_factory=dict)  # how the rate was set, or found
    read_seconds: float = 0.0
    write_seconds: float = 0.0
    aborted: str | None = None
    interrupted: bool = False
    cancelled: bool = False
    results_path: Path | None = None
    summary_path: Path | None = None
    rollback_path: Path | None = None
    kept_earlier: list[Path] = field(default_factory=list)  # earlier outputs moved aside
    notices: list[str] = field(default_factory=list)  # what the user must be told
    sheet_sha256: str = ""  # of the exact bytes the run read
    not_rolled_back: list[tuple[str, str]] = field(default_factory=list)  # (video, field)
    sent: bool = True  # False for a dry run (bulkedit plan)
    run_id: str | None = None  # the journal's name for the run
    account: str = "default"  # the account whose key the run went through
    verify: bool = True  # whether written rows are read back (off: they stay `sent`)
    read_back_calls: int = 0  # the reads that read written rows back
    canary_stop: bool = False  # the canary found a problem and stopped the run
    # Rows refused against the live values while other rows were fine: nothing was sent
    # (no --skip-invalid), like an invalid sheet.
    blocked: int = 0
    # The sheet positions this result answers for (one account's rows of a sheet routed to
    # several); None: every row.
    positions: frozenset[int] | None = None
    # A sheet routed to several accounts: what each account did (accounts_run.account_block).
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The reads the owner lookup took before the plan (run/owner_lookup.py): an apply
    # makes them again, through the account `lookup_account`.
    lookup_reads: int = 0
    lookup_account: str | None = None

    def __repr__(self) -> str:
        # A dry run's rows in its own words (change, noop…), as `bulkedit plan` counts them.
        counts = self.counts() if self.sent else self.planned()
        return (f"<RunResult {'' if self.sent else 'dry run '}{short_source(self.sheet.source)}"
                f": {counted(len(self.outcomes), 'row')} — {count_words(counts)}>")

    def own(self) -> list[Outcome]:
        """The outcomes of the rows this result answers for (`positions`)."""
        if self.positions is None:
            return self.outcomes
        return [self.outcomes[p] for p in sorted(self.positions)]

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for outcome in self.own():
            status = str(outcome.status)  # a plain word, for JSON and for people
            counts[status] = counts.get(status, 0) + 1
        return counts

    @property
    def exit_code(self) -> ExitCode:
        if self.interrupted:
            return ExitCode.INTERRUPTED
        if self.aborted:
            return ExitCode.ABORTED
        if self.blocked and self.sent:
            return ExitCode.BAD_INPUT  # nothing sent: as for an invalid sheet
        counts = self.counts()
        bad = counts.get(Status.FAILED, 0) + counts.get(Status.INVALID, 0)
        bad += counts.get(Status.CONFLICT, 0)
        return ExitCode.PROBLEMS if bad else ExitCode.OK

    def summary(self) -> dict[str, Any]:
        duration = max(self.finished - self.started, 1e-9)
        return {
            "run": self.run_id,
            "sheet": self.sheet.source,
            "sheet_name": self.sheet.sheet_name,  # the workbook's tab read (None: a CSV)
            # Every warning the sheet gave, as validate lists them: what was read in a way
            # the user should check (encoding found, rows above the header ignored…).
            "warnings": [{"row": i.row, "column": i.column, "value": i.value, "code": i.code,
                          "message": i.message} for i in self.validation.warnings],
            "started": datetime.fromtimestamp(self.started, UTC).isoformat(),
            "finished": datetime.fromtimestamp(self.finished, UTC).isoformat(),
            "duration_seconds": round(duration, 3),
            "rows": len(self.own()),
            "counts": self.counts(),
            "api_calls": {"reads": self.reads, "writes": self.writes},
            "phase_seconds": {"read": round(self.read_seconds, 3),
                              "write": round(self.write_seconds, 3)},
            "retries": self.retries,
            "rate_limited": self.rate_limited,
            "rate_cuts": self.rate_cuts,
            "rate": self.rate,
            **self.achieved_rate(),
            "aborted": self.aborted,
            "interrupted": self.interrupted,
            "exit_code": self.exit_code,
            "results": str(self.results_path) if self.results_path else None,
            "rollback": str(self.rollback_path) if self.rollback_path else None,
            "changes_the_rollback_cannot_undo": len(self.not_rolled_back),
            "verified": self.verified,
            "read_back": self.read_back(),
            "canary_stop": self.canary_stop,
            "blocked_by_refused_rows": self.blocked,
            **({"accounts": self.accounts} if self.accounts else {}),
        }

    def achieved_rate(self) -> dict[str, Any]:
        """API calls per second over the whole run, when the run lasted long enough for a
        rate to mean anything: over a fraction of a second, the few calls the limiter lets
        through at once would read as a rate above the limit it keeps in every second."""
        duration = max(self.finished - self.started, 0.0)
        calls = self.reads + self.writes
        if duration < MIN_RATE_SECONDS:
            return {"achieved_rate_per_second": None,
                    "achieved_rate_note": f"not measured: {calls} API calls in "
                                          f"{duration:.2f} s, under the {MIN_RATE_SECONDS:g} s "
                                          "a rate needs to mean anything"}
        return {"achieved_rate_per_second": round(calls / duration, 2),
                "achieved_rate_note": f"{calls} API calls over the run's {duration:.1f} s"}

    @property
    def verified(self) -> int:
        """Rows written and read back as sent (every `updated` row, and only those)."""
        return sum(outcome.status == Status.UPDATED for outcome in self.own())

    def read_back(self) -> dict[str, Any]:
        """What reading the written rows back found, from the outcomes themselves."""
        own = self.own()
        ignored = sum(o.status == Status.FAILED and o.error_class == ErrorClass.IGNORED
                      for o in own)
        sent = sum(o.status == Status.SENT for o in own)
        unreadable = sum(o.status == Status.SENT and o.error_class == ErrorClass.UNREADABLE
                         for o in own)
        return {"on": self.verify, "as_sent": self.verified, "not_as_sent": ignored,
                "not_read_back": sent, "cannot_be_read_back": unreadable,
                "calls": self.read_back_calls}

    def plan_status(self, position: int) -> str:
        """A row's status in a dry run: change, noop, not_found, conflict, invalid…"""
        outcome = self.outcomes[position]
        plan = self.plans.get(position)
        if outcome.status in (Status.INVALID, Status.CONFLICT) and (
                plan is None or outcome.status == Status.CONFLICT):
            return str(outcome.status)  # a plain word, for JSON and for people
        return plan.status.value if plan is not None else str(outcome.status)

    def estimate(self, batch_size: int, rate: float | None, verify: bool = False,
                 canary: int = 0, positions: frozenset[int] | None = None) -> Estimate:
        """The calls an apply of this plan makes: the batched reads of every planned video,
        one write per change, and the batched read-backs of the written rows (the canary's
        first, whatever `verify` says, then the others' with `verify`); at `rate`, with
        the limiter's 5 % margin. A plan that promised fewer calls than the apply made
        would not be what is (issue 29's review: 61 promised, 62 made). `positions`: only
        those rows' (one account's of a sheet of several)."""
        plans = [plan for position, plan in self.plans.items()
                 if positions is None or position in positions]
        videos = len({plan.video_id for plan in plans})
        reads = math.ceil(videos / batch_size)
        changes = [plan for plan in plans if plan.status is RowStatus.CHANGE]
        readable = sum(any(not FIELDS[diff.field].write_only for diff in plan.diffs)
                       for plan in changes)
        # The canary sends all of a sheet no longer than it; its rows are read back apart.
        first = min(readable, canary) if canary > 0 else 0
        read_backs = math.ceil(first / batch_size)
        if verify:
            read_backs += math.ceil((readable - first) / batch_size)
        calls = reads + len(changes) + read_backs
        # To a tenth of a second: no estimate of a whole run is finer than that.
        return Estimate(reads, len(changes),
                        round(calls / (rate * 0.95), 1) if rate else None, read_backs,
                        rate or None)

    def planned(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for position in range(len(self.outcomes)):
            key = self.plan_status(position)
            counts[key] = counts.get(key, 0) + 1
        return counts


def read_back_verdict(plan: RowPlan, live: Mapping[str, Any] | None, error: ApiError | None,
                      was_asked: bool, unreadable: tuple[str, ...] = ()
                      ) -> tuple[Status, ErrorClass, str]:
    """A written row's status once read back: (status, error class, what to tell). Pure.
    `sent` with no error class: not read back yet (the read failed), to be read again.
    `live`: what the read-back found (None: not asked, or not found); `unreadable`: fields
    the API would not read for this key."""
    if was_asked and live is None:
        if error is not None:  # the read itself failed: read it back again on resume
            return (Status.SENT, ErrorClass.NONE,
                    f"sent and accepted, not read back yet ({error})")
        return (Status.SENT, ErrorClass.UNREADABLE,
                "sent and accepted, but the video could not be read back (not found)")
    unread: list[str] = []
    ignored, as_before, applied = [], [], []
    for diff in plan.diffs:
        spec = FIELDS[diff.field]
        value = (live or {}).get(diff.field)
        if spec.write_only:
            unread.append(f"{diff.field} (the API never returns it)")
        elif diff.field in unreadable or isinstance(value, UnknownValue) or live is None:
            unread.append(f"{diff.field} (the API would not read it)")
        elif normal(spec, diff.new) != normal(spec, value):
            ignored.append(diff.field)
            as_before.append(normal(spec, value) == normal(spec, diff.old))
        else:
            applied.append(diff.field)
    if ignored:
        reads = "it still reads as before" if all(as_before) and len(ignored) == 1 else (
            "they still read as before" if all(as_before) else "read back otherwise")
        return (Status.FAILED, ErrorClass.IGNORED,
                "the API accepted the change but did not apply it: " + ", ".join(ignored)
                + f" ({reads}; a permission may be missing)"
                + (f"; applied: {', '.join(applied)}" if applied else ""))
    if unread:
        return Status.SENT, ErrorClass.UNREADABLE, "sent; not read back: " + ", ".join(unread)
    return Status.UPDATED, ErrorClass.NONE, ""


def sheet_notes(sheet: Sheet, validation: ValidationResult) -> list[str]:
    """What the results sheet says of the sheet as a whole: which sheet was read, from
    which header row, and every warning that belongs to no data row (the encoding found,
    rows above the header ignored…); a row's own warnings are in its #error cell."""
    where = (f"sheet '{sheet.sheet_name}' of {sheet.source}" if sheet.sheet_name
             else sheet.source)
    notes = [f"read from {where}, header on row {sheet.header_row}"]
    rows = set(sheet.row_numbers)
    for issue in validation.warnings:
        if issue.row in rows:
            continue
        place = ", ".join(part for part in (
            f"row {issue.row}" if issue.row else "", issue.column or "") if part)
        notes.append(f"warning ({issue.code}){' ' + place if place else ''}: {issue.message}")
    return notes


def initial_outcomes(sheet: Sheet, validation: ValidationResult) -> list[Outcome]:
    """Every row starts as skipped ("not sent") until something happens to it."""
    first_error: dict[int, str] = {}
    for issue in validation.errors:
        first_error.setdefault(issue.row, f"{issue.column}: {issue.message}")
    # A row's warnings (invisible characters removed, a number read in one locale…) travel
    # with it to the results sheet, whatever happens to the row.
    warned: dict[int, list[str]] = {}
    for issue in validation.warnings:
        if issue.row != sheet.header_row:
            warned.setdefault(issue.row, []).append(
                f"warning: {issue.column}: {issue.message}" if issue.column
                else f"warning: {issue.message}")
    ids = validation.ids()
    hidden = {i.row: i.message for i in validation.warnings if i.code == HIDDEN_ROW
              and i.row in sheet.hidden_rows}
    outcomes = []
    for index, number in enumerate(sheet.row_numbers):
        outcome = Outcome(number, ids[index], Status.SKIPPED,
                          error="; ".join(warned.get(number, ())) or "not sent")
        if index in validation.invalid_rows:
            outcome.status, outcome.error_class = Status.INVALID, ErrorClass.VALIDATION
            outcome.error = first_error.get(number, "invalid row")
        elif number in hidden:
            outcome.error = hidden[number]
        elif index in validation.skipped_rows:
            outcome.error = "the same video and values as an earlier row"
        outcomes.append(outcome)
    return outcomes
