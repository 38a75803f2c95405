"""`bulkedit batch INBOX`: the nightly job. Every sheet in a folder, oldest first.

No prompts. A lock on the inbox, so that two overlapping cron runs never apply a
sheet twice (the second exits 3 naming the first). Each sheet is applied like
`bulkedit apply`, with its own journal entry, and moved with its results and
rollback sheets to `done/` (every row done) or `failed/` (anything else); an
interrupted sheet stays in the inbox and resumes next time. One JSON line per
event in the log, a summary JSON per night, and the worst sheet's exit code.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from bulkedit.client.transport import Credentials
from bulkedit.core.charclasses import visible
from bulkedit.core.errors import BulkEditError, ExitCode, UsageError
from bulkedit.run.config import Settings
from bulkedit.run.journal import DEFAULT_STATE_DIR
from bulkedit.run.lock import RunLock, lock_path
from bulkedit.run.runner import InvalidSheet, RunOptions, SheetRun
from bulkedit.sheets.report import write_issues, write_summary

SHEET_SUFFIXES = (".xlsx", ".csv", ".ods")
# How bad an exit code is, for "the worst sheet's": interrupted > aborted > bad > failed.
_SEVERITY = {ExitCode.OK: 0, ExitCode.PROBLEMS: 1, ExitCode.BAD_INPUT: 2,
             ExitCode.ABORTED: 3, ExitCode.INTERRUPTED: 4}


def worst(codes: list[int]) -> int:
    return max(codes, key=lambda c: _SEVERITY.get(c, 5), default=ExitCode.OK)


def inbox_sheets(inbox: Path) -> list[Path]:
    """The sheets waiting in the inbox, oldest first (Excel's ~$ lock files left out)."""
    found = [p for p in inbox.iterdir() if p.is_file() and p.suffix.lower() in SHEET_SUFFIXES
             and not p.name.startswith(("~$", ".")) and ".results." not in p.name
             and ".rollback." not in p.name]
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))


class JsonLog:
    def __init__(self, path: Path | None, echo: TextIO | None):
        self.path = path
        self.echo = echo
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def __call__(self, event: str, **facts: Any) -> None:
        record = {"time": datetime.now(UTC).isoformat(), "event": event, **facts}
        if self.path is not None:
            with self.path.open("a", encoding="utf-8") as handle:
                # C1, bidi and zero-width characters as JSON's own \uNNNN escapes: the
                # same value to a JSON reader, nothing raw for a person tailing the log.
                handle.write(visible(json.dumps(record, ensure_ascii=False, default=str))
                             + "\n")
        if self.echo is not None:
            details = " ".join(f"{k}={v}" for k, v in facts.items() if k != "summary")
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
        for folder in (folders.done, folders.failed, folders.state, folders.summaries):
            folder.mkdir(parents=True, exist_ok=True)
        return folders


def _move(files: list[Path], folder: Path) -> list[Path]:
    """Move files into `folder`, never overwriting an earlier night's file."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    moved = []
    for source in files:
        if not source.exists():
            continue
        target = folder / source.name
        if target.exists():
            target = folder / f"{source.stem}.{stamp}{source.suffix}"
        shutil.move(str(source), target)
        moved.append(target)
    return moved


class Batch:
    def __init__(self, settings: Settings, inbox: Path, credentials: Credentials,
                 options: Callable[[Path, Settings], RunOptions], log: JsonLog):
        self.settings = settings
        self.folders = BatchFolders.of(settings, inbox)
        self.credentials = credentials
        self.options = options
        self.log = log
        self._current: SheetRun | None = None
        self._stopping = False

    def stop(self) -> None:
        self._stopping = True
        if self._current is not None:
            self._current.stop()

    def run(self) -> int:
        name = f"batch:{self.folders.inbox.resolve()}"
        with RunLock(lock_path(self.folders.state, name), f"the inbox {self.folders.inbox}"):
            return asyncio.run(self._night())

    async def _night(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.stop)
        started = time.time()
        sheets = inbox_sheets(self.folders.inbox)
        self.log("batch_start", inbox=str(self.folders.inbox), sheets=len(sheets))
        report: list[dict[str, Any]] = []
        for sheet in sheets:
            if self._stopping:
                break
            report.append(await self._one(sheet))
        codes = [entry["exit_code"] for entry in report]
        code = ExitCode.INTERRUPTED if self._stopping else worst(codes)
        summary = {"started": datetime.fromtimestamp(started, UTC).isoformat(),
                   "finished": datetime.now(UTC).isoformat(), "inbox": str(self.folders.inbox),
                   "sheets": report, "exit_code": code}
        path = self.folders.summaries / f"batch-{time.strftime('%Y%m%d-%H%M%S')}.json"
        write_summary(path, summary)
        self.log("batch_done", sheets=len(report), exit_code=code, summary_file=str(path))
        return code

    async def _one(self, sheet: Path) -> dict[str, Any]:
        folders = self.folders
        options = self.options(sheet, self.settings)
        options.state_dir = folders.state
        results = sheet.with_name(f"{sheet.stem}.results{_kind(sheet)}")
        rollback = sheet.with_name(f"{sheet.stem}.rollback{_kind(sheet)}")
        summary_path = sheet.with_name(f"{sheet.stem}.summary.json")
        self.log("sheet_start", sheet=sheet.name)

        options.results, options.rollback, options.summary_json = (results, rollback,
                                                                   summary_path)
        run = SheetRun(options, self.credentials)
        self._current = run
        try:
            result = await run.run()
        except InvalidSheet as invalid:
            problems = sheet.with_name(f"{sheet.stem}.problems.csv")
            write_issues(problems, invalid.validation.issues)
            moved = _move([sheet, problems], folders.failed)
            self.log("sheet_invalid", sheet=sheet.name, exit_code=invalid.exit_code,
                     problems=len(invalid.validation.errors), moved_to=str(moved[0].parent))
            return {"sheet": sheet.name, "exit_code": invalid.exit_code,
                    "moved_to": str(folders.failed)}
        except BulkEditError as error:
            target = folders.failed if error.exit_code == 2 else None
            moved = _move([sheet], target) if target else []
            self.log("sheet_error", sheet=sheet.name, exit_code=error.exit_code,
                     error=str(error))
            return {"sheet": sheet.name, "exit_code": error.exit_code, "error": str(error),
                    "moved_to": str(moved[0].parent) if moved else None}
        finally:
            self._current = None
        facts = result.summary()  # the run wrote it, with the results and rollback sheets
        code = result.exit_code
        if code == ExitCode.INTERRUPTED:  # stays in the inbox; the journal resumes it next time
            self.log("sheet_interrupted", sheet=sheet.name, exit_code=code,
                     counts=facts["counts"])
            return {"sheet": sheet.name, "exit_code": code, "summary": facts}
        target = folders.done if code == 0 else folders.failed
        _move([sheet, results, rollback, summary_path], target)
        self.log("sheet_done", sheet=sheet.name, exit_code=code, counts=facts["counts"],
                 moved_to=str(target), summary=facts)
        return {"sheet": sheet.name, "exit_code": code, "moved_to": str(target),
                "summary": facts}


def _kind(sheet: Path) -> str:
    return ".csv" if sheet.suffix.lower() == ".csv" else ".xlsx"
