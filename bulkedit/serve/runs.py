"""An approved version's apply, run by the server (issue 31, point 7), not by a request.

The run is a background task in the server's own event loop, by the engine every `bulkedit
apply` runs (run/runner.py's SheetRun), with its journal and its lock: it sends exactly the
approved plan, as `bulkedit apply SHEET --plan STATE/serve/approved/version-N.plan.json`
does, so a row whose live values drifted since the approval is a conflict, not sent. A CLI
apply of the same sheet meanwhile is refused by the sheet's lock, and `bulkedit runs` lists
the run as it lists any other. Cancel stops it as SIGTERM stops the CLI: the requests in
flight finish, the rest is recorded not sent, and the run resumes where it stopped.

Progress is told from the journal, never from memory only: a snapshot's number is how far
the journal says the run got (rows answered plus rows settled: it only grows), so a page
that reconnects with the last number it saw is sent the next snapshot, and a tab closed
meanwhile loses nothing.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bulkedit.core.errors import BulkEditError
from bulkedit.core.outcomes import RunResult
from bulkedit.run.journal import Journal
from bulkedit.run.options import run_options
from bulkedit.run.runner import SheetRun
from bulkedit.serve.state import ServeState, Upload
from bulkedit.sheets.files import own_folder

OUTPUTS = {"results": "results.csv", "rollback": "rollback.csv", "summary": "summary.json"}


@dataclass
class ServeRun:
    """One apply of an approved version, started from the page."""

    number: int  # the version
    by: str
    folder: Path  # STATE/serve/runs/version-N: the run's own files (results, rollback...)
    sheet: Path
    engine: SheetRun | None = None
    task: asyncio.Task[None] | None = None
    result: RunResult | None = None
    problem: str = ""  # why the run could not go on (one line, as the CLI says it)
    cancelled_by: str = ""
    started: float = field(default_factory=time.time)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)  # cancel was asked

    @property
    def over(self) -> bool:
        return self.task is not None and self.task.done()

    def tell(self) -> None:
        """Wake every stream: the journal has more to say."""
        self.changed.set()
        self.changed = asyncio.Event()

    def output(self, kind: str) -> Path:
        return self.folder / OUTPUTS[kind]


def run_folder(state: ServeState, number: int) -> Path:
    return own_folder(own_folder(state.folder / "runs", "folder of runs")
                      / f"version-{number}", "folder of a run")


def start(state: ServeState, upload: Upload, plan: Path, by: str) -> ServeRun:
    """The approved plan's apply, started in this loop; its end is in `ServeRun.result`."""
    assert state.journal is not None
    folder = run_folder(state, upload.number)
    served = ServeRun(upload.number, by, folder, state.sheets / upload.digest)
    options = run_options(state.settings, sheet=str(served.sheet), send=True,
                          plan=str(plan), api_base=state.api_base,
                          state_dir=state.journal.folder,
                          results=served.output("results"),
                          rollback=served.output("rollback"),
                          summary_json=served.output("summary"))
    served.engine = SheetRun(options, state.credentials(),
                             progress=lambda *_: served.tell())
    served.task = asyncio.get_running_loop().create_task(_run(served))
    return served


async def _run(served: ServeRun) -> None:
    assert served.engine is not None
    try:
        served.result = await served.engine.run()
    except BulkEditError as exc:
        served.problem = str(exc)
    finally:
        served.tell()


def cancel(served: ServeRun, by: str) -> bool:
    """Stop as SIGTERM stops an apply; False when the run is over already."""
    if served.over or served.engine is None:
        return False
    served.cancelled_by = by
    served.engine.stop()
    served.stopping.set()
    served.tell()
    return True


@dataclass(frozen=True)
class Snapshot:
    """Where the run stands, as the journal holds it: `seq` is `Journal.answered` (rows
    answered, plus rows settled), plus one once the journal has the run's end: it only
    grows."""

    seq: int
    rows: int
    by_status: dict[str, int]
    state: str  # running, finished, interrupted, aborted, or "starting" / "refused"
    problem: str = ""

    def data(self) -> str:
        return json.dumps({"seq": self.seq, "rows": self.rows, "by_status": self.by_status,
                           "state": self.state, "problem": self.problem}, sort_keys=True)


def snapshot(served: ServeRun, journal: Journal) -> Snapshot:
    """The run's counts from the journal (the run of this sheet started last)."""
    record = latest_run(served, journal)
    if record is None:
        return Snapshot(0, 0, {}, "refused" if served.over else "starting", served.problem)
    rows, _ = journal.counts(record.id)
    state = record.state if served.over else "running"
    ended = state != "running"  # the run's end, in its journal record, is one step more
    return Snapshot(journal.answered(record.id) + ended, rows,
                    journal.status_counts(record.id), state, served.problem)


def latest_run(served: ServeRun, journal: Journal) -> Any:
    """The journal's run of this apply: running now, or ended since it started (a run
    resumed keeps its id and its rows settled before)."""
    key = str(served.sheet.resolve())
    found = [run for run in journal.runs() if run.sheet == key and (
        run.state == "running" or (run.finished or 0) >= served.started)]
    return found[-1] if found else None


def last_seen(header: str | None) -> int:
    """The Last-Event-ID a reconnecting page sends (-1: none, send the first snapshot)."""
    try:
        return int(header) if header is not None else -1
    except ValueError:
        return -1


def answered_times(served: ServeRun, journal: Journal) -> list[float]:
    """When each row of the run had its answer, as the journal holds it."""
    record = latest_run(served, journal)
    if record is None:
        return []
    return [row.finished for row in journal.rows(record.id).values()
            if row.finished is not None and row.attempts > 0]
