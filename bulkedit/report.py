"""Write tables to CSV, XLSX or JSON, every cell safe to open in Excel (DESIGN.md §5).

Excel evaluates a cell that starts with =, +, -, @ (and, after a tab or CR,
some of those) as a formula, in CSV and in XLSX alike. bulkedit never writes
such a cell as a formula:
  * XLSX: every text cell is stored as a string cell, which Excel displays and
    never evaluates;
  * CSV: a risky cell is prefixed with an apostrophe, the convention Excel and
    LibreOffice show as text; the loader removes that one apostrophe again, so
    a written sheet reads back to the same values.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from bulkedit.cells import csv_safe
from bulkedit.errors import UsageError
from bulkedit.types import Issue

Cell = str | int | float | bool | None


def _text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "true" if cell else "false"
    return str(cell)


def table_format(path: Path) -> str:
    suffix = path.suffix.lower()
    formats = {".csv": "csv", ".xlsx": "xlsx", ".json": "json"}
    if suffix not in formats:
        raise UsageError(f"{path}: cannot write a '{suffix or 'extensionless'}' file; "
                         "use a name ending in .csv, .xlsx or .json")
    return formats[suffix]


def write_table(path: Path, headers: Sequence[str], rows: Iterable[Sequence[Cell]],
                *, sheet_title: str = "Sheet1", text_columns: Sequence[str] = ()) -> None:
    """Write rows to `path` as CSV (UTF-8 with BOM, for Excel), XLSX or JSON."""
    fmt = table_format(path)
    if fmt == "csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([csv_safe(h) for h in headers])
            for row in rows:
                writer.writerow([csv_safe(_text(c)) for c in row])
    elif fmt == "json":
        records = [dict(zip(headers, row, strict=True)) for row in rows]
        path.write_text(json.dumps(records, ensure_ascii=False, indent=1) + "\n",
                        encoding="utf-8")
    else:
        _write_xlsx(path, headers, rows, sheet_title, text_columns)


def _write_xlsx(path: Path, headers: Sequence[str], rows: Iterable[Sequence[Cell]],
                title: str, text_columns: Sequence[str]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)

    def cell(value: Cell, *, header: bool = False, force_text: bool = False) -> WriteOnlyCell:
        if isinstance(value, str) or force_text:
            out = WriteOnlyCell(sheet, value=_text(value))
            out.data_type = "s"  # a string cell, never a formula
        else:
            out = WriteOnlyCell(sheet, value=value)
        if header:
            out.font = bold
        return out

    sheet.append([cell(h, header=True) for h in headers])
    text_index = {i for i, h in enumerate(headers) if h in text_columns}
    for row in rows:
        sheet.append([cell(v, force_text=i in text_index) for i, v in enumerate(row)])
    book.save(path)


ISSUE_HEADERS = ("row", "column", "value", "code", "severity", "message")


def write_issues(path: Path, issues: Iterable[Issue]) -> None:
    rows = ((i.row, i.column, i.value, i.code, i.severity.value, i.message) for i in issues)
    write_table(path, ISSUE_HEADERS, rows, sheet_title="Problems", text_columns=("value",))
