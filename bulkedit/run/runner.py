"""One run of a sheet, end to end (DESIGN.md §1).

load → validate → read the live values (batched) → plan → [drift check against a
reviewed plan] → [confirm] → rollback sheet → send → [read back to verify].
A dry run (`send=False`) stops after planning. Everything the CLI shows comes
back as data (`RunResult`) or through the `progress` callback; `stop()` may be
called from a signal handler and lets the requests in flight finish.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bulkedit.client.connect import connect, shared_cap
from bulkedit.client.dispatch import Dispatcher, Job, JobResult, Sender
from bulkedit.client.fetch import Reading, read_current
from bulkedit.client.transport import Credentials
from bulkedit.core import protocol
from bulkedit.core.display import counted
from bulkedit.core.errors import (
    ApiError,
    BulkEditError,
    ErrorClass,
    ExitCode,
    RunAborted,
    TransientError,
    UsageError,
)
from bulkedit.core.outcomes import (
    Outcome,
    RunResult,
    Status,
    initial_outcomes,
    read_back_verdict,
    sheet_notes,
)
from bulkedit.core.planning import (
    PlanRules,
    RowPlan,
    RowStatus,
    drifted,
    fields_to_read,
    plan_row,
)
from bulkedit.core.routing import DEFAULT_ACCOUNT
from bulkedit.core.schema import FIELDS
from bulkedit.core.sheet import Sheet
from bulkedit.core.types import TypedRow
from bulkedit.core.validation import ValidationOptions, ValidationResult, validate
from bulkedit.run.accounts import Account
from bulkedit.run.accounts_run import (
    ProgressSum,
    Together,
    mark_stopped,
    merge,
    name_own_key,
    owners,
)
from bulkedit.run.journal import (
    PINNED_SHEETS,
    Journal,
    JournalDamaged,
    set_aside,
    state_dir_for,
    state_folder,
)
from bulkedit.run.lock import SheetLock
from bulkedit.run.options import RunOptions, contradiction
from bulkedit.run.owner_lookup import awaiting as awaiting_owner
from bulkedit.run.owner_lookup import reader_account, route_by_owner
from bulkedit.run.resume import RunJournal
from bulkedit.run.savedplan import SavedPlan, masked_form
from bulkedit.sheets.files import (
    PinnedSheet,
    keep_earlier,
    pin_sheet,
    preflight,
    scratch_folder,
)
from bulkedit.sheets.load import load_sheet
from bulkedit.sheets.report import write_results, write_rollback, write_summary

Progress = Callable[[str, int, int, int], None]  # phase, done, total, failures
# The key of a configured account, read when the run knows which account its rows take.
CredentialsFor = Callable[[Account], Credentials]
Confirm = Callable[[list[RowPlan]], bool]
Loaded = Callable[[Sheet, ValidationResult], None]  # the sheet read, and its validation


class InvalidSheet(BulkEditError):
    """The sheet has problems and --skip-invalid was not given: nothing is sent."""

    exit_code = ExitCode.BAD_INPUT

    def __init__(self, validation: ValidationResult):
        self.validation = validation
        super().__init__("the sheet has problems; nothing was sent")


class SheetRun:
    def current_rate(self) -> float | None:
        """The rate requests go out at now, when the run is sending (None otherwise); over
        several accounts, the sum of theirs."""
        if self._children:
            rates = [child.current_rate() for child in self._children]
            known = [rate for rate in rates if rate is not None]
            return sum(known) if known else None
        return self._dispatcher.current_rate() if self._dispatcher is not None else None

    def __init__(self, options: RunOptions, credentials: Credentials | CredentialsFor,
                 progress: Progress | None = None, confirm: Confirm | None = None,
                 sheet: Sheet | None = None, sender: Sender | None = None,
                 on_loaded: Loaded | None = None,
                 on_detail: Callable[[str], None] | None = None):
        self.options = options
        # Told of each retry and throttled answer as it happens, when the options are
        # verbose (--verbose): the front end shows it.
        self.on_detail = on_detail if options.verbosity.verbose else None
        # Told of the sheet read and its validation before anything is read from the API,
        # asked or sent: where a front end shows the sheet's name and warnings.
        self.on_loaded = on_loaded
        self.credentials = credentials
        self.progress = progress or (lambda *_: None)
        self.confirm = confirm
        self._given_sheet = sheet  # read already (a table); no file, so no journal either
        self.sender = sender  # instead of the HTTP client: tests, or another transport
        self._dispatcher: Dispatcher | None = None
        self._stopped = False
        self._positions: dict[int, int] = {}  # sheet row number -> position
        self._read_size = 0  # ids per read the API took when the run read the live values
        self._unreadable: tuple[str, ...] = ()  # fields the API would not read then
        self._journal: RunJournal | None = None
        self.pinned: PinnedSheet | None = None  # the bytes the run works from
        self.notices: list[str] = []  # what the user must be told, beside the result
        # A sheet routed to several accounts (issue 30): their names, and each one's run.
        self._several: tuple[str, ...] = ()
        self._children: list[SheetRun] = []
        # One account's run of such a sheet: its rows' positions, where it waits for the
        # others before sending, and whether its run had finished before (read back only).
        self._mine: frozenset[int] | None = None
        self._together: Together | None = None
        self._settled = False
        self._cap: Any = None  # the global rate (connect.shared_cap), shared by the accounts
        self._result: RunResult | None = None  # an account's, once its rows are done
        self._rollback_path: Path | None = None  # the rollback sheet of every account's
        self._not_rolled_back: list[tuple[str, str]] = []
        self._kept_aside: list[Path] = []
        self._owner_reads = 0  # the calls the owner lookup took (run/owner_lookup.py)

    def stop(self) -> None:
        self._stopped = True
        if self._dispatcher is not None:
            self._dispatcher.stop()
        for child in self._children:
            child.stop()

    async def load(self, pinned: PinnedSheet | None = None
                   ) -> tuple[Sheet, ValidationResult]:
        """The sheet and its validation: the given Sheet, else the pinned copy of the file
        (the bytes the run works from), else the file itself; the rows routed by their
        video's owner read and routed (run/owner_lookup.py), before anything is sent."""
        options = self.options
        if self._given_sheet is not None:
            sheet = self._given_sheet
        elif pinned is not None:
            sheet = load_sheet(pinned.path, name=pinned.label, sheet=options.sheet_name,
                               encoding=options.encoding, reading=options.reading)
        elif options.sheet is not None:
            sheet = load_sheet(options.sheet, sheet=options.sheet_name, encoding=options.encoding,
                               reading=options.reading)
        else:
            raise UsageError("no sheet: give RunOptions.sheet a path, or the run a Sheet")
        validation = validate(sheet, validation_options(options))
        if self.on_loaded is not None:
            self.on_loaded(sheet, validation)
        if validation.header_errors or (validation.errors and not options.skip_invalid):
            raise InvalidSheet(validation)
        validation = await self._route_by_owner(validation)
        if validation.errors and not options.skip_invalid:
            raise InvalidSheet(validation)
        self._take_account(sheet, validation)
        return sheet, validation

    async def _route_by_owner(self, validation: ValidationResult) -> ValidationResult:
        """The rows nothing else routes, routed by their video's owner when every account
        lists its channels: their owners read through one key, in batches."""
        if not awaiting_owner(validation):
            return validation

        def key_of(name: str) -> Credentials:
            if isinstance(self.credentials, Credentials):
                return self.credentials
            assert self.options.accounts is not None
            return self.credentials(self.options.accounts.get(name))

        routed, calls = await route_by_owner(validation, self.options, key_of, self.sender,
                                             self.progress)
        self._owner_reads = calls
        self.notices.append(f"Owners: {counted(len(awaiting_owner(validation)), 'row')} "
                            f"routed by their video's owner, read in "
                            f"{counted(calls, 'call')} through the account "
                            f"{reader_account(self.options)}")
        return routed

    def _take_account(self, sheet: Sheet, validation: ValidationResult) -> None:
        """The run goes through the accounts its rows are routed to: one account's
        limits, API base and key for its rows. Rows routed to several accounts run each
        account's rows in its own engine context (`_run_several`); a row never goes
        through a key it was not routed to."""
        used = validation.accounts()
        self._check_review_accounts(used)
        if len(used) > 1:
            if isinstance(self.credentials, Credentials) and self.sender is None:
                raise UsageError(
                    f"{sheet.source} routes its rows to {len(used)} accounts, and this "
                    "command was given one key (--credentials); each account's rows go "
                    "through its own key: leave --credentials out, so that each account "
                    "reads its key from where bulkedit.toml says. Nothing was sent")
            self._several = tuple(used)
            told = ", ".join(f"{name} ({counted(rows, 'row')})" for name, rows in used.items())
            self.notices.append(f"Accounts: {told}, each with its own key, rate and API "
                                "base, at the same time")
            return
        if used:
            name = next(iter(used))
            self.options = self.options.for_account(name)
            if self.options.accounts is not None and self.options.accounts.named:
                self.notices.append(f"Account: {name} (its key, rate and API base for every "
                                    "row of the sheet)")

    def _check_review_accounts(self, used: dict[str, int]) -> None:
        """apply --plan: the rows go through the accounts they were read through when the
        plan was reviewed (one account's name, or each account's rows)."""
        reviewed = self.options.reviewed
        if reviewed is None:
            return
        then = reviewed.options.get("account")
        several = reviewed.options.get("accounts")
        if then is None and several is None:
            return
        seen = dict(several) if isinstance(several, dict) else {str(then): None}
        now: dict[str, int | None] = dict(used) if several is not None else dict.fromkeys(used)
        if seen != now and not (then is not None and not used):
            said = (f"accounts {', '.join(seen)}" if len(seen) > 1
                    else f"account {next(iter(seen))}")
            told = ", ".join(now) or "no account"
            raise UsageError(f"the plan was reviewed reading the videos through the "
                             f"{said}, and this sheet's rows go through {told}; plan "
                             "again with the accounts they go through, and review that. "
                             "Nothing was sent")

    def _credentials(self) -> Credentials:
        """The key of the account the run goes through."""
        if isinstance(self.credentials, Credentials):
            return self.credentials
        account = self.options.account_used()
        if account is None:
            raise UsageError("no configured account to read the credentials of")
        return self.credentials(account)

    async def run(self) -> RunResult:
        """The run, end to end; it writes every output its options name: the rollback sheet
        before the first write, then the results sheet and the summary. Every output is
        checked writable before anything is read or sent."""
        options = self.options
        if options.summary_json is not None and options.summary_json.suffix.lower() != ".json":
            raise UsageError(f"--summary-json {options.summary_json}: a summary is a .json file")
        preflight([("results sheet", options.results), ("rollback sheet", options.rollback),
                   ("summary", options.summary_json)], inputs=[options.sheet])
        if options.sheet is None or self._given_sheet is not None:
            sheet, validation = await self.load()
            result = await self._run_sheet(sheet, validation)
        elif not (options.send and options.journal):
            with scratch_folder() as scratch:
                self.pinned = pin_sheet(options.sheet, scratch)
                sheet, validation = await self.load(self.pinned)
            result = await self._run_sheet(sheet, validation)
        else:
            folder = state_folder(state_dir_for(options.sheet, options.state_dir))
            # One lock per sheet, in the folder every state folder shares (run/lock.py):
            # a file by its path and inode; standard input, read first, by its content.
            stdin = str(options.sheet) == "-"
            if stdin:
                self.pinned = pin_sheet("-", folder / PINNED_SHEETS)
            key = self.pinned.key if self.pinned is not None else str(options.sheet.resolve())
            what, file = "stdin" if stdin else str(options.sheet), None if stdin else options.sheet
            sheet_lock = SheetLock(key, what, file).acquire()
            held = [sheet_lock]
            try:
                try:
                    journal = Journal(folder)
                except JournalDamaged:
                    if not options.fresh:
                        raise
                    aside = set_aside(folder)  # --fresh: the user chose to start over
                    self.notices.append(f"The damaged run journal was moved to {aside}")
                    journal = Journal(folder)
                try:
                    journal.prune()
                    if not stdin:
                        self.pinned = pin_sheet(options.sheet, folder / PINNED_SHEETS,
                                                from_inbox=options.from_inbox,
                                                trust=options.trust_inbox)
                    assert self.pinned is not None
                    if options.reviewed is not None \
                            and options.reviewed.sheet_sha256 != self.pinned.digest:
                        raise UsageError(f"{options.sheet} has changed since the plan was "
                                         "saved; run `bulkedit plan --save` again and "
                                         "review it")
                    sheet, validation = await self.load(self.pinned)
                    # Each account's own lock besides the sheet's (run/lock.py): one sheet
                    # runs once at a time per account.
                    for name in self._several or (self.options.account,):
                        if name != DEFAULT_ACCOUNT:
                            held.append(SheetLock(key, what, file, account=name).acquire())
                    if self._several:
                        # From here each account's rows are under its own lock only.
                        held.remove(sheet_lock)
                        sheet_lock.release()
                        result = await self._run_several(sheet, validation, journal)
                        self._tell(result)
                        self._write_outputs(result)
                        for child in self._children:
                            assert child._journal is not None
                            if not child._settled:
                                child._journal.finish(child._result)
                        return result
                    self._journal = RunJournal.open(journal, self.pinned.key,
                                                    self.pinned.digest,
                                                    _describe(self.options),
                                                    options.fresh, options.verify,
                                                    self.options.account)
                    if self._journal.resumed:
                        _same_reading(self.options, self._journal.run.id,
                                      self._journal.run.options)
                    result = await self._run(sheet, validation)
                    if result.rollback_path is None:  # an earlier attempt wrote the undo
                        result.rollback_path = _as_given(self._journal.output("rollback"),
                                                         options.rollback)
                    # The outputs before the run counts as finished: if they cannot be
                    # written (a full disk), the same command resumes and writes them.
                    self._tell(result)
                    self._write_outputs(result)
                    self._journal.finish(result)
                finally:
                    journal.close()
            finally:
                for lock in reversed(held):
                    lock.release()
            return result
        self._tell(result)
        self._write_outputs(result)
        return result

    def _tell(self, result: RunResult) -> None:
        """The run's notices before the result's; the owner lookup's reads in its counts
        (the reader account's, in a sheet of several)."""
        result.notices[:0] = self.notices
        if self._owner_reads:
            result.lookup_reads = self._owner_reads
            result.lookup_account = reader_account(self.options)
            result.reads += self._owner_reads
            block = (result.accounts or {}).get(reader_account(self.options))
            if block is not None:
                block["reads"] += self._owner_reads
            self._owner_reads = 0

    def _journals(self) -> list[RunJournal]:
        """The journal runs of this run: its own, or each account's."""
        if self._children:
            return [child._journal for child in self._children if child._journal is not None]
        return [self._journal] if self._journal is not None else []

    def _accounts_column(self, result: RunResult) -> list[str] | None:
        """Each row's account, for the results sheet, when the configuration names
        accounts (None: it does not, and the results sheet looks as it always did)."""
        accounts = self.options.accounts
        if accounts is None or not accounts.named or result.validation.routes is None:
            return None
        found = [""] * len(result.outcomes)
        for account, positions in result.validation.routes.positions().items():
            for position in positions:
                found[position] = account or ""
        return found

    def _write_outputs(self, result: RunResult) -> None:
        options = self.options
        if result.cancelled:
            return  # nothing happened: an earlier run's results stay as they are
        if options.results is not None:
            self._keep_earlier("results", options.results, result)
            write_results(options.results, result.sheet, result.outcomes,
                          sheet_notes(result.sheet, result.validation),
                          self._accounts_column(result))
            for journaled in self._journals():
                journaled.wrote("results", options.results)
            result.results_path = options.results
        if options.summary_json is not None:
            result.summary_path = options.summary_json
            write_summary(options.summary_json, result.summary())

    def _keep_earlier(self, kind: str, path: Path, result: RunResult) -> None:
        """Another run's results or undo at `path` is moved aside, never replaced; only
        the file this very run wrote there (an earlier attempt of it) is rewritten."""
        journals = self._journals()
        journal = journals[0].journal if journals else None
        if any(journaled.owns(kind, path) for journaled in journals):
            return
        writer = journal.writer(kind, path) if journal is not None else None
        aside = keep_earlier(path, writer, rollback=kind == "rollback")
        if aside is not None:
            if journal is not None:
                journal.moved(path, aside)  # `bulkedit runs` says where it is now
            result.kept_earlier.append(aside)

    async def _run_sheet(self, sheet: Sheet, validation: ValidationResult) -> RunResult:
        """A run without a journal (a dry run, a given table): its accounts' rows."""
        if self._several:
            return await self._run_several(sheet, validation, None)
        return await self._run(sheet, validation)

    async def _run_several(self, sheet: Sheet, validation: ValidationResult,
                           journal: Journal | None) -> RunResult:
        """Each account's rows in their own engine context (options, key and token,
        limiter, retries, breaker, concurrency, journal run), all at the same time; one
        result for the sheet. An account that stops stops only its own rows."""
        names = self._several
        mine = owners(validation, names)
        cap = shared_cap(self.options.global_rate) if self.options.global_rate else None
        summed = ProgressSum(self.progress)
        together = Together(names, self._decide)
        for name in names:
            child = SheetRun(self.options.for_account(name), self.credentials,
                             summed.of(name), sheet=self._given_sheet, sender=self.sender,
                             on_detail=self.on_detail)
            child.pinned, child._mine, child._together = self.pinned, mine[name], together
            child._cap, child._stopped = cap, self._stopped
            self._children.append(child)
        if self.sender is None:
            for child in self._children:  # a key missing: refused before anything is sent
                child._credentials()
        if journal is not None:
            self._open_journals(journal)
        tasks = [together.running(child.options.account, child._run(sheet, validation))
                 for child in self._children]
        answers = await asyncio.gather(*tasks, return_exceptions=True)
        errors = [answer for answer in answers if isinstance(answer, BaseException)]
        if errors:
            raise errors[0]
        parts: dict[str, RunResult] = {}
        settled: dict[str, str] = {}
        for child, part in zip(self._children, answers, strict=True):
            assert isinstance(part, RunResult)
            child._result = part
            name = child.options.account
            mark_stopped(part, name, validation.skipped_rows)
            parts[name] = part
            if child._settled and part.run_id is not None:
                settled[name] = part.run_id
            self.notices.extend(f"account {name}: {notice}" for notice in part.notices)
        result = RunResult(sheet, validation, initial_outcomes(sheet, validation),
                           started=min(p.started for p in parts.values()),
                           sent=self.options.send,
                           verify=self.options.send and self.options.verify)
        result.sheet_sha256 = self.pinned.digest if self.pinned is not None else ""
        result.run_id = next((p.run_id for p in parts.values() if p.run_id), None)
        result.account = names[0]
        merge(result, parts, settled)
        result.rollback_path = self._rollback_path
        result.not_rolled_back = self._not_rolled_back
        result.kept_earlier.extend(self._kept_aside)
        if result.rollback_path is None and self.options.rollback is not None:
            for journaled in self._journals():  # an earlier attempt wrote the undo
                kept = _as_given(journaled.output("rollback"), self.options.rollback)
                result.rollback_path = result.rollback_path or kept
        result.finished = time.time()
        return result

    def _open_journals(self, journal: Journal) -> None:
        """Each account's journal run: the unfinished run of these bytes resumed, else a
        new one, linked to the others'; while one account's run resumes, an account
        whose run of the same start had finished is only read back (nothing sent)."""
        assert self.pinned is not None
        key, digest, options = self.pinned.key, self.pinned.digest, self.options
        earlier = {} if options.fresh else {
            child.options.account: journal.unfinished_run(key, digest, child.options.account)
            for child in self._children}
        group = next((journal.linked_runs(run.id) for run in earlier.values()
                      if run is not None), [])
        lead = group[0].id if group else None
        resumed, finished = [], []
        for child in self._children:
            name = child.options.account
            done = next((run for run in group if run.account == name
                         and run.sheet_sha256 == digest and run.state == "finished"), None)
            if earlier.get(name) is None and done is not None:
                child._journal, child._settled = RunJournal.settled(journal, done), True
                finished.append(f"{name} (run {done.id})")
                continue
            child._journal = RunJournal.open(journal, key, digest, _describe(child.options),
                                             options.fresh, options.verify, name, lead)
            lead = lead or child._journal.run.id
            if child._journal.resumed:
                _same_reading(child.options, child._journal.run.id,
                              child._journal.run.options)
                resumed.append(f"{name} (run {child._journal.run.id}, "
                               f"{len(child._journal.done_positions())} rows already done)")
        if resumed:
            self.notices.append("Resuming " + ", ".join(resumed) + ": rows already done are "
                                "not sent again; --fresh starts over"
                                + (f"; finished before: {', '.join(finished)}"
                                   if finished else ""))

    def _decide(self, arrived: dict[str, Any]) -> bool:
        """Once every account has planned: may they send? Rows refused against the live
        values stop every account (as they stop a sheet of one); one confirmation; the
        rollback sheet of every account's rows before the first write of any."""
        blocked = sum(entry.result.blocked for entry in arrived.values())
        if blocked:
            for entry in arrived.values():
                entry.result.blocked = blocked
            return False
        changes = [plan for entry in arrived.values() if entry.ready for plan in entry.changes]
        if not changes:
            return True
        if self.confirm is not None and not self._stopped and not self.confirm(changes):
            for entry in arrived.values():
                entry.result.cancelled = True
            return False
        if self.options.rollback is not None:
            journals = [(child.options.account, child._journal) for child in self._children]
            plans: list[tuple[str, RowPlan]] = []
            if all(journaled is not None for _, journaled in journals):
                plans = [(name, plan) for name, journaled in journals if journaled is not None
                         for plan in journaled.rollback_plans()]
            else:
                plans = [(name, plan) for name, entry in arrived.items() if entry.ready
                         for plan in entry.changes]
            plans.sort(key=lambda item: item[1].row)
            first = next(iter(arrived.values())).result
            scratch = RunResult(first.sheet, first.validation, [])
            self._keep_earlier("rollback", self.options.rollback, scratch)
            self._kept_aside.extend(scratch.kept_earlier)
            self._not_rolled_back = write_rollback(self.options.rollback,
                                                   [plan for _, plan in plans],
                                                   [name for name, _ in plans])
            for journaled in self._journals():
                journaled.wrote("rollback", self.options.rollback)
            self._rollback_path = self.options.rollback
        return True

    @property
    def resumed(self) -> RunJournal | None:
        """The journal of the run, when it continues an earlier attempt."""
        return self._journal if self._journal is not None and self._journal.resumed else None

    async def _run(self, sheet: Sheet, validation: ValidationResult) -> RunResult:
        options = self.options
        result = RunResult(sheet, validation, initial_outcomes(sheet, validation),
                           started=time.time(), sent=options.send,
                           verify=options.send and options.verify)
        result.sheet_sha256 = self.pinned.digest if self.pinned is not None else ""
        result.account = options.account
        result.positions = self._mine
        done: set[int] = set()
        if self._journal is not None:
            result.run_id = self._journal.run.id
            if self._settled:  # finished before: its rows as it left them, nothing sent
                self._journal.restore(result.outcomes, settled=True)
                result.finished = time.time()
                return result
            stopped = self._journal.canary_stop()
            if stopped is not None and options.canary != 0:  # 0: the user said --no-canary
                return self._still_stopped(result, stopped)
            self._journal.restore(result.outcomes)
            done = self._journal.done_positions()
        self._positions = {number: i for i, number in enumerate(sheet.row_numbers)}
        typed = {self._positions[row.row]: row for row in validation.rows()
                 if self._positions[row.row] not in done
                 and (self._mine is None or self._positions[row.row] in self._mine)}
        unrouted = options.accounts is not None and options.account not in \
            options.accounts.names()  # no row reaches an account: nothing to read or send
        async with connect(_NO_KEY if unrouted else self._credentials(), options.api_base,
                           options.limits(), max_elapsed=options.max_elapsed,
                           breaker_threshold=options.breaker_threshold,
                           sender=_NoAccount() if unrouted else self.sender,
                           detail=self.on_detail, cap=self._cap_of()) as dispatcher:
            self._dispatcher = dispatcher
            if self._stopped:
                dispatcher.stop()
            try:
                await self._phases(typed, result)
            except RunAborted as abort:
                if not self._stopped or result.aborted is None:
                    result.aborted = result.aborted or str(abort)
            stats = dispatcher.stats
            result.retries, result.rate_limited = stats.retries, stats.rate_limited
            result.rate_cuts = stats.rate_cuts
            result.rate = dispatcher.rate_report()
            result.notices.extend(dispatcher.notices)  # quota windows met and waited out
        if not unrouted and options.accounts is not None and options.accounts.named:
            name_own_key(result, options.accounts.get(options.account))
        if self._stopped and result.aborted in (None, "stopped"):
            # A stop that came once every row had its answer left nothing to resume.
            result.aborted, result.interrupted = None, not (options.send
                                                            and _all_answered(result))
        _mark_unsent(result)
        result.finished = time.time()
        return result

    def _cap_of(self) -> Any:
        """The global rate this run's requests also take: the accounts' shared one, else
        its own (a run of one account under --global-rate)."""
        if self._cap is None and self.options.global_rate:
            self._cap = shared_cap(self.options.global_rate)
        return self._cap

    def _still_stopped(self, result: RunResult, reason: str) -> RunResult:
        """An earlier attempt's canary stopped the run: it stays stopped, for the same
        reason, until the sheet changes (a new run) or the user passes --no-canary."""
        assert self._journal is not None
        self._journal.restore(result.outcomes, settled=True)
        result.aborted, result.canary_stop = reason, True
        result.notices.append(
            f"The canary stopped run {self._journal.run.id} of this sheet before; nothing was "
            "sent this time. Fix the sheet (a changed sheet starts a new run) or pass "
            "--no-canary to send the rest.")
        _mark_unsent(result)
        result.finished = time.time()
        return result

    async def _phases(self, typed: dict[int, TypedRow], result: RunResult) -> None:
        options = self.options
        assert self._dispatcher is not None
        phase = time.perf_counter()
        fields = fields_to_read(name for row in typed.values() for name in row.changes)
        reading = await read_current(
            self._dispatcher, (row.video_id for row in typed.values()), fields,
            options.batch_size, lambda done, total, bad: self.progress("read", done, total, bad))
        result.reads += reading.calls
        result.read_seconds = time.perf_counter() - phase
        result.aborted = reading.aborted
        self._read_size = reading.batch_size  # what the API took: the read-back starts there
        self._unreadable = tuple(reading.unreadable)  # ... and does not ask for these again
        result.live = reading.live
        self._plan(typed, reading, result)
        if options.reviewed is not None:
            self._check_review(typed, reading, options.reviewed, result)
        if self._journal is not None:
            self._journal.record_plans(result)
        refused = sum(plan.status is RowStatus.REFUSED for plan in result.plans.values())
        blocked = bool(refused) and not options.skip_invalid
        if blocked:
            # Like an invalid sheet: the problems found against the live values are the
            # user's to fix before anything is sent (or to skip, with --skip-invalid).
            result.blocked = refused
        ready = not blocked and reading.complete and options.send
        changes = [plan for position, plan in result.plans.items()
                   if plan.status is RowStatus.CHANGE
                   and result.outcomes[position].status == Status.SKIPPED] if ready else []
        if self._together is not None:  # one account of several: one decision for all
            if not await self._together.wait(options.account, changes, result, ready):
                return
        else:
            if not ready:
                return
            asking = bool(changes) and self.confirm is not None and not self._stopped
            if asking and not self.confirm(changes):  # type: ignore[misc]
                result.cancelled = True
                return
            if changes and options.rollback is not None:  # the undo, before any write
                plans = self._journal.rollback_plans() if self._journal else changes
                self._keep_earlier("rollback", options.rollback, result)
                named = options.accounts is not None and options.accounts.named
                result.not_rolled_back = write_rollback(
                    options.rollback, plans, [options.account] * len(plans) if named
                    else None)
                if self._journal is not None:
                    self._journal.wrote("rollback", options.rollback)
                result.rollback_path = options.rollback
        phase = time.perf_counter()
        canary = canary_rows(changes, options.canary_size)
        if canary:
            if not await self._canary(canary, result):
                result.write_seconds = time.perf_counter() - phase
                return
            changes = [plan for plan in changes if plan not in canary]
        await self._write(changes, result)
        result.write_seconds = time.perf_counter() - phase
        if options.verify and not self._stopped:
            await self._read_back(changes, result)

    def _plan(self, typed: dict[int, TypedRow], reading: Reading, result: RunResult) -> None:
        options = self.options
        rules = PlanRules(allow_irreversible=options.allow_irreversible,
                          allow_past_expiry=options.allow_past_expiry)
        for position, row in typed.items():
            outcome = result.outcomes[position]
            error = reading.failed.get(row.video_id)
            if error is not None:
                _fail(outcome, error, "could not read the video's current values: ")
                continue
            if not reading.was_read(row.video_id):
                continue  # the run stopped before its batch: the row stays unsent
            plan = plan_row(row, reading.live.get(row.video_id), rules)
            result.plans[position] = plan
            # The sheet's own warnings of the row (initial_outcomes) stay after planning's.
            kept = outcome.error if outcome.error.startswith("warning:") else ""
            said = "; ".join(("" if p.is_error else "warning: ") + f"{p.field}: "
                             f"{p.message}" for p in plan.problems)
            outcome.error = "; ".join(t for t in (said, kept) if t) or outcome.error
            if plan.status is RowStatus.REFUSED:
                outcome.status, outcome.error_class = Status.INVALID, ErrorClass.VALIDATION
            elif plan.status is RowStatus.NOOP:
                outcome.status = Status.UNCHANGED
                outcome.error = outcome.error if plan.problems or kept else ""
            elif plan.status is RowStatus.NOT_FOUND:
                outcome.status, outcome.error_class = Status.FAILED, ErrorClass.PERMANENT
                outcome.http_status, outcome.error_type = 404, "not_found"
                outcome.error = (f"video {row.video_id} not found: check the id, or whether "
                                 "it was deleted or belongs to another account")

    def _check_review(self, typed: dict[int, TypedRow], reading: Reading, reviewed: SavedPlan,
                      result: RunResult) -> None:
        """apply --plan sends exactly what was reviewed. A row is not sent (conflict) when
        its live values changed since the review (unless --force), when it would now send
        another form than the one reviewed, or when the review never saw it."""
        from bulkedit.core.cells import to_cell

        for position, row in typed.items():
            plan = result.plans.get(position)
            live = reading.live.get(row.video_id)
            if plan is None or live is None:
                continue  # not read, or gone: nothing is sent either way
            outcome = result.outcomes[position]
            seen = reviewed.rows.get(row.row)
            if seen is None or seen.video_id != row.video_id:
                if plan.status is RowStatus.CHANGE:
                    _conflict(outcome, "not in the reviewed plan (the dry run did not read "
                              "this row); plan again and review it", plan.changed_fields)
                continue
            try:
                moved = drifted(list(row.changes), seen.live, live)
                detail = "; ".join(f"{name} was {to_cell(FIELDS[name], old)!r}, now "
                                   f"{to_cell(FIELDS[name], new)!r}"
                                   for name, old, new in moved)
            except (TypeError, ValueError, AttributeError):  # a plan edited by hand
                _conflict(outcome, "the plan's reviewed values of this row cannot be read "
                          "(was the file edited?); plan again and review it", ())
                continue
            if moved and not self.options.force:
                _conflict(outcome, f"changed on Dailymotion since the plan was reviewed: "
                          f"{detail}; plan again, or pass --force",
                          tuple(name for name, _, _ in moved))
                continue
            now = masked_form(plan.form)
            if plan.status is RowStatus.CHANGE and now != seen.form:
                other = sorted(name for name in set(now) | set(seen.form)
                               if now.get(name) != seen.form.get(name))
                _conflict(outcome, "would send other values than the plan reviewed ("
                          + ", ".join(other) + "); plan again and review it", tuple(other))
                continue
            if moved:
                outcome.error = f"drift ignored (--force): {detail}"

    def _sent(self, plan: RowPlan, outcome: JobResult, result: RunResult) -> Outcome:
        """A write's answer on its row: `sent` when the API took it (`updated` only once it
        reads back as sent), else failed."""
        row = result.outcomes[self._positions[plan.row]]
        result.writes += outcome.attempts
        row.attempts, row.started, row.finished = (outcome.attempts, outcome.started,
                                                   outcome.finished)
        if outcome.error is None:
            row.status, row.changed_fields = Status.SENT, plan.changed_fields
            row.error_class = ErrorClass.NONE
            if not row.error.startswith(("drift ignored", "warning:")):
                row.error = ""
        else:
            _fail(row, outcome.error)
            unknown = protocol.refused_write_field(outcome.error, plan.form)
            if unknown is not None and result.aborted is None:
                # Every row would hit it: stop after the first, say which field.
                result.aborted = (
                    f"the API does not know the field {unknown!r} by that name (row "
                    f"{plan.row}: {outcome.error}); nothing more was sent. Remove the "
                    f"{unknown} column (or ask Dailymotion for its name), then run again")
                assert self._dispatcher is not None
                self._dispatcher.stop()
        return row

    async def _write(self, changes: list[RowPlan], result: RunResult,
                     read_back: bool | None = None) -> None:
        """Send the rows; each answer is journaled before it counts: a row the API took is
        `written` (to be read back) with read-back on, else done."""
        assert self._dispatcher is not None
        read_back = self.options.verify if read_back is None else read_back
        done = failures = 0
        journal = self._journal

        def on_start(job: Job) -> None:
            if journal is not None:
                journal.sent(self._positions[job.key.row])

        def on_write(outcome: JobResult) -> None:
            nonlocal done, failures
            plan: RowPlan = outcome.key
            if self._stopped and isinstance(outcome.error, TransientError):
                # Ctrl-C cut its retries short: not failed, not sent (as far as anyone
                # knows); it stays `sent` in the journal, so the same command reads it
                # and sends it again if it did not land.
                result.writes += outcome.attempts
                return
            row = self._sent(plan, outcome, result)
            failures += row.status == Status.FAILED
            if journal is not None:  # committed before the row counts as done
                state = ("failed" if row.status == Status.FAILED else
                         "written" if read_back else "done")
                journal.outcome(self._positions[plan.row], row, state)
            done += 1
            self.progress("write", done, len(changes), failures)

        jobs = (Job(plan, protocol.edit_request(plan.video_id, plan.form)) for plan in changes)
        self.progress("write", 0, len(changes), 0)
        await self._dispatcher.run(jobs, on_write, on_start)

    async def _canary(self, canary: list[RowPlan], result: RunResult) -> bool:
        """Send the canary rows and read them back (whatever --verify says: that is what
        a canary is). False (the run stops, nothing more sent) when the API refused any of
        them or did not apply a field; the stop is journaled, so the next attempt of the
        same sheet stops too."""
        await self._write(canary, result, read_back=True)
        if self._stopped or result.aborted:
            return False
        await self._read_back(canary, result, note="canary row: ")
        if self._stopped or result.aborted:
            return False  # not all read back: nothing more is sent
        positions = [self._positions[plan.row] for plan in canary]
        bad = [result.outcomes[p] for p in positions
               if result.outcomes[p].status == Status.FAILED]
        if bad:
            why = bad[0].error.removeprefix("canary row: ")
            result.aborted = (f"the {len(canary)} canary rows, sent first and read back, "
                              f"found a problem (row {bad[0].row}: {why}); nothing more "
                              "was sent. Fix it and run again (the rest resumes), or pass "
                              "--no-canary")
            result.canary_stop = True
            return False
        return True

    async def _read_back(self, plans: list[RowPlan], result: RunResult,
                         note: str = "") -> None:
        """Read the written fields back, in batches: a row is `updated` only when every
        field reads back as sent (the planner's normal form); a change the API accepted
        but did not apply fails the row; a field that cannot be read back leaves it
        `sent`, saying which. Each verdict is journaled as it is known."""
        assert self._dispatcher is not None
        written = [plan for plan in plans
                   if result.outcomes[self._positions[plan.row]].status == Status.SENT]
        if not written:
            return
        def can_read(name: str) -> bool:
            return not FIELDS[name].write_only and name not in self._unreadable

        fields = {d.field for plan in written for d in plan.diffs if can_read(d.field)}
        reading = Reading()
        readable = [plan for plan in written if any(can_read(d.field) for d in plan.diffs)]
        asked = {plan.row for plan in readable}
        if readable:
            reading = await read_current(
                self._dispatcher, (plan.video_id for plan in readable), fields,
                self._read_size or self.options.batch_size,
                lambda done, total, bad: self.progress("read back", done, total, bad))
        result.reads += reading.calls
        result.read_back_calls += reading.calls
        result.aborted = result.aborted or reading.aborted
        verdicts: list[tuple[int, Outcome, str]] = []
        unread: list[Outcome] = []
        for plan in written:
            position = self._positions[plan.row]
            outcome = result.outcomes[position]
            if plan.row in asked and not reading.was_read(plan.video_id):
                continue  # the run stopped first: `written`, read back when it resumes
            verdict = read_back_verdict(plan, reading.live.get(plan.video_id),
                                        reading.failed.get(plan.video_id), plan.row in asked,
                                        self._unreadable)
            outcome.status, outcome.error_class, text = verdict
            kept = outcome.error if outcome.error.startswith(("drift ignored",
                                                              "warning:")) else ""
            outcome.error = "; ".join(t for t in (text, kept) if t)
            if note:
                outcome.error = note + (outcome.error or "sent first and read back as sent")
            if plan.video_id in reading.failed:
                unread.append(outcome)
                continue  # stays `written`: the same command reads it back
            state = "failed" if outcome.status == Status.FAILED else "done"
            verdicts.append((position, outcome, state))
        if self._journal is not None:
            self._journal.outcomes(verdicts)
        failures = sum(outcome.status == Status.FAILED for _, outcome, _ in verdicts)
        self.progress("read back", len(verdicts) + len(unread), len(written), failures)
        if unread and result.aborted is None:
            result.aborted = (f"{len(unread)} written rows could not be read back (row "
                              f"{unread[0].row}: {unread[0].error.removeprefix(note)}); run "
                              "the same command again to read them back")


_NO_KEY = Credentials("no-account", "no-account")


class _NoAccount:
    """The sender of a run none of whose rows reaches an account (all invalid, left out
    with --skip-invalid): there is nothing to read or send, and no key to send it with."""

    async def send(self, request: protocol.HttpRequest) -> object:
        raise UsageError("no row of the sheet reaches an account; nothing can be sent")


def _same_reading(options: RunOptions, run_id: str, kept: dict[str, object]) -> None:
    """A resumed run reads its sheet as it was started: rows done before and rows sent now
    must not mean two different things (dates in two time zones)."""
    then = kept.get("account")
    if then is not None and then != options.account:
        raise UsageError(f"run {run_id} of this sheet went through the account {then} and "
                         f"would be resumed by this command through {options.account}; give "
                         f"--account {then} to resume it, or pass --fresh to start over")
    differs = contradiction(options, kept)
    if differs is not None:
        flag, now, then = differs
        raise UsageError(f"{flag} {now} contradicts run {run_id} of this sheet, which was "
                         f"started with {flag} {then} and would be resumed by this command; "
                         f"give {flag} {then} to resume it, or pass --fresh to start over "
                         "(the values from before the run are kept for its rollback)")


def account_binding(result: RunResult) -> dict[str, object]:
    """What a saved plan keeps of the accounts its rows were read through: the one
    account's name, or each account's rows (a sheet routed to several); an apply of the
    plan refuses rows that would go through others (`_check_review_accounts`)."""
    if result.accounts:
        return {"accounts": result.validation.accounts()}
    return {"account": result.account} if result.account != DEFAULT_ACCOUNT else {}


def canary_rows(changes: list[RowPlan], count: int) -> list[RowPlan]:
    """Up to `count` rows to send first: one for each distinct set of fields the sheet
    changes (so each field is tried), then the next rows in order."""
    if count <= 0 or len(changes) <= count:
        return [] if count <= 0 else list(changes)
    chosen: list[RowPlan] = []
    seen: set[frozenset[str]] = set()
    for plan in changes:
        fields = frozenset(plan.changed_fields)
        if fields not in seen and len(chosen) < count:
            seen.add(fields)
            chosen.append(plan)
    rest = (plan for plan in changes if plan not in chosen)
    chosen += [next(rest) for _ in range(count - len(chosen))]
    return chosen


def validation_options(options: RunOptions, now: float | None = None) -> ValidationOptions:
    """How a run reads its sheet; `now` is when "in the past" is measured from."""
    extra = {} if now is None else {"now": now}
    return ValidationOptions(
        timezone=options.timezone, allow_irreversible=options.allow_irreversible,
        allow_live_fields=options.allow_live_fields,
        allow_past_expiry=options.allow_past_expiry, date_order=options.date_order,
        decimal_separator=options.decimal_separator, split_lists=options.split_lists,
        routing=options.routing, **extra)


def _describe(options: RunOptions) -> dict[str, object]:
    """The options worth keeping with a run (never credentials)."""
    return {"rate": options.rate, "max_rate": options.max_rate,
            "concurrency": options.concurrency,
            "skip_invalid": options.skip_invalid, "verify": options.verify,
            "canary": options.canary_size,
            "api_base": options.api_base, "account": options.account,
            "timezone": str(options.timezone),
            "sheet_name": options.sheet_name,
            "allow_irreversible": options.allow_irreversible,
            "allow_live_fields": options.allow_live_fields,
            "allow_past_expiry": options.allow_past_expiry,
            "date_order": options.date_order, "encoding": options.encoding,
            "hidden": options.hidden, "spread_merged": options.spread_merged,
            "strip_apostrophes": options.strip_apostrophes,
            "decimal_separator": options.decimal_separator,
            "split_lists": options.split_lists}


def _conflict(outcome: Outcome, why: str, fields: tuple[str, ...]) -> None:
    outcome.status, outcome.error_class = Status.CONFLICT, ErrorClass.DRIFT
    outcome.error, outcome.changed_fields = why, fields


def _fail(outcome: Outcome, error: ApiError, prefix: str = "") -> None:
    outcome.status = Status.FAILED
    outcome.error_class = error.error_class
    outcome.error = prefix + (f"{error.param}: {error}" if error.param else str(error))
    outcome.http_status = error.status
    outcome.error_type = error.type


def _all_answered(result: RunResult) -> bool:
    """Every row has its last word: none left unsent, none written and not yet read back."""
    duplicates = result.validation.skipped_rows
    return not any((o.status == Status.SKIPPED and p not in duplicates)
                   or (result.verify and o.status == Status.SENT and not o.error_class)
                   for p, o in enumerate(result.outcomes)
                   if result.positions is None or p in result.positions)


def _mark_unsent(result: RunResult) -> None:
    reason = ("not sent: the run was interrupted" if result.interrupted else
              f"not sent: {result.blocked} rows have problems against the live values (fix "
              "them, or pass --skip-invalid to send the others)" if result.blocked else
              f"not sent: {result.aborted}" if result.aborted else
              "not sent: cancelled at the confirmation" if result.cancelled else
              "not sent: dry run" if not result.sent else "not sent")
    for position, outcome in enumerate(result.outcomes):
        if result.positions is not None and position not in result.positions:
            continue  # another account's row: its own run says why
        duplicate = position in result.validation.skipped_rows
        if outcome.status == Status.SKIPPED and not duplicate:
            # Keep what planning said of the row (a warning) after why it was not sent.
            warning = outcome.error[outcome.error.find("warning:"):] if (
                "warning:" in outcome.error) else ""
            outcome.error = f"{reason}; {warning}" if warning else reason
        elif (result.verify and outcome.status == Status.SENT and not outcome.error_class
              and "not read back yet" not in outcome.error):
            # Written, then the run stopped before its read-back: say so on the row.
            stopped = ("the run was interrupted" if result.interrupted else
                       "the run stopped early" if result.aborted else "the run stopped")
            why = (f"sent and accepted, not read back yet ({stopped} first); run the same "
                   "command again to read it back")
            outcome.error = f"{why}; {outcome.error}" if outcome.error else why


def _as_given(path: Path | None, given: Path | None) -> Path | None:
    """`path` as the user wrote it (relative, say) when it is the one they gave."""
    if path is not None and given is not None and given.resolve() == path:
        return given
    return path
