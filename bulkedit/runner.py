"""One run of a sheet, end to end: load, validate, read live values, plan, send, report.

The CLI and the nightly batch call `run_sheet`; everything they show comes back as
data (`RunResult`) or through the `progress` callback. Outcomes are recorded per
row as they complete; the results sheet and summary are written whatever happens
(finished, interrupted, aborted).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

import aiohttp

from bulkedit import protocol
from bulkedit.client import Credentials, DailymotionClient
from bulkedit.dispatch import Dispatcher, Job, JobResult
from bulkedit.errors import ApiError, PermanentError, RunAborted
from bulkedit.load import Sheet, load_sheet
from bulkedit.plan import RowPlan, RowStatus, plan_row
from bulkedit.policy import CircuitBreaker, RetryPolicy
from bulkedit.types import TypedRow
from bulkedit.validate import ValidationOptions, ValidationResult, validate

READ_BATCH = 100


class Status:
    UPDATED = "updated"
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
    status: str
    error_class: str = ""  # validation / permanent / transient / auth
    error: str = ""
    http_status: int | None = None
    error_type: str = ""
    changed_fields: tuple[str, ...] = ()
    attempts: int = 0
    started: float | None = None
    finished: float | None = None


@dataclass
class RunOptions:
    sheet: Path
    sheet_name: str | None = None
    timezone: tzinfo = UTC
    allow_irreversible: bool = False
    allow_live_fields: bool = False
    skip_invalid: bool = False
    rate: float | None = 10.0
    concurrency: int = 8
    timeout: float = 30.0
    max_attempts: int = 6
    base_delay: float = 0.5
    max_elapsed: float = 300.0
    breaker_threshold: int = 5
    batch_size: int = READ_BATCH
    api_base: str = protocol.PARTNER_API
    results: Path | None = None
    summary_json: Path | None = None


@dataclass(repr=False)  # its repr would list every outcome
class RunResult:
    sheet: Sheet
    validation: ValidationResult
    outcomes: list[Outcome]
    plans: dict[int, RowPlan] = field(default_factory=dict)  # by sheet position
    started: float = 0.0
    finished: float = 0.0
    reads: int = 0
    writes: int = 0
    retries: int = 0
    rate_limited: int = 0
    rate_cuts: int = 0
    read_seconds: float = 0.0
    write_seconds: float = 0.0
    aborted: str | None = None
    interrupted: bool = False
    cancelled: bool = False
    results_path: Path | None = None
    summary_path: Path | None = None

    def __repr__(self) -> str:
        return f"RunResult({self.sheet.source!r}, counts={self.counts()})"

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for outcome in self.outcomes:
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        return counts

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return 130
        if self.aborted:
            return 3
        counts = self.counts()
        bad = counts.get(Status.FAILED, 0) + counts.get(Status.INVALID, 0)
        bad += counts.get(Status.CONFLICT, 0)
        return 1 if bad else 0

    def summary(self) -> dict[str, Any]:
        duration = max(self.finished - self.started, 1e-9)
        return {
            "sheet": self.sheet.source,
            "started": datetime.fromtimestamp(self.started, UTC).isoformat(),
            "finished": datetime.fromtimestamp(self.finished, UTC).isoformat(),
            "duration_seconds": round(duration, 3),
            "rows": len(self.outcomes),
            "counts": self.counts(),
            "api_calls": {"reads": self.reads, "writes": self.writes},
            "phase_seconds": {"read": round(self.read_seconds, 3),
                              "write": round(self.write_seconds, 3)},
            "retries": self.retries,
            "rate_limited": self.rate_limited,
            "rate_cuts": self.rate_cuts,
            "achieved_rate_per_second": round((self.reads + self.writes) / duration, 2),
            "aborted": self.aborted,
            "interrupted": self.interrupted,
            "exit_code": self.exit_code,
            "results": str(self.results_path) if self.results_path else None,
        }


class _ReadsStopped(Exception):
    """The read phase ended early: what was read, what failed, and why."""

    def __init__(self, live: dict[str, dict[str, Any]], unread: dict[str, ApiError],
                 aborted: str | None):
        super().__init__(aborted or "stopped")
        self.live, self.unread, self.aborted = live, unread, aborted


class InvalidSheet(Exception):
    """The sheet has problems and --skip-invalid was not given: nothing is sent."""

    def __init__(self, validation: ValidationResult):
        self.validation = validation
        super().__init__("the sheet has problems; nothing was sent")


Progress = Callable[[str, int, int, int], None]  # phase, done, total, failures
Confirm = Callable[[list[RowPlan]], bool]


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


class SheetRun:
    """The state of one run; `stop()` may be called from a signal handler."""

    def __init__(self, options: RunOptions, credentials: Credentials,
                 progress: Progress | None = None, confirm: Confirm | None = None):
        self.options = options
        self.credentials = credentials
        self.progress = progress or (lambda *_: None)
        self.confirm = confirm
        self._dispatcher: Dispatcher | None = None
        self._stopped = False
        self._positions: dict[int, int] = {}  # sheet row number -> position

    def stop(self) -> None:
        self._stopped = True
        if self._dispatcher is not None:
            self._dispatcher.stop()

    def load(self) -> tuple[Sheet, ValidationResult]:
        options = self.options
        sheet = load_sheet(options.sheet, sheet=options.sheet_name)
        validation = validate(sheet, ValidationOptions(
            timezone=options.timezone, allow_irreversible=options.allow_irreversible,
            allow_live_fields=options.allow_live_fields))
        if validation.header_errors or (validation.errors and not options.skip_invalid):
            raise InvalidSheet(validation)
        return sheet, validation

    async def run(self) -> RunResult:
        options = self.options
        started = time.time()
        sheet, validation = self.load()
        outcomes = _initial_outcomes(sheet, validation)
        result = RunResult(sheet, validation, outcomes, started=started)
        self._positions = {number: i for i, number in enumerate(sheet.row_numbers)}
        typed = {self._positions[row.row]: row for row in validation.rows()}
        connector = aiohttp.TCPConnector(limit=options.concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            client = DailymotionClient(session, self.credentials, options.api_base,
                                       options.timeout)
            self._dispatcher = Dispatcher(
                client, rate=options.rate, concurrency=options.concurrency,
                policy=RetryPolicy(max_attempts=options.max_attempts,
                                   base_delay=options.base_delay,
                                   max_elapsed=options.max_elapsed),
                breaker=CircuitBreaker(options.breaker_threshold))
            if self._stopped:
                self._dispatcher.stop()
            phase = time.perf_counter()
            try:
                live, unread = await self._read_live(typed, result)
            except _ReadsStopped as stopped:  # plan what was read; the rest stays unsent
                live, unread = stopped.live, stopped.unread
                result.aborted = stopped.aborted
            result.read_seconds = time.perf_counter() - phase
            self._plan(typed, live, unread, result)
            try:
                if result.aborted or self._stopped:
                    raise RunAborted(result.aborted or "stopped")
                changes = [p for p in result.plans.values() if p.status is RowStatus.CHANGE]
                confirmable = changes and self.confirm is not None and not self._stopped
                if confirmable and not self.confirm(changes):  # type: ignore[misc]
                    result.cancelled = True
                    changes = []
                phase = time.perf_counter()
                await self._write(changes, result)
                result.write_seconds = time.perf_counter() - phase
            except RunAborted as abort:
                if not self._stopped or result.aborted:
                    result.aborted = result.aborted or str(abort)
            stats = self._dispatcher.stats
            result.retries, result.rate_limited = stats.retries, stats.rate_limited
            result.rate_cuts = stats.rate_cuts
        result.interrupted = self._stopped and not result.aborted
        _mark_unsent(result)
        result.finished = time.time()
        return result

    async def _read_live(self, typed: dict[int, TypedRow], result: RunResult
                         ) -> tuple[dict[str, dict[str, Any]], dict[str, ApiError]]:
        """Current values of the touched fields in batched reads (ceil(N/100) calls),
        and the ids whose read failed."""
        fields = sorted({name for row in typed.values() for name in row.changes})
        ids = list(dict.fromkeys(row.video_id for row in typed.values()))
        live: dict[str, dict[str, Any]] = {}
        failed: dict[str, ApiError] = {}
        batches = list(_chunks(ids, max(1, self.options.batch_size)))
        done = 0
        assert self._dispatcher is not None
        retry: list[list[str]] = []

        def on_read(outcome: JobResult) -> None:
            nonlocal done
            batch: list[str] = outcome.key
            result.reads += outcome.attempts
            error = outcome.error
            if error is None:
                found = outcome.value.get("list", []) if isinstance(outcome.value, dict) else []
                for item in found:
                    if isinstance(item, dict) and "id" in item:
                        live[item["id"]] = item
                done += len(batch)
            elif isinstance(error, PermanentError) and error.status == 400 and len(batch) > 1:
                half = len(batch) // 2  # the API refused the batch size: halve it
                retry.extend([batch[:half], batch[half:]])
            else:
                for video_id in batch:
                    failed[video_id] = error
                done += len(batch)
            self.progress("read", done, len(ids), len(failed))

        while batches:
            jobs = [Job(batch, protocol.read_videos_request(batch, fields)) for batch in batches]
            try:
                await self._dispatcher.run(jobs, on_read)
            except RunAborted as abort:
                raise _ReadsStopped(live, failed, str(abort)) from None
            if self._dispatcher.stopping:
                raise _ReadsStopped(live, failed, None)
            batches = list(retry)
            retry.clear()
        return live, failed

    def _plan(self, typed: dict[int, TypedRow], live: dict[str, dict[str, Any]],
              unread: dict[str, ApiError], result: RunResult) -> None:
        complete = not result.aborted and not self._stopped
        for position, row in typed.items():
            outcome = result.outcomes[position]
            error = unread.get(row.video_id)
            if error is not None:
                _fail(outcome, error, "could not read the video's current values: ")
                continue
            if row.video_id not in live and not complete:
                continue  # never read: the run stopped first; the row stays unsent
            plan = plan_row(row, live.get(row.video_id))
            result.plans[position] = plan
            if plan.status is RowStatus.NOOP:
                outcome.status = Status.UNCHANGED
            elif plan.status is RowStatus.NOT_FOUND:
                outcome.status, outcome.error_class = Status.FAILED, "permanent"
                outcome.http_status, outcome.error_type = 404, "not_found"
                outcome.error = (f"video {row.video_id} not found: check the id, or whether "
                                 "it was deleted or belongs to another account")

    async def _write(self, changes: list[RowPlan], result: RunResult) -> None:
        assert self._dispatcher is not None
        done = failures = 0

        def on_write(outcome: JobResult) -> None:
            nonlocal done, failures
            plan: RowPlan = outcome.key
            row = result.outcomes[self._positions[plan.row]]
            result.writes += outcome.attempts
            row.attempts, row.started, row.finished = (outcome.attempts, outcome.started,
                                                       outcome.finished)
            if outcome.error is None:
                row.status, row.changed_fields = Status.UPDATED, plan.changed_fields
                row.error = ""
            else:
                _fail(row, outcome.error)
                failures += 1
            done += 1
            self.progress("write", done, len(changes), failures)

        jobs = (Job(plan, protocol.edit_request(plan.video_id, plan.form))
                for plan in changes)
        self.progress("write", 0, len(changes), 0)
        await self._dispatcher.run(jobs, on_write)


def _fail(outcome: Outcome, error: ApiError, prefix: str = "") -> None:
    outcome.status = Status.FAILED
    outcome.error_class = error.error_class
    outcome.error = prefix + (f"{error.param}: {error}" if error.param else str(error))
    outcome.http_status = error.status
    outcome.error_type = error.type


def _initial_outcomes(sheet: Sheet, validation: ValidationResult) -> list[Outcome]:
    """Every row starts as skipped ("not sent") until something happens to it."""
    first_error: dict[int, str] = {}
    for issue in validation.errors:
        first_error.setdefault(issue.row, f"{issue.column}: {issue.message}")
    ids = validation.ids()
    outcomes = []
    for index, number in enumerate(sheet.row_numbers):
        outcome = Outcome(number, ids[index], Status.SKIPPED, error="not sent")
        if index in validation.invalid_rows:
            outcome.status, outcome.error_class = Status.INVALID, "validation"
            outcome.error = first_error.get(number, "invalid row")
        elif index in validation.skipped_rows:
            outcome.error = "the same video and values as an earlier row"
        outcomes.append(outcome)
    return outcomes


def _mark_unsent(result: RunResult) -> None:
    reason = ("not sent: the run was interrupted" if result.interrupted else
              f"not sent: {result.aborted}" if result.aborted else
              "not sent: cancelled at the confirmation" if result.cancelled else "not sent")
    for position, outcome in enumerate(result.outcomes):
        duplicate = position in result.validation.skipped_rows
        if outcome.status == Status.SKIPPED and not duplicate:
            outcome.error = reason


def write_summary(path: Path, result: RunResult) -> None:
    path.write_text(json.dumps(result.summary(), indent=2) + "\n", encoding="utf-8")


def outcome_record(outcome: Outcome) -> dict[str, Any]:
    return asdict(outcome)
