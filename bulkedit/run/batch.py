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
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import stat
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from bulkedit.client.transport import Credentials
from bulkedit.core.charclasses import visible
from bulkedit.core.errors import BulkEditError, DiskProblem, ExitCode, UsageError
from bulkedit.run.config import Settings
from bulkedit.run.journal import DEFAULT_STATE_DIR, JournalDamaged
from bulkedit.run.lock import RunLock
from bulkedit.run.options import run_options
from bulkedit.run.runner import InvalidSheet, SheetRun
from bulkedit.run.savedplan import sheet_digest
from bulkedit.sheets.files import (
    PinnedSheet,
    atomic_path,
    foreign_file,
    own_folder,
    preflight,
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


def inbox_sheets(inbox: Path, trust: bool = False) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The sheets waiting in the inbox, oldest first (Excel's ~$ lock files and hidden
    files left out), and those refused with why. Any other sheet is applied, a rollback or
    results sheet a user put there included: the night writes its own outputs elsewhere
    (WORK) and files them. The inbox is shared ground: a symbolic link or a special file
    is never read, nor (unless `trust`) another user's file or one others may write."""
    found: list[tuple[float, str, Path]] = []
    refused: list[tuple[Path, str]] = []
    for entry in os.scandir(inbox):
        path = Path(entry.path)
        if path.suffix.lower() not in SHEET_SUFFIXES or entry.name.startswith(("~$", ".")):
            continue
        status = entry.stat(follow_symlinks=False)
        why = foreign_file(status)
        if why is not None and (not trust or why.startswith(("a symbolic", "not a"))):
            refused.append((path, why))
            continue
        found.append((status.st_mtime, entry.name, path))
    return [path for _, _, path in sorted(found)], sorted(refused)


WORK = Path(DEFAULT_STATE_DIR) / "work"  # in the inbox: each sheet's outputs until filed
FILING = ".filing"  # a sheet being filed: `.NAME.filing` (put back if the night died)


def recover_filing(inbox: Path) -> list[Path]:
    """Sheets a killed night left half-filed (renamed aside, not yet moved): back in the
    inbox under their name, or a free one beside it."""
    recovered = []
    for holding in sorted(inbox.glob(f".*{FILING}")):
        name = holding.name[1:-len(FILING)]
        if not name or not holding.is_file():
            continue
        target = inbox / name if not (inbox / name).exists() else _free_name(inbox, name)
        os.replace(holding, target)
        recovered.append(target)
    return recovered


class JsonLog:
    def __init__(self, path: Path | None, echo: TextIO | None):
        self.path = path
        self.echo = echo
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def __call__(self, event: str, **facts: Any) -> None:
        record = {"time": datetime.now(UTC).isoformat(), "event": event, **facts}
        # C1, bidi and zero-width characters as JSON's own \uNNNN escapes: the same value
        # to a JSON reader, nothing raw for a person tailing the log.
        line = visible(json.dumps(record, ensure_ascii=False, default=str)) + "\n"
        if self.path is not None:
            try:
                with self.path.open("a", encoding="utf-8") as handle:
                    handle.write(line)
            except OSError as exc:  # a full disk must not hide the night's events
                sys.stderr.write(f"bulkedit: cannot write the log {self.path} "
                                 f"({(exc.strerror or str(exc)).lower()}): {line}")
        if self.echo is not None:
            # One line per event, whatever a value holds (a file name with a newline).
            details = " ".join(f"{k}={visible(str(v)).replace(chr(10), chr(92) + 'n')}"
                               for k, v in facts.items() if k != "summary")
            self.echo.write(f"{event} {details}\n")
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


def _free_name(folder: Path, name: str) -> Path:
    """`folder/name`, or a dated (and if need be numbered) variant no file has yet."""
    target = folder / name
    stamp = time.strftime("%Y%m%d-%H%M%S")
    number = 1
    while target.exists() or target.is_symlink():
        extra = "" if number == 1 else f"-{number}"
        target = folder / f"{Path(name).stem}.{stamp}{extra}{Path(name).suffix}"
        number += 1
    return target


def _move(files: list[Path], folder: Path) -> list[Path]:
    """Move files into `folder`, never overwriting an earlier night's file (the night holds
    the inbox lock, so no one else files there meanwhile)."""
    moved = []
    for source in files:
        if not source.exists():
            continue
        target = _free_name(folder, source.name)
        shutil.move(str(source), target)
        moved.append(target)
    return moved


def _file_sheet(sheet: Path, pinned: PinnedSheet | None, folder: Path) -> bool:
    """File into `folder` exactly the bytes the run applied (the pinned copy); the sheet
    leaves the inbox only if it still holds those bytes. True when it was saved again
    during the run: that newer version stays in the inbox for the next run."""
    if pinned is None:  # the run never read it (a lock, the journal): it stays as it is
        return False
    holding = sheet.with_name(f".{sheet.name}{FILING}")
    try:
        os.replace(sheet, holding)  # from here a save makes a new file in the inbox
    except FileNotFoundError:
        holding = None
    # Hashed only if it is still a plain file of the user's: a link to /dev/zero or a pipe
    # swapped in meanwhile would never end.
    plain = holding is not None and stat.S_ISREG(os.lstat(holding).st_mode)
    if holding is not None and plain and sheet_digest(holding) == pinned.digest:
        shutil.move(str(holding), _free_name(folder, sheet.name))
        return False
    with atomic_path(_free_name(folder, sheet.name)) as copy:
        shutil.copyfile(pinned.path, copy)
    if holding is not None:  # the newer version goes back, or beside a newer still
        os.replace(holding, sheet if not sheet.exists() else _free_name(sheet.parent,
                                                                         sheet.name))
    return True


class Batch:
    def __init__(self, settings: Settings, inbox: Path, credentials: Credentials,
                 choices: Mapping[str, Any], log: JsonLog, trust: bool = False):
        """`choices`: what the user said for every sheet of the night (run_options' names,
        None where nothing was said); bulkedit.toml and the engine's defaults do the rest."""
        self.settings = settings
        self.trust = trust  # apply other users' files and files others may write
        self.folders = BatchFolders.of(settings, inbox)
        self.credentials = credentials
        self.choices = dict(choices)
        self.log = log
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
        for recovered in recover_filing(self.folders.inbox):
            self.log("sheet_recovered", sheet=recovered.name,
                     note="a night stopped while filing it; it is back in the inbox")
        sheets, refused = inbox_sheets(self.folders.inbox, self.trust)
        self.log("batch_start", inbox=str(self.folders.inbox), sheets=len(sheets))
        report: list[dict[str, Any]] = []
        for path, why in refused:  # left where they are, said every night until dealt with
            self.log("sheet_refused", sheet=path.name, exit_code=ExitCode.BAD_INPUT,
                     error=f"{why}; copy the sheet itself in, as the user bulkedit runs as"
                           + ("" if why.startswith(("a symbolic", "not a"))
                              else ", or pass --trust-inbox"))
            report.append({"sheet": path.name, "exit_code": ExitCode.BAD_INPUT,
                           "error": why})
        for sheet in sheets:
            if self._stopping:
                break
            try:
                report.append(await self._one(sheet))
            except DiskProblem as problem:  # no sheet after this one can do better
                self.log("disk_problem", sheet=sheet.name, exit_code=problem.exit_code,
                         error=str(problem))
                report.append({"sheet": sheet.name, "exit_code": problem.exit_code,
                               "error": str(problem)})
                break
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

    async def _one(self, sheet: Path) -> dict[str, Any]:
        folders = self.folders
        # Written in the night's work folder, never in the inbox, then filed with the sheet.
        work = own_folder(folders.inbox / WORK / sheet.name, "work folder")
        results = work / f"{sheet.stem}.results{_kind(sheet)}"
        rollback = work / f"{sheet.stem}.rollback{_kind(sheet)}"
        summary_path = work / f"{sheet.stem}.summary.json"
        self.log("sheet_start", sheet=sheet.name)
        # A shared inbox: the sheet is checked on the open file (no link, no one else's).
        options = run_options(self.settings, **self.choices, sheet=sheet,
                              state_dir=folders.state, from_inbox=True,
                              trust_inbox=self.trust, results=results, rollback=rollback,
                              summary_json=summary_path)
        run = SheetRun(options, self.credentials)
        self._current = run
        try:
            result = await run.run()
        except InvalidSheet as invalid:
            problems = work / f"{sheet.stem}.problems.csv"
            write_issues(problems, invalid.validation.issues)
            changed = _file_sheet(sheet, run.pinned, folders.failed)
            _move([problems], folders.failed)
            with contextlib.suppress(OSError):
                work.rmdir()
            self.log("sheet_invalid", sheet=sheet.name, exit_code=invalid.exit_code,
                     problems=len(invalid.validation.errors), moved_to=str(folders.failed))
            return {"sheet": sheet.name, "exit_code": invalid.exit_code,
                    "moved_to": str(folders.failed), "saved_again": changed}
        except DiskProblem:
            raise
        except BulkEditError as error:
            # A sheet that cannot be used goes to failed/; a damaged journal is not the
            # sheet's fault: it waits in the inbox until the journal is dealt with.
            filed = error.exit_code == ExitCode.BAD_INPUT and not isinstance(error,
                                                                            JournalDamaged)
            if filed and run.pinned is not None:
                _file_sheet(sheet, run.pinned, folders.failed)
            elif filed:
                _move([sheet], folders.failed)
            self.log("sheet_error", sheet=sheet.name, exit_code=error.exit_code,
                     error=str(error))
            return {"sheet": sheet.name, "exit_code": error.exit_code, "error": str(error),
                    "moved_to": str(folders.failed) if filed else None}
        finally:
            self._current = None
        facts = result.summary()  # the run wrote it, with the results and rollback sheets
        code = result.exit_code
        if code == ExitCode.INTERRUPTED:  # stays in the inbox; the journal resumes it next time
            self.log("sheet_interrupted", sheet=sheet.name, exit_code=code,
                     counts=facts["counts"])
            return {"sheet": sheet.name, "exit_code": code, "summary": facts}
        target = folders.done if code == 0 else folders.failed
        changed = _file_sheet(sheet, run.pinned, target)
        _move([results, rollback, summary_path], target)
        with contextlib.suppress(OSError):
            work.rmdir()
        if changed:
            self.log("sheet_saved_again", sheet=sheet.name, exit_code=ExitCode.PROBLEMS,
                     error="the sheet was saved again during its run: the version applied "
                           f"is filed in {target}, the new one stays in the inbox for the "
                           "next run")
            code = worst([code, ExitCode.PROBLEMS])
        self.log("sheet_done", sheet=sheet.name, exit_code=code, counts=facts["counts"],
                 moved_to=str(target), summary=facts)
        return {"sheet": sheet.name, "exit_code": code, "moved_to": str(target),
                "summary": facts, "saved_again": changed}


def _kind(sheet: Path) -> str:
    return ".csv" if sheet.suffix.lower() == ".csv" else ".xlsx"
