"""The native workbook read (python-calamine), in a child process (issue 26).

calamine is Rust: a grid it cannot allocate, or a panic, aborts the whole process (exit 134
and a backtrace), which no `except` catches, and a nightly batch would lose every sheet
after the hostile one. So the dense read runs in a forked child, with an address-space limit
(RLIMIT_AS) and a time limit; the grid comes back through a pipe as Arrow IPC (no copy
on arrival), the rest pickled. A
child that dies or runs out of time is a refused sheet naming the file, not a crash.
workbook_extent.py refuses what is too big before this runs; this is what makes the
abort impossible for whatever that scan does not foresee.
"""

from __future__ import annotations

import datetime as dt
import faulthandler
import io
import os
import pickle
import resource
import select
import signal
import struct
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from bulkedit.core.cells import date_cell_text
from bulkedit.core.errors import LoadError
from bulkedit.core.types import Issue
from bulkedit.sheets.limits import LIMITS, ReadLimits, SheetRefused, count
from bulkedit.sheets.source import SheetInput


@dataclass(frozen=True)
class NativeRead:
    """What calamine read of the chosen sheet: its text columns (the used range's, from
    `first_col`), the typed cells (grid row, sheet column, value), and which sheet."""

    chosen: str
    chosen_note: Issue | None
    first_col: int
    last_row: int
    count: int
    columns: list[pa.Array]
    typed: list[tuple[int, int, object]]


def read_native(source: SheetInput, fmt: str, sheet: str | None,
                limits: ReadLimits = LIMITS, *, in_process: bool = False) -> NativeRead:
    """Read the sheet with calamine in a child (or here, `in_process`, for benchmarks).
    Raises LoadError for what calamine refuses and SheetRefused for a child that dies."""
    path = None if source.path is None else str(source.path)
    if in_process:
        return _unpack(_read(source.label, path, source.data, sheet, fmt))
    answer, payload, _ = run_child(source.label, path, source.data, sheet, fmt, limits)
    if answer[0] == "load":
        raise LoadError(source.label, answer[1], answer[2])
    if answer[0] == "error":
        if answer[1] in ("MemoryError", "ArrowMemoryError"):
            raise SheetRefused(source.label, "unsafe_workbook", (
                f"this workbook could not be read safely (reading it needs more than "
                f"{count(limits.child_memory // 1024**2)} MB of memory)"), _FIX)
        raise LoadError(source.label, f"the workbook cannot be read ({answer[1]})",
                        "Open it in Excel and save it again as .xlsx")
    meta = answer[1]
    columns = (list(pa.ipc.open_stream(pa.py_buffer(payload)).read_next_batch().columns)
               if meta[5] else [])
    return NativeRead(meta[0], meta[1], meta[2], meta[3], meta[4], columns, meta[6])


def run_child(label: str, path: str | None, data: bytes | None, sheet: str | None,
              fmt: str, limits: ReadLimits) -> tuple[tuple[Any, ...], memoryview, Any]:
    """Fork, read in the child, and return its answer, its Arrow payload and its resource
    usage (`ru_maxrss`: the child's peak memory). A child that dies or overruns its time
    is a SheetRefused.

    A fork, not a spawn: the child starts in a few milliseconds with everything imported.
    It runs only calamine and pyarrow, whose allocators are fork-safe, and never returns
    into the caller's code (os._exit)."""
    # Everything the child imports, imported here: no other thread of this process can
    # then hold an import lock the child would wait on.
    import python_calamine  # noqa: F401

    import bulkedit.sheets.workbook_tabs  # noqa: F401

    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        try:
            os.close(read_fd)
            _child(write_fd, label, path, data, sheet, fmt, limits.child_memory)
        finally:
            os._exit(0)
    os.close(write_fd)
    deadline = time.monotonic() + limits.child_seconds
    try:
        try:
            header = _read_exactly(read_fd, 16, deadline)
            meta_size, payload_size = struct.unpack("<QQ", header)
            answer = pickle.loads(_read_exactly(read_fd, meta_size, deadline))
            payload = memoryview(_read_exactly(read_fd, payload_size, deadline))
        except TimeoutError:
            os.kill(pid, signal.SIGKILL)
            os.wait4(pid, 0)
            raise SheetRefused(label, "unsafe_workbook", (
                f"this workbook could not be read safely (reading it took longer than "
                f"{limits.child_seconds:g} s)"), _FIX) from None
        except (EOFError, struct.error, pickle.UnpicklingError):
            _, status, _ = os.wait4(pid, 0)
            raise SheetRefused(label, "unsafe_workbook", (
                f"this workbook could not be read safely (the reader {_death(status)})"),
                _FIX) from None
    finally:
        os.close(read_fd)
    _, _, usage = os.wait4(pid, 0)
    return answer, payload, usage


def _read_exactly(fd: int, size: int, deadline: float) -> bytearray:
    """`size` bytes from the pipe; EOFError when the child is gone first, TimeoutError
    past the deadline."""
    out = bytearray(size)
    view = memoryview(out)
    got = 0
    while got < size:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise TimeoutError
        n = os.readv(fd, [view[got:got + (1 << 20)]])
        if n == 0:
            raise EOFError
        got += n
    return out


_FIX = ("Open it in Excel or LibreOffice, delete the rows and columns past your data, save "
        "it again as .xlsx and try again; if it still fails, export the sheet as CSV UTF-8")


def _death(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        what = {"SIGABRT": "aborted", "SIGKILL": "was killed", "SIGSEGV": "crashed"}.get(
            name, "died")
        return f"{what}: {name}"
    return f"stopped with exit status {os.waitstatus_to_exitcode(status)}"


def _child(fd: int, label: str, path: str | None, data: bytes | None, sheet: str | None,
           fmt: str, memory: int) -> None:
    """In the child: limit the address space, read, write the answer to `fd`."""
    # A native abort prints a backtrace (and faulthandler, when on, a Python one): it is
    # not the user's to read.
    faulthandler.disable()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    try:
        with open("/proc/self/status", "rb") as status:
            start = next(int(line.split()[1]) * 1024 for line in status
                         if line.startswith(b"VmSize:"))
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = start + memory
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (OSError, ValueError, StopIteration):
        pass  # no /proc: the time limit still holds
    payload: bytes | pa.Buffer = b""
    try:
        meta, columns = _read(label, path, data, sheet, fmt)
        if columns:
            sink = pa.BufferOutputStream()
            batch = pa.record_batch(columns, names=[str(i) for i in range(len(columns))])
            with pa.ipc.new_stream(sink, batch.schema) as writer:
                writer.write_batch(batch)
            payload = sink.getvalue()
        answer: tuple[Any, ...] = ("ok", (*meta[:5], bool(columns), meta[5]))
    except LoadError as exc:
        answer = ("load", exc.problem, exc.fix)
    except BaseException as exc:  # a panic is a BaseException in pyo3
        answer = ("error", type(exc).__name__)
    head = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
    with os.fdopen(fd, "wb") as out:
        out.write(struct.pack("<QQ", len(head), len(payload)))
        out.write(head)
        out.write(memoryview(payload))


def cell_text(value: object) -> str:
    """How a typed cell reads in the grammar."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime | dt.date):
        return date_cell_text(value)
    if isinstance(value, dt.time | dt.timedelta):
        return str(value)
    return str(value)


def _unpack(read: tuple[tuple[Any, ...], list[pa.Array]]) -> NativeRead:
    meta, columns = read
    return NativeRead(meta[0], meta[1], meta[2], meta[3], meta[4], columns, meta[5])


def _read(label: str, path: str | None, data: bytes | None, sheet: str | None,
          fmt: str) -> tuple[tuple[Any, ...], list[pa.Array]]:
    """calamine's read of the sheet: ((chosen, note, first_col, last_row, count, typed),
    the text columns)."""
    import python_calamine as cal

    from bulkedit.sheets.workbook_tabs import active_sheet, choose_sheet

    chosen_note: Issue | None = None
    try:
        # calamine reads a path itself; a file-like upload is handed over in memory.
        book = (cal.CalamineWorkbook.from_path(path) if path is not None
                else cal.CalamineWorkbook.from_filelike(io.BytesIO(data or b"")))
        visible = [m.name for m in book.sheets_metadata
                   if m.visible == cal.SheetVisibleEnum.Visible
                   and m.typ == cal.SheetTypeEnum.WorkSheet]
        if sheet is not None:
            if sheet not in book.sheet_names:
                raise LoadError(label, f"there is no sheet named '{sheet}'",
                                "Use one of: " + ", ".join(book.sheet_names))
            chosen = sheet
            worksheet = book.get_sheet_by_name(chosen)
        elif len(visible) > 1:
            where = SheetInput(label, None if path is None else Path(path), data)
            chosen, worksheet, chosen_note = choose_sheet(
                label, book, visible, active_sheet(where, fmt, list(book.sheet_names)))
        elif visible:
            chosen = visible[0]
            worksheet = book.get_sheet_by_name(chosen)
        else:
            raise LoadError(label, "the workbook has no visible worksheet",
                            "Unhide the sheet with your edits or pass --sheet NAME")
        first_col = (worksheet.start or (0, 0))[1]
        last_row = (worksheet.end or (0, 0))[0]
        width = worksheet.width
        texts: list[list[str]] = [[] for _ in range(width)]
        rows = 0
        appends = [column.append for column in texts]
        padding = [""] * width
        typed: list[tuple[int, int, object]] = []  # (grid row, column, value) of non-text
        converted: list[object] = []  # the typed cells met, to find their rows cheaply

        def convert(value: object) -> str:
            converted.append(value)
            return cell_text(value)

        for row in worksheet.iter_rows():
            if len(row) < width:
                row = [*row, *padding[len(row):]]
            seen = len(converted)
            for append, value in zip(appends, row, strict=False):
                # Most cells are text: skip the conversion call for them.
                append(value if value.__class__ is str else convert(value))
            if len(converted) != seen:  # a typed cell: note where, for text fields
                typed.extend((rows, first_col + j, v) for j, v in enumerate(row)
                             if v.__class__ is not str)
            rows += 1
        book.close()
    except LoadError:
        raise
    except (cal.CalamineError, cal.PasswordError, cal.XmlError, cal.ZipError,
            ValueError, OSError) as exc:
        raise LoadError(label, f"the workbook cannot be read ({type(exc).__name__})",
                        "Open it in Excel and save it again as .xlsx") from None
    columns = [pa.array(col, pa.string()) for col in texts]
    return (chosen, chosen_note, first_col, last_row, rows, typed), columns
