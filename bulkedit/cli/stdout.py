"""Outputs written to standard output when their file name is `-` (docs: "Pipes and
verbosity"): a text output (CSV, JSON, HTML) to a pipe, a file or a terminal; a workbook
(XLSX) only to a pipe or a file, never to a terminal.

Each is written whole by the writer a file would get, in a private scratch folder, and
copied to stdout only once complete: a failure leaves nothing half written in the pipe.
A CSV on stdout has no byte-order mark (a pipe feeds a program, not Excel)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from bulkedit.cli.options import STDOUT
from bulkedit.core.errors import UsageError

_BOM = b"\xef\xbb\xbf"


def is_stdout(name: str | Path | None) -> bool:
    return name is not None and str(name) == STDOUT


def keep_as_file(flag: str, name: str | Path | None, why: str) -> None:
    """An output that must be a file (a results or rollback sheet, a saved plan): `-` is
    refused, before any work, instead of making a file named `-`."""
    if is_stdout(name):
        raise UsageError(f"{flag} -: {why}; give a file name")


UNDO_KEPT = ("the results and rollback sheets are kept as files (the undo must not live "
             "only in a pipe)")


def _tty(out: TextIO) -> bool:
    try:
        return bool(out.isatty())
    except (AttributeError, ValueError):
        return False


def check_binary(out: TextIO, flag: str, what: str) -> None:
    """Refuse, before any work, a workbook for a terminal (or a stream without bytes)."""
    if _tty(out):
        raise UsageError(f"{flag}: {what} is a binary file, which a terminal cannot show; "
                         "redirect standard output (`> file.xlsx` or `| …`), or give a file "
                         "name, or a text format")
    if not getattr(out, "takes_bytes", lambda: True)():
        raise UsageError(f"{flag}: this standard output takes no bytes; give a file name")


def copy_out(out: TextIO, data: bytes, *, text: bool) -> None:
    """A finished output's bytes to stdout: a text one without its BOM, shown escaped on a
    terminal (TerminalSafe); a binary one as it is (check_binary ran first)."""
    if text:
        data = data.removeprefix(_BOM)
        if _tty(out):
            out.write(data.decode("utf-8").replace("\r\n", "\n"))
            out.flush()
            return
    write = getattr(out, "write_bytes", None)
    if write is not None:
        write(data)
    else:  # a plain text stream (a test's): the text
        out.write(data.decode("utf-8"))
    out.flush()


@contextlib.contextmanager
def spooled(out: TextIO, name: str, *, text: bool) -> Iterator[Path]:
    """A scratch path named `name` (its suffix says the format to the writer); when the
    block ends without an error, what was written there goes to stdout."""
    from bulkedit.sheets.files import scratch_folder

    with scratch_folder() as folder:
        path = folder / name
        yield path
        copy_out(out, path.read_bytes(), text=text)
