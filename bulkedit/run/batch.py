"""`bulkedit batch INBOX`: the nightly job. Every sheet in a folder, oldest first.

No prompts. A lock in the inbox itself, so that two overlapping cron runs never
apply a sheet twice, whatever state folders they use (the second exits 3 naming the
first). Each sheet is applied like `bulkedit apply`, from a pinned copy of its bytes,
with its own journal entry, and filed with its results and rollback sheets in `done/`
(every row done) or `failed/` (anything else): the bytes filed are exactly the bytes
applied. A sheet saved again during its run is not applied half: the version applied is
filed, the new one stays in the inbox for the next run, and the night says so (exit 1).
An interrupted sheet stays in the inbox and resumes next time. A full disk stops the
night cleanly (exit 3): the event is logged, the night's summary written if it can be.
One JSON line per event in the log, a summary JSON per night, the worst exit code.

Before a sheet is taken it must have stopped changing (run/settle.py): a sheet still being
copied in is left for later in the night, then for the next night, and said so. Filing is
one journaled step (run/filing.py): a night killed while filing leaves a record that the
next night completes first, so nothing is stranded and nothing runs twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import stat
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from bulkedit.client.transport import Credentials
from bulkedit.core import logfmt
from bulkedit.core.charclasses import json_visible
from bulkedit.core.errors import (
    AccountKeyMissing,
    BulkEditError,
    DiskProblem,
    ExitCode,
    UsageError,
    WrongApiBase,
)
from bulkedit.core.outcomes import RunResult
from bulkedit.run import filing
from bulkedit.run.accounts import chosen_names
from bulkedit.run.config import Settings
from bulkedit.run.journal import DEFAULT_STATE_DIR, PINNED_SHEETS, Journal, JournalDamaged
from bulkedit.run.lock import RunLock
from bulkedit.run.options import RunOptions, run_options
from bulkedit.run.runner import CredentialsFor, InvalidSheet, SheetRun
from bulkedit.run.settle import Seen, observe, unsettled, writers
from bulkedit.sheets.files import (
    NEVER_TRUSTED,
    PinnedSheet,
    foreign_file,
    foreign_folder,
    own_folder,
    preflight,
    world_writable,
)
from bulkedit.sheets.report import write_issues, write_summary

SHEET_SUFFIXES = (".xlsx", ".csv", ".ods")
# In the inbox itself: one night at a time on an inbox, whatever state folder each uses.
INBOX_LOCK = Path(DEFAULT_STATE_DIR) / "batch.lock"
# How bad an exit code is, for "the worst sheet's": interrupted > aborted > bad > failed.
_SEVERITY = {ExitCode.OK: 0, ExitCode.PROBLEMS: 1, ExitCode.BAD_INPUT: 2,
             ExitCode.ABORTED: 3, ExitCode.INTERRUPTED: 4}


def worst(codes: list[int]) -> int:
    return max(codes, key=lambda c: _SEVERITY.get(c, 5), default=ExitCode.OK)


def inbox_sheets(inbox: Path, trust: bool = False, accounts: Sequence[str] = ()
                 ) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The sheets waiting in the inbox, and in its subfolders named after one of
    `accounts` (each sheet there goes through that account), oldest first (Excel's ~$
    lock files and hidden files left out), and those refused with why. Any other sheet is
    applied, a rollback or results sheet a user put there included: the night writes its
    own outputs elsewhere (WORK) and files them. The inbox is shared ground: a symbolic
    link or a special file is never read, nor (unless `trust`) another user's file or one
    others may write; the same holds for an account's subfolder itself."""
    found: list[tuple[float, str, Path]] = []
    refused: list[tuple[Path, str]] = []
    _scan(inbox, "", trust, found, refused)
    for name in accounts:
        folder = inbox / name
        try:
            status = os.lstat(folder)
        except FileNotFoundError:
            continue
        why = foreign_folder(status)
        if why is not None and (not trust or why.startswith(NEVER_TRUSTED)):
            refused.append((folder, why))
            continue
        if stat.S_ISDIR(status.st_mode):
            _scan(folder, f"{name}/", trust, found, refused)
    return [path for _, _, path in sorted(found)], sorted(refused)


def _scan(folder: Path, label: str, trust: bool, found: list[tuple[float, str, Path]],
          refused: list[tuple[Path, str]]) -> None:
    for entry in os.scandir(folder):
        path = Path(entry.path)
        if path.suffix.lower() not in SHEET_SUFFIXES or entry.name.startswith(("~$", ".")):
            continue
        status = entry.stat(follow_symlinks=False)
        why = foreign_file(status)
        if why is not None and (not trust or why.startswith(NEVER_TRUSTED)):
            refused.append((path, why))
            continue
        found.append((status.st_mtime, label + entry.name, path))


def stray_folders(inbox: Path, accounts: Sequence[str], outputs: Sequence[Path]
                  ) -> list[tuple[str, str | None]]:
    """Subfolders of the inbox holding sheets that no night applies: named after no
    configured account (nor an output folder of the night's). Each with the closest
    account's name, when one is close: a misspelt folder is said, never quietly left."""
    from bulkedit.core.schema import suggest

    skipped = {path.resolve() for path in outputs}
    stray = []
    for entry in sorted(os.scandir(inbox), key=lambda e: e.name):
        if entry.name.startswith(".") or entry.name in accounts \
                or not entry.is_dir(follow_symlinks=False) \
                or Path(entry.path).resolve() in skipped:
            continue
        try:
            holds = any(Path(inner.name).suffix.lower() in SHEET_SUFFIXES
                        and not inner.name.startswith(("~$", "."))
                        for inner in os.scandir(entry.path))
        except OSError:
            continue
        if holds:
            stray.append((entry.name, suggest(entry.name, accounts)))
    return stray


WORK = Path(DEFAULT_STATE_DIR) / "work"  # in the inbox: each sheet's outputs until filed
FILINGS = Path(DEFAULT_STATE_DIR) / filing.RECORDS  # in the inbox: the filing records
FILING = filing.HOLDING  # a sheet being filed: `.NAME.filing`


def recover_filing(inbox: Path, accounts: Sequence[str] = ()) -> list[Path]:
    """Sheets an older bulkedit's killed night left half-filed, with no record (renamed
    aside, not yet moved): back in their folder (the inbox, or an account's subfolder)
    under their name, or a free one beside it."""
    recovered = []
    folders = [inbox, *(inbox / name for name in accounts
                        if (inbox / name).is_dir() and not (inbox / name).is_symlink())]
    for folder in folders:
        for holding in sorted(folder.glob(f".*{FILING}")):
            name = holding.name[1:-len(FILING)]
            if not name or not holding.is_file():
                continue
            target = folder / name if not (folder / name).exists() else \
                filing.free_name(folder, name)
            os.replace(holding, target)
            recovered.append(target)
    return recovered


class JsonLog:
    def __init__(self, path: Path | None, echo: TextIO | None, *,
                 stream: TextIO | None = None, only_errors: bool = False):
        """JSON lines appended to `path`, or written to `stream` (`--log -`: stdout);
        one human line per event to `echo` (every event, or with `only_errors` those
        that carry an error or a non-zero exit code: --quiet)."""
        self.path = path
        self.echo = echo
        self.stream = stream
        self.only_errors = only_errors
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def __call__(self, event: str, **facts: Any) -> None:
        record = {"time": datetime.now(UTC).isoformat(), "event": event, **facts}
        # C1, bidi and zero-width characters as JSON's own \uNNNN escapes: the same value
        # to a JSON reader, nothing raw for a person tailing the log.
        line = json_visible(json.dumps(record, ensure_ascii=False, default=str)) + "\n"
        if self.path is not None:
            try:
                with self.path.open("a", encoding="utf-8") as handle:
                    handle.write(line)
            except OSError as exc:  # a full disk must not hide the night's events
                sys.stderr.write(f"bulkedit: cannot write the log {self.path} "
                                 f"({(exc.strerror or str(exc)).lower()}): {line}")
        if self.stream is not None:
            self.stream.write(line)
            self.stream.flush()
        if self.only_errors and not (facts.get("error") or facts.get("exit_code")):
            return
        if self.echo is not None:
            # One logfmt line per event (core/logfmt.py), whatever a value holds (a file name
            # with a newline); the run's whole summary is in the file, not on the terminal.
            shown = {key: value for key, value in record.items() if key != "summary"}
            self.echo.write(logfmt.line(shown) + "\n")
            self.echo.flush()


@dataclass
class BatchFolders:
    inbox: Path
    done: Path
    failed: Path
    state: Path
    summaries: Path

    @classmethod
    def of(cls, settings: Settings, inbox: Path) -> BatchFolders:
        if not inbox.is_dir():
            raise UsageError(f"{inbox}: no such folder; give the inbox of sheets to apply")
        folders = cls(inbox, settings.done or inbox / "done", settings.failed or inbox / "failed",
                      settings.state_dir or inbox / DEFAULT_STATE_DIR,
                      settings.summaries or inbox / "summaries")
        named = (("done folder", folders.done), ("failed folder", folders.failed),
                 ("state folder", folders.state), ("summaries folder", folders.summaries))
        # Never a link, never another user's: the inbox is shared ground (SECURITY.md).
        own_folder(inbox / DEFAULT_STATE_DIR, "inbox's own folder")
        own_folder(inbox / WORK, "work folder")
        for what, folder in named:
            own_folder(folder, what, private=what == "state folder")
        # Every folder the night writes in, checked before the first sheet is touched.
        preflight([(what, folder / ".bulkedit-check") for what, folder in
                   (("inbox", folders.inbox), *named)])
        return folders


Sleep = Callable[[float], Awaitable[None]]


class Batch:
    def __init__(self, settings: Settings, inbox: Path,
                 credentials: Credentials | CredentialsFor,
                 choices: Mapping[str, Any], log: JsonLog, trust: bool = False, *,
                 sleep: Sleep = asyncio.sleep, clock: Callable[[], float] = time.time,
                 fault: filing.Fault = filing.kill_at,
                 detail: Callable[[str], None] | None = None):
        """`choices`: what the user said for every sheet of the night (run_options' names,
        None where nothing was said); bulkedit.toml and the engine's defaults do the rest.
        `sleep` and `clock` wait for a sheet to settle; `fault` is called at each step of
        a filing (tests kill the night there); `detail` hears each retry and throttled
        answer when the options are verbose (--verbose)."""
        self.settings = settings
        self.trust = trust  # apply other users' files and files others may write
        self.folders = BatchFolders.of(settings, inbox)
        self.credentials = credentials
        self.choices = dict(choices)
        self.settle = run_options(settings, **self.choices).settle
        self.log = log
        self.sleep, self.clock, self.fault = sleep, clock, fault
        self.detail = detail
        self.records = self.folders.inbox / FILINGS
        # The inbox's subfolders read as accounts' (inbox/brand_fr/*.csv go through
        # brand_fr): every configured account's, or those --account names.
        self.chosen = chosen_names(self.choices.get("account"), os.environ,
                                   tuple(settings.accounts)) if settings.accounts else ()
        self.accounts: tuple[str, ...] = tuple(
            name for name in settings.accounts if not self.chosen or name in self.chosen)
        self._current: SheetRun | None = None
        self._stopping = False

    def stop(self) -> None:
        self._stopping = True
        if self._current is not None:
            self._current.stop()

    def run(self) -> int:
        with RunLock(self.folders.inbox / INBOX_LOCK, f"the inbox {self.folders.inbox}"):
            return asyncio.run(self._night())

    async def _night(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.stop)
        started = time.time()
        report: list[dict[str, Any]] = self._complete_filings()
        for recovered in recover_filing(self.folders.inbox, self.accounts):
            self.log("sheet_recovered", sheet=self._label(recovered),
                     note="a night stopped while filing it; it is back in the inbox")
        sheets, refused = inbox_sheets(self.folders.inbox, self.trust, self.accounts)
        self.log("batch_start", inbox=str(self.folders.inbox), sheets=len(sheets))
        if (shared := world_writable(self.folders.inbox)) is not None:
            self.log("inbox_warning", warning=shared)
        if self.settings.accounts:
            self._say_stray_folders()
        for path, why in refused:  # left where they are, said every night until dealt with
            what = "folder" if path.parent == self.folders.inbox and path.name in \
                self.accounts else "sheet"
            self.log("sheet_refused", sheet=self._label(path), exit_code=ExitCode.BAD_INPUT,
                     error=f"{why}; copy the {what} itself in, as the user bulkedit runs as"
                           + ("" if why.startswith(NEVER_TRUSTED)
                              else ", or pass --trust-inbox"))
            report.append({"sheet": self._label(path), "exit_code": ExitCode.BAD_INPUT,
                           "error": why})
        # Only sheets that have stopped changing; the others are looked at again once the
        # ready ones are done (later in the night), and left for the next night if still
        # being written.
        looks, verdicts = self._look(sheets, None)
        unsure = [sheet for sheet in sheets if verdicts[sheet] and looks[sheet] is not None]
        if unsure:  # changed a moment ago, or held open: one more look, a settle later
            await self.sleep(self.settle)
            self._relook(unsure, looks, verdicts)
        looked = self.clock()
        waiting = [sheet for sheet in sheets if verdicts[sheet] and looks[sheet] is not None]
        stop = await self._apply([(sheet, looks[sheet]) for sheet in sheets
                                  if verdicts[sheet] is None], report)
        if waiting and not stop:
            await self.sleep(max(0.0, self.settle - (self.clock() - looked)))
            for sheet in waiting:
                self.log("sheet_waited", sheet=self._label(sheet), note=f"{verdicts[sheet]}; "
                         "looked at again after the other sheets")
            self._relook(waiting, looks, verdicts)
            stop = await self._apply([(sheet, looks[sheet]) for sheet in waiting
                                      if verdicts[sheet] is None], report)
            for sheet in waiting:
                why = verdicts[sheet]
                if stop or why is None or looks[sheet] is None:
                    continue
                self.log("sheet_not_settled", sheet=self._label(sheet), exit_code=ExitCode.PROBLEMS,
                         error=f"{why}: left in the inbox for the next night, untouched")
                report.append({"sheet": self._label(sheet), "exit_code": ExitCode.PROBLEMS,
                               "error": why, "left_in_inbox": True})
        codes = [entry["exit_code"] for entry in report]
        code = ExitCode.INTERRUPTED if self._stopping else worst(codes)
        summary = {"started": datetime.fromtimestamp(started, UTC).isoformat(),
                   "finished": datetime.now(UTC).isoformat(), "inbox": str(self.folders.inbox),
                   "sheets": report, "exit_code": code}
        path = self.folders.summaries / f"batch-{time.strftime('%Y%m%d-%H%M%S')}.json"
        try:
            write_summary(path, summary)
        except DiskProblem as problem:
            self.log("summary_not_written", error=str(problem))
            path = None
        self.log("batch_done", sheets=len(report), exit_code=code,
                 summary_file=str(path) if path else None)
        return code

    def _label(self, sheet: Path) -> str:
        """How the log and the summary name a sheet: its name, after its account's
        subfolder when it is in one (`brand_fr/edits.csv`)."""
        account = self._folder_account(sheet)
        return f"{account}/{sheet.name}" if account is not None else sheet.name

    def _folder_account(self, sheet: Path) -> str | None:
        """The account of the inbox subfolder the sheet is in (None: the inbox itself)."""
        folder = sheet.parent
        if folder != self.folders.inbox and folder.parent == self.folders.inbox \
                and folder.name in self.accounts:
            return folder.name
        return None

    def _say_stray_folders(self) -> None:
        outputs = [self.folders.done, self.folders.failed, self.folders.summaries,
                   self.folders.state]
        for name, near in stray_folders(self.folders.inbox, self.accounts, outputs):
            given = self.chosen
            why = (f"not among the accounts given (--account {' --account '.join(given)})"
                   if given and name in self.settings.accounts
                   else "named after no configured account")
            hint = f" (did you mean {near}/?)" if near and near != name else ""
            self.log("inbox_warning", folder=f"{name}/",
                     warning=f"the folder {name}/ holds sheets and is {why}{hint}: its "
                             "sheets are not applied; name the folder after the account "
                             "they go through, or move them into the inbox")

    async def _apply(self, sheets: list[tuple[Path, Seen]], report: list[dict[str, Any]]
                     ) -> bool:
        """Apply and file each sheet in turn; True when the night must stop (a signal,
        a full disk)."""
        for sheet, seen in sheets:
            if self._stopping:
                return True
            try:
                report.append(await self._one(sheet, seen))
            except WrongApiBase as wrong:
                # Not this sheet's fault, and the same for every sheet after it: said once,
                # and every sheet stays in the inbox, untouched, for a night with the right
                # address (each would otherwise be filed in failed/ with the same line).
                left = [self._label(other) for other, _ in sheets[sheets.index((sheet, seen)):]]
                self.log("api_base_wrong", exit_code=wrong.exit_code, error=str(wrong),
                         left_in_inbox=left)
                report.extend({"sheet": name, "exit_code": wrong.exit_code,
                               "error": str(wrong), "left_in_inbox": True} for name in left)
                return True
            except DiskProblem as problem:  # no sheet after this one can do better
                self.log("disk_problem", sheet=self._label(sheet), exit_code=problem.exit_code,
                         error=str(problem))
                report.append({"sheet": self._label(sheet), "exit_code": problem.exit_code,
                               "error": str(problem)})
                return True
        return self._stopping

    def _look(self, sheets: list[Path], earlier: Mapping[Path, Seen | None] | None
              ) -> tuple[dict[Path, Seen | None], dict[Path, str | None]]:
        """How each sheet is now, and why it may not be taken yet (None: it may)."""
        looks = {sheet: observe(sheet) for sheet in sheets}
        busy = writers(seen for seen in looks.values() if seen is not None)
        now = self.clock()
        return looks, {sheet: unsettled(
            None if earlier is None else earlier.get(sheet), seen,
            busy.get((seen.device, seen.inode), []) if seen is not None else [], now,
            self.settle) for sheet, seen in looks.items()}

    def _relook(self, sheets: list[Path], looks: dict[Path, Seen | None],
                verdicts: dict[Path, str | None]) -> None:
        again, why = self._look(sheets, looks)
        looks.update(again)
        verdicts.update(why)

    def _complete_filings(self) -> list[dict[str, Any]]:
        """Filings a killed night left half done, completed from their records before
        anything else: the true results filed, nothing left in the work folder, nothing
        run again. Said in the log and in the night's summary."""
        report = []
        for record in filing.pending(self.records):
            was = record.state
            try:
                filed = filing.carry_out(record, self.records, self.fault)
            except (OSError, BulkEditError) as exc:  # the record stays for the next night
                why = str(exc) if isinstance(exc, BulkEditError) else \
                    (exc.strerror or str(exc)).lower()
                self.log("filing_not_completed", sheet=self._label(Path(record.sheet)),
                         exit_code=ExitCode.ABORTED, error=f"{why}; the next night tries "
                         "again from its record")
                report.append({"sheet": self._label(Path(record.sheet)),
                               "exit_code": ExitCode.ABORTED, "error": why})
                continue
            if was == "filed":
                continue  # it was all done; only the record was left
            self._follow(record)
            entry = self._settled_entry(record.entry, filed, Path(record.target))
            entry["completed_filing"] = True
            self.log("filing_completed", sheet=self._label(Path(record.sheet)),
                     exit_code=entry["exit_code"], moved_to=record.target,
                     files=[str(path) for path in filed.moved], missing=filed.missing,
                     note="a night stopped while filing this sheet; its filing was "
                          "completed from the record (the sheet is not run again)")
            report.append(entry)
        return report

    def _settled_entry(self, entry: dict[str, Any], filed: filing.Filed, target: Path
                       ) -> dict[str, Any]:
        """The night's entry for a filed sheet, with what filing found."""
        entry = {**entry, "saved_again": filed.saved_again}
        if filed.missing:
            entry["missing"] = filed.missing
        if filed.saved_again:
            self.log("sheet_saved_again", sheet=entry["sheet"], exit_code=ExitCode.PROBLEMS,
                     error=f"the sheet {filed.why or 'was saved again'} during its run: the "
                           "version applied "
                           f"is filed in {target}, the new one stays in the inbox for the "
                           "next run")
            entry["exit_code"] = worst([entry["exit_code"], ExitCode.PROBLEMS])
        return entry

    def _file(self, sheet: Path, pinned: PinnedSheet | None, target: Path,
              outputs: list[Path], work: Path, entry: dict[str, Any]) -> dict[str, Any]:
        """File the sheet with its outputs as one journaled step (run/filing.py): the
        bytes the run applied (its pinned copy), or the file itself when it was never
        read. The record goes to disk before the first move."""
        first = (filing.stage(pinned.path, pinned.digest, work, sheet.name)
                 if pinned is not None else sheet)
        facts = entry.get("summary") or {}
        planned = filing.plan(sheet, target, [first, *(o for o in outputs if o.exists())],
                              pinned.digest if pinned is not None else None, work, entry,
                              tag=facts.get("run"))
        # The summaries say where the files are once filed, not where they were written.
        if facts:
            planned.entry = entry = {**entry, "summary": _filed_paths(facts, planned.moves)}
            for source, _ in planned.moves:
                if Path(source).name.endswith(".summary.json"):
                    write_summary(Path(source), entry["summary"])
        filing.record(self.records, planned)
        self.fault("recorded")
        filed = filing.carry_out(planned, self.records, self.fault)
        self._follow(planned)
        return self._settled_entry(entry, filed, target)

    def _follow(self, planned: filing.Filing) -> None:
        """The journal follows the run's results and rollback sheets into done/ or failed/,
        so `bulkedit runs` says where they are."""
        try:
            journal = Journal(self.folders.state)
        except BulkEditError:
            return  # a journal that cannot be opened is told when a sheet needs it
        try:
            for source, destination in planned.moves:
                journal.moved(Path(source), Path(destination))
        finally:
            journal.close()

    def _applied_not_filed(self, sheet: Path, summary_path: Path
                           ) -> tuple[dict[str, Any], PinnedSheet] | None:
        """The summary and pinned copy of a run of this sheet that the journal says ended
        (not interrupted) but whose outputs still wait in the work folder: a night killed
        after the run and before its filing record. None otherwise."""
        try:
            facts = json.loads(summary_path.read_text(encoding="utf-8"))
            journal = Journal(self.folders.state)
        except (OSError, ValueError, BulkEditError):
            return None
        try:
            record = journal.run(str(facts["run"]))
        except (BulkEditError, KeyError, TypeError):
            return None
        finally:
            journal.close()
        if record.state not in ("finished", "aborted") or record.sheet != str(sheet.resolve()) \
                or facts.get("exit_code") == ExitCode.INTERRUPTED:
            return None
        pins = sorted((self.folders.state / PINNED_SHEETS).glob(f"{record.sheet_sha256}*"))
        if not pins:
            return None
        return facts, PinnedSheet(sheet.name, record.sheet, pins[0], record.sheet_sha256)

    async def _one(self, sheet: Path, seen: Seen) -> dict[str, Any]:
        folders = self.folders
        account = self._folder_account(sheet)  # inbox/brand_fr/: its rows go through it
        label = self._label(sheet)
        # Written in the night's work folder, never in the inbox, then filed with the sheet;
        # an account's subfolder is mirrored in done/ and failed/ (and in the work folder,
        # so two accounts' sheets of the same name never share one).
        work = own_folder(folders.inbox / WORK / (Path(account) / sheet.name if account else
                                                  Path(sheet.name)), "work folder")
        done, failed = ((own_folder(folders.done / account, "done folder", private=False),
                         own_folder(folders.failed / account, "failed folder", private=False))
                        if account else (folders.done, folders.failed))
        results = work / f"{sheet.stem}.results{_kind(sheet)}"
        rollback = work / f"{sheet.stem}.rollback{_kind(sheet)}"
        summary_path = work / f"{sheet.stem}.summary.json"
        applied = self._applied_not_filed(sheet, summary_path)
        if applied is not None:  # a night died between the run's end and its filing
            facts, pinned = applied
            code = facts["exit_code"]
            target = done if code == 0 else failed
            entry = self._file(sheet, pinned, target, [results, rollback, summary_path], work,
                               {"sheet": label, "exit_code": code,
                                "moved_to": str(target), "summary": facts,
                                "completed_filing": True})
            self.log("filing_completed", sheet=label, exit_code=entry["exit_code"],
                     moved_to=str(target), note="a night stopped after applying this sheet "
                     f"(run {facts['run']}) and before filing it; its results are filed now "
                     "(the sheet is not run again)")
            return entry
        self.log("sheet_start", sheet=label)
        # A shared inbox: the sheet is checked on the open file (no link, no one else's).
        options = run_options(self.settings, **self.choices, sheet=sheet,
                              state_dir=folders.state, from_inbox=True,
                              trust_inbox=self.trust, results=results, rollback=rollback,
                              summary_json=summary_path, inbox_account=account)
        run = SheetRun(options, self.credentials, on_detail=self.detail)
        self._current = run
        try:
            result = await run.run()
        except InvalidSheet as invalid:
            problems = work / f"{sheet.stem}.problems.csv"
            write_issues(problems, invalid.validation.issues)
            self.log("sheet_invalid", sheet=label, exit_code=invalid.exit_code,
                     problems=len(invalid.validation.errors), moved_to=str(failed))
            return self._file(sheet, run.pinned, failed, [problems], work,
                              {"sheet": label, "exit_code": invalid.exit_code,
                               "moved_to": str(failed)})
        except (DiskProblem, WrongApiBase):
            raise
        except BulkEditError as error:
            # A sheet that cannot be used goes to failed/; a damaged journal is not the
            # sheet's fault: it waits in the inbox until the journal is dealt with; nor is
            # a sheet that changed as it was read (still being written): it waits too.
            # Nor is an account's key missing from the environment (the configuration's).
            filed = error.exit_code == ExitCode.BAD_INPUT and not isinstance(
                error, JournalDamaged | AccountKeyMissing)
            if filed and run.pinned is None and observe(sheet) != seen:
                self.log("sheet_not_settled", sheet=label, exit_code=ExitCode.PROBLEMS,
                         error="it changed while it was being read: left in the inbox for "
                               "the next night, untouched")
                return {"sheet": label, "exit_code": ExitCode.PROBLEMS,
                        "error": str(error), "left_in_inbox": True}
            self.log("sheet_error", sheet=label, exit_code=error.exit_code,
                     error=str(error))
            entry = {"sheet": label, "exit_code": error.exit_code, "error": str(error),
                     "moved_to": str(failed) if filed else None}
            if filed:
                return self._file(sheet, run.pinned, failed, [], work, entry)
            return entry
        finally:
            self._current = None
        self.fault("applied")
        facts = result.summary()  # the run wrote it, with the results and rollback sheets
        code = result.exit_code
        named = self._log_accounts(label, options, result, facts)
        if code == ExitCode.INTERRUPTED:  # stays in the inbox; the journal resumes it next time
            self.log("sheet_interrupted", sheet=label, **named, exit_code=code,
                     counts=facts["counts"])
            return {"sheet": label, "exit_code": code, "summary": facts}
        target = done if code == 0 else failed
        entry = self._file(sheet, run.pinned, target, [results, rollback, summary_path], work,
                           {"sheet": label, "exit_code": code, "moved_to": str(target),
                            "summary": facts})
        # Named for where the sheet went: done/ (every row done) or failed/.
        facts = entry["summary"]  # with the paths the files were filed under
        self.log("sheet_done" if target == done else "sheet_failed",
                 sheet=label, **named, exit_code=entry["exit_code"], run=facts.get("run"),
                 counts=facts["counts"], moved_to=str(target), results=facts.get("results"),
                 rollback=facts.get("rollback"), summary=facts)
        return entry


    def _log_accounts(self, label: str, options: RunOptions, result: RunResult,
                      facts: dict[str, Any]) -> dict[str, str]:
        """With named accounts, the sheet's lines name them (`account`: one name, or the
        names, comma-separated); a sheet routed to several gets a line per account first,
        saying what it did and why it stopped."""
        if options.accounts is None or not options.accounts.named:
            return {}
        blocks = facts.get("accounts") or {}
        for name, block in blocks.items():
            self.log("account_done" if block["exit_code"] == 0 else "account_failed",
                     sheet=label, account=name, exit_code=block["exit_code"],
                     run=block["run"], counts=block["counts"], writes=block["writes"],
                     stopped=block["stopped"])
        return {"account": ",".join(blocks) if blocks else result.account}


def _kind(sheet: Path) -> str:
    return ".csv" if sheet.suffix.lower() == ".csv" else ".xlsx"


def _filed_paths(facts: dict[str, Any], moves: list[tuple[str, str]]) -> dict[str, Any]:
    """A run's summary with its results and rollback paths (written in the work folder)
    replaced by the names they are filed under, and the summary's own."""
    where = {str(Path(source).resolve()): destination for source, destination in moves}
    filed = dict(facts)
    for key in ("results", "rollback"):
        if filed.get(key):
            filed[key] = where.get(str(Path(filed[key]).resolve()), filed[key])
    if moves:  # the staged sheet comes first: the bytes applied, as filed
        filed["sheet_filed"] = moves[0][1]
    for source, destination in moves:
        if Path(source).name.endswith(".summary.json"):
            filed["summary_file"] = destination
    return filed
