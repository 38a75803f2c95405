"""A run's journal, seen from the runner: what an earlier attempt already did, and the
records each step of this attempt adds (DESIGN.md §7).

Rows confirmed `done` by an earlier attempt are final: they are neither read nor
sent again. Every other row is planned again against the live values, so a row
that was in flight when the process died is read back: if the video already says
what the sheet says, the row is confirmed `updated` without a second write.
The plan journaled first (with the values before any edit) is the one the
rollback sheet is built from, whatever later attempts read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bulkedit.core.outcomes import Outcome, RunResult, Status, initial_outcomes
from bulkedit.core.planning import FieldDiff, RowPlan, RowStatus
from bulkedit.core.types import CLEAR, UNKNOWN, UnknownValue
from bulkedit.run.journal import (
    DEFAULT_ACCOUNT,
    PINNED_SHEETS,
    Journal,
    RowRecord,
    RunRecord,
    outcome_of,
    record_of,
)
from bulkedit.run.savedplan import sheet_digest

# Rows that may have been written and are not known to be: planned, being sent, or
# written and not yet read back. A later attempt plans them again against the live values:
# a row that already reads as the sheet says is confirmed, by that very read.
IN_FLIGHT = ("pending", "sent", "written")
# A live value the API would not read, as the journal keeps it (no field value is a dict).
_UNKNOWN_STORED = {"bulkedit": "unknown"}


def _stored(value: Any) -> Any:
    return dict(_UNKNOWN_STORED) if isinstance(value, UnknownValue) else value


def _loaded(value: Any) -> Any:
    return UNKNOWN if value == _UNKNOWN_STORED else value


def _carried(journal: Journal, run_id: str) -> dict[str, tuple[int, dict[str, Any]]]:
    return {video: (row, {k: _loaded(v) for k, v in old.items()})
            for video, (row, old) in journal.carried(run_id).items()}


@dataclass
class RunJournal:
    journal: Journal
    run: RunRecord
    resumed: bool
    prior: dict[int, RowRecord] = field(default_factory=dict)  # by position
    # This attempt reads written rows back: rows an earlier attempt left `sent` without
    # reading them (--no-verify, or a read that failed) are read now, not final.
    read_back: bool = False

    @classmethod
    def open(cls, journal: Journal, key: str, digest: str, options: dict[str, Any],
             fresh: bool, read_back: bool = False, account: str = DEFAULT_ACCOUNT,
             linked: str | None = None) -> RunJournal:
        """Continue the sheet's unfinished run of these exact bytes, or start one (`fresh`:
        always start one). A new run takes over what every unfinished earlier attempt of
        the sheet wrote (a crash, then --fresh or a changed sheet): the values from before
        its first write, so that this run's rollback still restores the originals. One
        sheet's runs are the account's (`account`): another account's are its own."""
        if not fresh:
            journal.check(key)  # lost records: never a silent restart, never a blind resume
        earlier = None if fresh else journal.unfinished_run(key, digest, account)
        if earlier is not None:
            run = journal.resume_run(earlier.id)
            return cls(journal, run, True, journal.rows(run.id), read_back)
        abandoned = journal.unfinished_runs(key, account)
        originals: dict[str, tuple[int, dict[str, Any]]] = {}
        for old_run in abandoned:  # oldest first: an older attempt's "before" wins
            # What that attempt took over from earlier ones comes before what it wrote.
            taken_over = _carried(journal, old_run.id)
            for video, (row, old) in written_before(journal, old_run.id).items():
                first = {**old, **taken_over.pop(video, (row, {}))[1]}
                kept = originals.get(video, (row, {}))[1]
                originals[video] = (row, {**first, **kept})
            for video, (row, old) in taken_over.items():
                kept = originals.get(video, (row, {}))[1]
                originals[video] = (row, {**old, **kept})
        run = journal.start_run(key, digest, options, account, linked)
        if originals:
            journal.carry(run.id, {video: (row, {k: _stored(v) for k, v in old.items()})
                                   for video, (row, old) in originals.items()})
        journal.abandon(r.id for r in abandoned)
        if fresh:
            journal.accept_damage(key)  # what remained is carried over; the rest is told
        return cls(journal, run, False, read_back=read_back)

    @classmethod
    def settled(cls, journal: Journal, run: RunRecord) -> RunJournal:
        """A finished run of one account of a sheet routed to several, while another
        account's run of it resumes: its rows are as it left them, read and sent no more."""
        return cls(journal, run, True, journal.rows(run.id))

    def _unverified(self, record: RowRecord) -> bool:
        """A row written and not read back (no field that cannot be), read back now."""
        return self.read_back and record.status == Status.SENT and not record.error_class

    def _final(self, record: RowRecord) -> bool:
        return record.state == "done" and not self._unverified(record)

    def done_positions(self) -> set[int]:
        return {p for p, r in self.prior.items() if self._final(r)}

    def restore(self, outcomes: list[Outcome], settled: bool = False) -> None:
        """Put back the outcomes of rows an earlier attempt confirmed (`settled`: of every
        row it gave an answer, for a run that sends nothing more)."""
        for position, record in self.prior.items():
            if self._final(record) or (settled and record.state not in ("pending", "sent")):
                outcomes[position] = outcome_of(record)

    def canary_stop(self) -> str | None:
        """Why the canary stopped an earlier attempt of this run, if it did."""
        summary = self.run.summary or {}
        if not self.resumed or not summary.get("canary_stop"):
            return None
        return str(summary.get("aborted") or "the canary found a problem")

    def record_plans(self, result: RunResult) -> None:
        """Journal every row's state after planning: final rows and pending changes."""
        records = []
        for position, outcome in enumerate(result.outcomes):
            if result.positions is not None and position not in result.positions:
                continue  # another account's row: its own run journals it
            earlier = self.prior.get(position)
            if earlier is not None and self._final(earlier):
                continue
            plan = result.plans.get(position)
            journaled = earlier.plan if earlier is not None else None
            written = earlier is not None and (earlier.state in IN_FLIGHT
                                               or self._unverified(earlier))
            if written and plan is None:
                # Not read this time (the run stopped first, or the read failed): it stays
                # as it was, to be read again, and its values from before stay journaled.
                assert earlier is not None
                if earlier.status == Status.SENT and outcome.status == Status.SKIPPED:
                    result.outcomes[position] = outcome = outcome_of(earlier)
                state = earlier.state if earlier.state in IN_FLIGHT else "written"
                records.append(record_of(position, outcome, state, journaled))
                continue
            if plan is not None and plan.status is RowStatus.NOOP and written \
                    and journaled is not None:
                # Sent before and already as the sheet says: confirmed by reading.
                assert earlier is not None
                outcome.status, outcome.error = Status.UPDATED, ""
                outcome.changed_fields = tuple(journaled.get("old", {}))
                outcome.attempts = max(earlier.attempts, 1)
                records.append(record_of(position, outcome, "done", journaled))
                continue
            if plan is not None and plan.status is RowStatus.CHANGE \
                    and outcome.status == Status.SKIPPED:
                first = journaled or {"old": {d.field: _stored(d.old) for d in plan.diffs}}
                records.append(record_of(position, outcome, "pending", first))
                continue
            records.append(record_of(position, outcome, "final", journaled))
        self.journal.record_rows(self.run.id, records)
        self.prior = self.journal.rows(self.run.id)

    def wrote(self, kind: str, path: Path) -> None:
        self.journal.wrote(self.run.id, kind, path)

    def owns(self, kind: str, path: Path) -> bool:
        return self.journal.owns(self.run.id, kind, path)

    def output(self, kind: str) -> Path | None:
        """Where this run's `kind` output is, as the journal knows it (an earlier attempt's
        rollback sheet included)."""
        return self.journal.outputs(self.run.id).get(kind)

    def sent(self, position: int) -> None:
        self.journal.mark_sent(self.run.id, position)

    def outcome(self, position: int, outcome: Outcome, state: str) -> None:
        """A row's answer: `written` (taken by the API, to be read back), done or failed."""
        self.journal.record_outcome(self.run.id, position, state, outcome)

    def outcomes(self, verdicts: list[tuple[int, Outcome, str]]) -> None:
        """Several rows' answers (a read-back's), committed at once."""
        if verdicts:
            self.journal.record_outcomes(self.run.id, verdicts)

    def rollback_plans(self) -> list[RowPlan]:
        """Every video this run, or an unfinished earlier attempt it took over, changed or
        means to change, with its values from before the first write."""
        carried = _carried(self.journal, self.run.id)
        plans = []
        for video, (row, old) in written_before(self.journal, self.run.id).items():
            first = {**old, **carried.pop(video, (row, {}))[1]}
            diffs = tuple(FieldDiff(name, value, CLEAR) for name, value in first.items())
            plans.append(RowPlan(row, video, RowStatus.CHANGE, diffs))
        for video, (row, old) in carried.items():  # written before, untouched by this run
            diffs = tuple(FieldDiff(name, value, CLEAR) for name, value in old.items())
            plans.append(RowPlan(row, video, RowStatus.CHANGE, diffs))
        return sorted(plans, key=lambda plan: plan.row)

    def finish(self, result: RunResult) -> None:
        state = ("interrupted" if result.interrupted else "aborted" if result.aborted
                 else "finished")
        self.journal.finish_run(self.run.id, state, result.summary())


def written_before(journal: Journal, run_id: str) -> dict[str, tuple[int, dict[str, Any]]]:
    """video id -> (sheet row, values before the run) for every row the run changed or may
    have changed (sent, or about to be: in flight when it stopped)."""
    written: dict[str, tuple[int, dict[str, Any]]] = {}
    for record in sorted(journal.rows(run_id).values(), key=lambda r: r.position):
        old = (record.plan or {}).get("old")
        if not old or record.video_id is None:
            continue
        if record.state in IN_FLIGHT or record.status in (Status.UPDATED, Status.SENT):
            row, kept = written.get(record.video_id, (record.row, {}))
            written[record.video_id] = (row, {**{k: _loaded(v) for k, v in old.items()},
                                              **kept})
    return written


def rebuild(journal: Journal, run: RunRecord
            ) -> tuple[RunResult, list[RowPlan], list[str] | None]:
    """A run's outcomes and rollback rows from the journal alone (after any crash), and
    the account of each rollback row (None: the one account `default`). One account's run
    of a sheet routed to several brings the other accounts' runs of it (linked, the same
    bytes): each holds its own rows."""
    from bulkedit.core.errors import UsageError
    from bulkedit.core.sheet import SheetReading
    from bulkedit.core.validation import ValidationOptions, validate
    from bulkedit.sheets.load import load_sheet

    # The copy of the bytes the run worked from (kept in the state folder), else the
    # sheet itself if it has not changed since.
    pins = sorted((journal.path.parent / PINNED_SHEETS).glob(f"{run.sheet_sha256}*"))
    sheet_path = pins[0] if pins else Path(run.sheet)
    if not pins and (not sheet_path.exists() or sheet_digest(sheet_path) != run.sheet_sha256):
        raise UsageError(f"{sheet_path} is gone or has changed since run {run.id}; the "
                         "results need the sheet as it was")
    options = run.options
    reading = SheetReading(hidden=str(options.get("hidden", "refuse")),
                           spread_merged=bool(options.get("spread_merged")),
                           strip_apostrophes=bool(options.get("strip_apostrophes")))
    sheet = load_sheet(sheet_path, name=run.sheet, sheet=options.get("sheet_name"),
                       encoding=options.get("encoding"), reading=reading)
    # Which rows are valid does not depend on the time zone, only on these switches and
    # on the moment the run started ("in the past" is measured from it).
    validation = validate(sheet, ValidationOptions(
        allow_irreversible=bool(options.get("allow_irreversible")),
        allow_live_fields=bool(options.get("allow_live_fields")),
        allow_past_expiry=bool(options.get("allow_past_expiry")),
        date_order=options.get("date_order"),
        decimal_separator=options.get("decimal_separator"),
        split_lists=bool(options.get("split_lists")), now=run.started))
    outcomes = initial_outcomes(sheet, validation)
    together = [other for other in journal.linked_runs(run.id)
                if other.id == run.id or (other.sheet_sha256 == run.sheet_sha256
                                          and other.state != "abandoned")]
    plans: list[tuple[str, RowPlan]] = []
    for one in together:
        state = RunJournal(journal, one, True, journal.rows(one.id))
        for position, record in state.prior.items():
            if position < len(outcomes):
                outcomes[position] = outcome_of(record)
        plans += [(one.account, plan) for plan in state.rollback_plans()]
    plans.sort(key=lambda item: item[1].row)
    accounts = ([name for name, _ in plans]
                if any(one.account != DEFAULT_ACCOUNT for one in together) else None)
    summary = run.summary or {}
    result = RunResult(sheet, validation, outcomes, run_id=run.id, started=run.started,
                       finished=run.finished or run.started,
                       verify=bool(options.get("verify", False)))
    # A run still marked running whose process is gone (killed) was interrupted.
    from bulkedit.run.lock import run_is_held

    gone = run.state == "running" and not run_is_held(run.sheet, run.account)
    result.interrupted = run.state == "interrupted" or gone
    result.aborted = summary.get("aborted") if run.state == "aborted" else None
    result.canary_stop = bool(summary.get("canary_stop")) and run.state == "aborted"
    # What the last attempt did, as it reported it (the journal keeps rows, not calls).
    back = summary.get("read_back") or {}
    result.read_back_calls = int(back.get("calls", 0))
    result.verify = bool(back.get("on", result.verify))
    for one in together:
        calls = (one.summary or {}).get("api_calls") or {}
        result.reads += int(calls.get("reads", 0))
        result.writes += int(calls.get("writes", 0))
    return result, [plan for _, plan in plans], accounts
