"""The names earlier outputs are kept under, so that a pile of them stays findable
(issue 29, point 7).

An output about to be replaced (an earlier run's results or rollback sheet) is moved aside
under the name of the run that wrote it, put before the kind so that the project's
`.gitignore` patterns (`*.rollback.xlsx`, `*.results.csv`…) still match it and the pile
sorts by run (run ids start with their start time):

    edits.rollback.xlsx  ->  edits.20261207-124828-517aae.rollback.xlsx

The first rollback sheet of a sheet, the one holding the values from before any run, gets
a stable name instead, so that it is never one of many look-alikes:

    edits.rollback.xlsx  ->  edits.first.rollback.xlsx

A file no journal knows (written by hand, or by a run journaled elsewhere) is named by the
time it was last written instead of a run (`edits.20261207-124828.rollback.xlsx`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

KINDS = ("results", "rollback")
FIRST = "first"  # the tag of a sheet's first rollback kept aside


def split_name(target: Path) -> tuple[str, str]:
    """(what comes before the tag, what comes after): `edits.rollback.xlsx` ->
    (`edits`, `.rollback.xlsx`); a name without a kind (`undo.csv`) -> (`undo`, `.csv`)."""
    stem, suffix = target.stem, target.suffix
    base, dot, kind = stem.rpartition(".")
    if dot and base and kind in KINDS:
        return base, f".{kind}{suffix}"
    return stem, suffix


def tagged(target: Path, tag: str, number: int = 1) -> Path:
    """`target` with `tag` (and a number from 2 on) before its kind."""
    before, after = split_name(target)
    extra = "" if number == 1 else f"-{number}"
    return target.with_name(f"{before}.{tag}{extra}{after}")


def time_tag(moment: float) -> str:
    """The tag of a file no run is known to have written: when it was last written."""
    return datetime.fromtimestamp(moment, UTC).strftime("%Y%m%d-%H%M%S")


def candidates(target: Path, tag: str) -> Iterator[Path]:
    for number in range(1, 1000):
        yield tagged(target, tag, number)


def is_rollback(target: Path) -> bool:
    return split_name(target)[1].startswith(".rollback.")


def kept_before(target: Path) -> bool:
    """Whether an earlier rollback of this sheet was already kept aside beside `target`:
    under this scheme (`NAME.TAG.rollback.EXT`), or the older `NAME.rollback.STAMP.EXT`.
    Only bulkedit's own tags count: `edits.v2.rollback.xlsx` is another sheet's."""
    before, after = split_name(target)
    ours = re.compile(re.escape(f"{before}.") + _TAG + re.escape(after)
                      + "|" + re.escape(f"{target.stem}.") + _OLD_STAMP
                      + re.escape(target.suffix))
    try:
        return any(ours.fullmatch(path.name) for path in target.parent.iterdir())
    except OSError:
        return False


# A run id (20261207-124828-517aae), a time (20261207-124828), or `first`; maybe numbered.
_TAG = rf"(?:\d{{8}}-\d{{6}}(?:-[0-9a-f]{{6}})?|{FIRST})(?:-\d+)?"
_OLD_STAMP = r"\d{4}-\d{2}-\d{2}T\d{6}Z(?:-\d+)?"  # the names before run ids
