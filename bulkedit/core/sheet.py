"""A sheet as the core sees it: Arrow columns of text and the row numbers Excel shows
(DESIGN.md §3). The data type that flows from loading into validation, planning and the
reports; sheets/load.py fills it, nothing here reads a file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from bulkedit.core.cells import CellProblem
from bulkedit.core.display import HTML_ROWS, clipped, html_table, short_source
from bulkedit.core.types import Issue

HIDDEN_POLICIES = ("refuse", "skip", "include")
# The code of the warning on each row left out as hidden or filtered (its message is the
# reason the results sheet gives).
HIDDEN_ROW = "hidden_row"


@dataclass(frozen=True)
class SheetReading:
    """The loader's side of what a user chooses when a sheet could mean two things; each
    default refuses the doubt rather than picking a meaning (issue 25)."""

    # Rows hidden by hand or by an autofilter, and hidden columns: "refuse" (exit 2,
    # naming them), "skip" (send only what is visible; hidden rows reported as skipped,
    # hidden columns ignored), or "include" (read them as if visible).
    hidden: str = "refuse"
    # A merged range over data cells: refused, or its value spread to every covered cell.
    spread_merged: bool = False
    # A CSV cell's leading apostrophe before a formula character: kept (it is the user's
    # text in a CSV, with a warning), or stripped as an exporter's escape.
    strip_apostrophes: bool = False


@dataclass(frozen=True)
class Column:
    """One column of a sheet.

    `header` is as written; `field` is the field name it resolves to
    (`video_id` for the id column), None for unknown headers, and "#" for
    comment columns, which are carried along but never read.
    """

    header: str
    field: str | None
    letter: str
    values: pa.ChunkedArray  # one string per data row, "" for a blank cell
    # Cells the loader could not read as the user meant, each (position, what the cell
    # shows, the problem): a spreadsheet error (#N/A, #REF!…, whose value is ""), a number
    # whose shown text is unknown. The validator reports each one at its cell.
    problems: tuple[tuple[int, str, CellProblem], ...] = ()

    @property
    def is_comment(self) -> bool:
        return self.field == "#"

    def __repr__(self) -> str:  # never the Arrow array: a column may hold a million cells
        return (f"<Column {self.letter} {self.header!r} ({self.field or 'unknown'}): "
                f"{len(self.values):,} cells>")


@dataclass(frozen=True)
class Sheet:
    source: str
    format: str  # "csv", "xlsx" or "ods"
    columns: tuple[Column, ...]
    row_numbers: tuple[int, ...]
    header_row: int = 1
    sheet_name: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    issues: tuple[Issue, ...] = field(default=())
    # Data rows (sheet row numbers) hidden or filtered out, read under SheetReading's
    # "skip": the validator reports them skipped, never sent.
    hidden_rows: frozenset[int] = frozenset()

    def __len__(self) -> int:
        return len(self.row_numbers)

    def column(self, field_name: str) -> Column | None:
        return next((c for c in self.columns if c.field == field_name), None)

    def row(self, index: int) -> dict[str, str]:
        """The cells of one data row, keyed by header as written."""
        return {c.header: c.values[index].as_py() for c in self.columns}

    def _title(self) -> str:
        where = short_source(self.source)
        return (f"sheet {self.sheet_name!r} of {where}" if self.sheet_name else where) + (
            f": {len(self):,} rows × {len(self.columns)} columns")

    def __repr__(self) -> str:
        headers = clipped(", ".join(c.header for c in self.columns), 60)
        return f"<Sheet {self._title()} ({headers})>"

    def _repr_html_(self) -> str:
        """The first rows in a notebook, numbered as the spreadsheet numbers them."""
        shown = range(min(len(self), HTML_ROWS))
        return html_table(self._title(), ["row", *(c.header for c in self.columns)],
                          [[self.row_numbers[i], *(c.values[i].as_py() for c in self.columns)]
                           for i in shown],
                          total=len(self))


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
