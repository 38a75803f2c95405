"""Filing a sheet of the nightly job, as one journaled step that a kill cannot split.

Filing moves several files: the bytes the run applied (a copy of the pinned sheet, staged
in the sheet's work folder), its results, rollback and summary (or its problems) into
`done/` or `failed/`; and it takes the user's file out of the inbox, unless it was saved
again since it was read (then that new version goes back, for the next night). Before the
first move, an intent record names every move with the name it gets (written atomically,
fsynced, in the inbox's own folder); after the last, the record says so and goes. A night
killed anywhere in between leaves the record, and the next night carries the filing out
from it before anything else (`carry_out` is idempotent): the true results are filed,
nothing is stranded in the work folder, and the sheet is not run a second time.

A night killed after a run and before its record is caught too (run/batch.py): the
journal says the run ended, its outputs wait in the work folder, so the sheet is filed
with them instead of being run again (a rerun would call every row `unchanged`).

`BULKEDIT_TEST_KILL_AT=STEP` (tests only) kills the process with SIGKILL at that step:
`applied` (batch), `recorded`, `held`, `sheet_filed`, `outputs_filed`, `original_settled`,
`filed`.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal
import stat
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bulkedit.run.savedplan import sheet_digest
from bulkedit.run.settle import observe, writers
from bulkedit.sheets.files import atomic_path, own_folder, write_text

RECORDS = "filing"  # in the inbox's own folder (INBOX/.bulkedit/filing)
HOLDING = ".filing"  # the user's file, taken aside while it is filed: `.NAME.filing`
KILL_AT = "BULKEDIT_TEST_KILL_AT"

Fault = Callable[[str], None]


def kill_at(step: str) -> None:
    """The test hook: die here, as a power cut or `kill -9` would."""
    if os.environ.get(KILL_AT) == step:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass
class Filing:
    """One sheet's filing, as recorded before its first move."""

    sheet: str  # the user's file in the inbox
    target: str  # done/ or failed/
    moves: list[tuple[str, str]]  # (from the work folder, to its name in target): sheet first
    digest: str | None  # SHA-256 of the bytes applied; None: never read, the file itself moves
    work: str  # the sheet's work folder, removed once empty
    entry: dict[str, Any] = field(default_factory=dict)  # what the night reports for it
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    state: str = "intent"  # intent -> original: removed | returned | gone -> filed
    recorded: float = field(default_factory=time.time)
    why: str = ""  # why the user's file went back to the inbox

    @property
    def holding(self) -> Path:
        sheet = Path(self.sheet)
        return sheet.with_name(f".{sheet.name}{HOLDING}")


@dataclass
class Filed:
    """What carrying a filing out did."""

    moved: list[Path]  # where each file now is
    saved_again: bool  # the user's file held other bytes, or was still open: it went back
    missing: list[str]  # files the record names that were nowhere (said, never hidden)
    why: str = ""  # why it went back


def free_name(folder: Path, name: str, taken: set[Path] | None = None) -> Path:
    """`folder/name`, or a dated (and if need be numbered) variant no file has yet (nor
    one of `taken`, the names already given to the other files of the same filing)."""
    taken = taken or set()
    target = folder / name
    stamp = time.strftime("%Y%m%d-%H%M%S")
    number = 1
    while target.exists() or target.is_symlink() or target in taken:
        extra = "" if number == 1 else f"-{number}"
        target = folder / f"{Path(name).stem}.{stamp}{extra}{Path(name).suffix}"
        number += 1
    return target


def plan(sheet: Path, target: Path, files: list[Path], digest: str | None, work: Path,
         entry: dict[str, Any], tag: str | None = None) -> Filing:
    """The filing of `files` (the staged sheet first) into `target`, each under a name no
    file there has. The first sheet filed under a name keeps it; when any of the names is
    taken (the same sheet filed on an earlier night), every file of this filing is named
    by `tag`, the run's id, after the sheet's name: `edits.RUN.csv`,
    `edits.RUN.results.csv`, `edits.RUN.rollback.csv` (still matched by `*.results.csv`
    and the like), sorted by run. Without a run, by the time."""
    stem = Path(files[0].name).stem if files else ""
    if tag and any(_there(target / source.name) for source in files):
        taken: set[Path] = set()
        moves = []
        for source in files:
            destination = _tagged(target, source.name, stem, tag, taken)
            taken.add(destination)
            moves.append((str(source), str(destination)))
        return Filing(str(sheet), str(target), moves, digest, str(work), entry)
    taken = set()
    moves = []
    for source in files:
        destination = free_name(target, source.name, taken)
        taken.add(destination)
        moves.append((str(source), str(destination)))
    return Filing(str(sheet), str(target), moves, digest, str(work), entry)


def _tagged(folder: Path, name: str, stem: str, tag: str, taken: set[Path]) -> Path:
    """`folder/STEM.TAG.REST` for `name` = STEM.REST (a number added if need be)."""
    if stem and name.startswith(f"{stem}."):
        head, rest = stem, name[len(stem):]
    else:
        head, rest = Path(name).stem, Path(name).suffix
    for number in range(1, 1000):
        extra = "" if number == 1 else f"-{number}"
        target = folder / f"{head}.{tag}{extra}{rest}"
        if not (_there(target) or target in taken):
            return target
    return free_name(folder, name, taken)


def record(folder: Path, filing: Filing) -> None:
    """Write (or rewrite) the record: atomic and fsynced, so it is there whole or not."""
    write_text(own_folder(folder, "folder of filing records") / f"{filing.id}.json",
               json.dumps(asdict(filing), ensure_ascii=False, default=str), mode=0o600)


def pending(folder: Path) -> list[Filing]:
    """The filings a killed night left unfinished, oldest first."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob("*.json"):
        with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
            data = json.loads(path.read_text(encoding="utf-8"))
            data["moves"] = [tuple(move) for move in data["moves"]]
            found.append(Filing(**data))
    return sorted(found, key=lambda f: f.recorded)


def stage(pinned: Path, digest: str, work: Path, name: str) -> Path:
    """A copy of the bytes applied, in the work folder, checked against their hash: the
    file filed is this copy, which nothing else has open, never the user's file (a writer
    with it still open would go on writing into `done/`)."""
    staged = work / name
    with atomic_path(staged) as copy:
        shutil.copyfile(pinned, copy)
    if sheet_digest(staged) != digest:  # pragma: no cover - a failing disk
        staged.unlink()
        raise OSError(errno.EIO, f"the copy of {name} does not hold the bytes applied")
    return staged


def carry_out(filing: Filing, folder: Path, fault: Fault = kill_at) -> Filed:
    """Every move of the record, from wherever a killed night stopped; then the record
    goes. Safe to run again at any point."""
    sheet, holding = Path(filing.sheet), filing.holding
    if filing.digest is not None and filing.state == "intent" and not _there(holding) \
            and _there(sheet):
        os.replace(sheet, holding)  # from here a save makes a new file in the inbox
    fault("held")
    moved, missing = [], []
    for number, (source, destination) in enumerate(filing.moves):
        if _there(Path(source)):
            _move(Path(source), Path(destination))
        if _there(Path(destination)):
            moved.append(Path(destination))
        else:
            missing.append(Path(source).name)
        if number == 0:
            fault("sheet_filed")
    fault("outputs_filed")
    if filing.digest is not None and filing.state == "intent":
        filing.why = _differs(holding, filing.digest) if _there(holding) else ""
        filing.state = "original: " + ("gone" if not _there(holding) else "returned"
                                        if filing.why else "removed")
        record(folder, filing)
    if filing.state == "original: removed":
        holding.unlink(missing_ok=True)
    elif filing.state == "original: returned" and _there(holding):
        os.replace(holding, sheet if not _there(sheet) else free_name(sheet.parent,
                                                                     sheet.name))
    fault("original_settled")
    saved_again = filing.state == "original: returned"
    filing.state = "filed"
    record(folder, filing)
    fault("filed")
    (folder / f"{filing.id}.json").unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        Path(filing.work).rmdir()
    return Filed(moved, saved_again, missing, filing.why)


def _there(path: Path) -> bool:
    return os.path.lexists(path)


def _differs(holding: Path, digest: str) -> str:
    """Why the user's file, taken aside, must go back to the inbox ("": it is exactly the
    bytes applied and no one is writing it, so it leaves the inbox). Hashed only if it is
    still a plain file (a link to /dev/zero or a pipe swapped in meanwhile would never
    end)."""
    seen = observe(holding)
    if seen is None or not stat.S_ISREG(os.lstat(holding).st_mode):
        return "was replaced by something that is not a plain file"
    if writers([seen]):
        return "was still open for writing (still being copied in?)"
    return "" if sheet_digest(holding) == digest else "was saved again"


def _move(source: Path, destination: Path) -> None:
    """A rename; across file systems, an atomic copy then the source removed (a kill
    in between leaves the source, and the move is done again)."""
    try:
        os.replace(source, destination)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        with atomic_path(destination) as copy:
            shutil.copy2(source, copy)
        source.unlink()
