"""Read a CSV, XLSX or ODS sheet into a `Sheet`: strings plus the row numbers Excel shows.

Format is decided by content, not by extension: a zip is a workbook (sheets/workbook.py),
anything else a CSV (sheets/csv_reader.py, its encoding found by sheets/encoding.py). Every
cell becomes text (typed XLSX cells are written the way the grammar reads them), blank rows
are skipped, and headers are resolved to field names (sheets/grid.py). Anything that makes
the file unreadable raises one `LoadError` naming the file and the fix; row-level oddities
travel as `Issue`s in `Sheet.issues`.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from bulkedit.core.errors import LoadError, UsageError
from bulkedit.core.sheet import Sheet, SheetReading
from bulkedit.sheets.csv_reader import read_csv_sheet
from bulkedit.sheets.encoding import UTF8_BOM, text_encoding
from bulkedit.sheets.grid import build_sheet
from bulkedit.sheets.limits import LIMITS, ReadLimits
from bulkedit.sheets.source import Source, open_source
from bulkedit.sheets.workbook import read_workbook_sheet, show_typed_cells
from bulkedit.sheets.workbook_child import cell_text

__all__ = ["Source", "load_sheet", "load_table"]
_ZIP_MAGIC = b"PK\x03\x04"
_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")


def load_sheet(source: Source, *, sheet: str | None = None, name: str | None = None,
               encoding: str | None = None, reading: SheetReading | None = None,
               limits: ReadLimits = LIMITS) -> Sheet:
    """Read a sheet from a path or a binary file-like object. `encoding` names a CSV's
    encoding (any Python codec name, like cp1251) instead of finding it; `reading` holds
    the choices for cells that could mean two things: what a workbook hides or merges, a
    CSV's apostrophes (core/sheet.py; the default refuses the doubt). `limits` caps what
    is read (sheets/limits.py); tests pass smaller ones."""
    if encoding is not None:
        encoding = text_encoding(encoding)
    source_input = open_source(source, name)
    label = source_input.label
    head = source_input.head()
    if not head.strip(b" \t\r\n\x00," + UTF8_BOM) and len(source_input.head(1 << 20)) < 1 << 20:
        raise LoadError(label, "the file is empty", "Save the sheet with a header row and "
                                                    "one row per video")
    if head.startswith(_ZIP_MAGIC):
        return read_workbook_sheet(source_input, sheet, reading, limits)
    if head.startswith(_CFB_MAGIC):
        if _ENCRYPTED_PACKAGE in source_input.all():
            raise LoadError(label, "the workbook is password-protected",
                            "Open it in Excel, remove the password (File > Info > Protect "
                            "Workbook > Encrypt with Password), save and try again")
        raise LoadError(label, "this is a legacy Excel 97-2003 (.xls) workbook",
                        "Open it in Excel and save it as .xlsx (Excel Workbook) or .csv")
    if sheet is not None:
        raise LoadError(label, f"--sheet {sheet} was given but a CSV file has no sheets",
                        "Drop --sheet, or export that sheet from the workbook")
    return read_csv_sheet(source_input, head, encoding, reading=reading, limits=limits)


def load_table(data: Any, name: str = "<table>") -> Sheet:
    """A pandas DataFrame or a pyarrow Table read as the same data saved to XLSX would be
    (`df.to_excel(index=False)`): the column names on row 1, numbers, booleans and dates as
    typed cells, missing values blank. Text is text, as in a CSV."""
    headers, columns = _table_columns(data)
    if not headers:
        raise LoadError(name, "the table has no columns", "Give it a video_id column and "
                                                          "one column per field")
    count = len(columns[0]) + 1  # the header row, then the data
    texts: list[list[str]] = [[header] for header in headers]
    typed: list[tuple[int, int, object]] = []
    for col, values in enumerate(columns):
        out = texts[col]
        for row, value in enumerate(values, start=1):
            if _missing(value):
                out.append("")
            elif isinstance(value, str):
                out.append(value)
            else:
                value = float(value) if isinstance(value, int) and not isinstance(
                    value, bool) else value  # Excel keeps every number as a float
                out.append(cell_text(value))
                typed.append((row, col, value))
    grid = [pa.chunked_array([pa.array(col, pa.string())]) for col in texts]
    numbers = list(range(1, count + 1))
    built = build_sheet(name, "table", grid, numbers)
    return show_typed_cells(built, None, "", typed, numbers) if typed else built


def _table_columns(data: Any) -> tuple[list[str], list[list[Any]]]:
    if isinstance(data, pa.Table):
        return ([str(n) for n in data.column_names],
                [data.column(i).to_pylist() for i in range(data.num_columns)])
    if hasattr(data, "columns") and hasattr(data, "iloc"):  # pandas, never imported here
        return ([str(c) for c in data.columns],
                [data.iloc[:, i].tolist() for i in range(len(data.columns))])
    raise UsageError(f"cannot read a {type(data).__name__} as a sheet; give a path, a file, "
                     "a pandas DataFrame or a pyarrow Table")


def _missing(value: Any) -> bool:
    """None, NaN, and pandas' NA and NaT: a blank cell."""
    if value is None:
        return True
    if isinstance(value, float):
        return value != value  # NaN
    return type(value).__name__ in ("NAType", "NaTType")

