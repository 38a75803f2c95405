"""How big a sheet bulkedit reads, in one place (issue 26): rows, columns, cells, the bytes
a workbook inflates to, a CSV cell and line, and the memory and time the native workbook
reader may take. A sheet beyond one of them is refused with its numbers (`SheetRefused`,
exit 2) before it is read, never read until the machine runs out.

The caps follow from what a sheet is: Excel's grid (1,048,576 rows), the 1,000 columns
bulkedit reads, and 16,777,216 cells, a million rows of sixteen columns, about what a
machine reads in memory without strain (each cell costs the native reader about 32 bytes
before it is a Python string). `ReadLimits` holds them; tests pass smaller ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from bulkedit.core.errors import LoadError

MAX_ROWS = 1_048_576  # Excel's and LibreOffice's last row
MAX_COLUMNS = 1000
MAX_CELLS = 1 << 24  # rows x columns of a workbook's used range, counted from A1
# XLSX parts are XML that Excel compresses 5-20x. A part that inflates more than
# MAX_COMPRESSION_RATIO times and past RATIO_FLOOR, or a workbook bigger than
# MAX_UNCOMPRESSED_BYTES in all, is a zip bomb, not a spreadsheet.
MAX_UNCOMPRESSED_BYTES = 4 * 1024**3
MAX_COMPRESSION_RATIO = 200
RATIO_FLOOR = 100 * 1024**2
MAX_FIELD_BYTES = 1 << 25  # 32 MiB: a cell this long is refused by the validator, not the reader
# The native workbook reader runs in a child process with this much address space above
# what the child starts with, and this long; past either it is a refused sheet, not a crash.
CHILD_MEMORY = 6 * 1024**3
CHILD_SECONDS = 600.0


@dataclass(frozen=True)
class ReadLimits:
    rows: int = MAX_ROWS
    columns: int = MAX_COLUMNS
    cells: int = MAX_CELLS
    expanded_bytes: int = MAX_UNCOMPRESSED_BYTES
    ratio: int = MAX_COMPRESSION_RATIO
    ratio_floor: int = RATIO_FLOOR
    field_bytes: int = MAX_FIELD_BYTES
    child_memory: int = CHILD_MEMORY
    child_seconds: float = CHILD_SECONDS


LIMITS = ReadLimits()


class SheetRefused(LoadError):
    """A sheet refused before it is read: too big, a zip bomb, or unsafe to read. `code`
    is its problem code (bulkedit/core/problems.py), named at the end of the message."""

    def __init__(self, source: str, code: str, problem: str, fix: str) -> None:
        self.code = code
        super().__init__(source, problem, f"{fix} (problem {code})")


def count(n: int) -> str:
    """12345678 -> "12,345,678"."""
    return f"{n:,}"
