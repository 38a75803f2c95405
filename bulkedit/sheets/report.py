"""Write tables to CSV, XLSX or JSON, every cell safe to open in Excel (DESIGN.md §5).

Excel evaluates a cell that starts with =, +, -, @ (and, after a tab or CR,
some of those) as a formula, in CSV and in XLSX alike. bulkedit never writes
such a cell as a formula:
  * XLSX: every text cell is stored as a string cell, which Excel displays and
    never evaluates;
  * CSV: a risky cell is prefixed with an apostrophe, which keeps Excel from
    evaluating it. In a user's CSV a leading apostrophe is the user's text (Excel shows
    it), so the loader removes that one apostrophe only from a CSV bulkedit wrote: one
    with the result columns (#status and #error), the problems report's headers, or the
    OWN_MARK comment column that a rollback sheet holding such a cell and every CSV
    export carry. So a written sheet reads back to the same values.
"""

from __future__ import annotations

import contextlib
import csv
import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from bulkedit.core.cells import csv_safe
from bulkedit.core.errors import UsageError
from bulkedit.core.types import Issue
from bulkedit.sheets.files import atomic_path, atomic_text, write_text

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


# A comment column (ignored as input, an empty column in Excel) saying that the CSV's
# leading apostrophes are bulkedit's Excel escapes, removed again when it is read.
OWN_MARK = "#written_by_bulkedit"


def write_table(path: Path, headers: Sequence[str], rows: Iterable[Sequence[Cell]],
                *, sheet_title: str = "Sheet1", text_columns: Sequence[str] = (),
                mode: int | None = None, mark_own: bool = False) -> None:
    """Write rows to `path` as CSV (UTF-8 with BOM, for Excel), XLSX or JSON, atomically
    (files.py): a failure leaves the earlier file as it was. `mark_own` adds the OWN_MARK
    column to a CSV whose headers do not already say bulkedit wrote it."""
    fmt = table_format(path)
    if fmt == "csv":
        tail = [OWN_MARK] if mark_own else []
        with atomic_text(path, encoding="utf-8-sig", newline="", mode=mode) as handle:
            writer = csv.writer(handle)
            writer.writerow([csv_safe(h) for h in headers] + tail)
            blank = [""] * len(tail)
            for row in rows:
                writer.writerow([csv_safe(_text(c)) for c in row] + blank)
    elif fmt == "json":
        records = [dict(zip(headers, row, strict=True)) for row in rows]
        write_text(path, json.dumps(records, ensure_ascii=False, indent=1) + "\n", mode=mode)
    else:
        with atomic_path(path, mode) as temporary:
            _write_xlsx(temporary, headers, rows, sheet_title, text_columns)


# Characters XML 1.0 has no place for: most C0 controls, and U+FFFE/U+FFFF.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xlsx_text(value: str) -> str:
    """Text an XLSX cell can hold: XML 1.0 has no place for most control characters, so
    they are written as visible \\xNN (such a cell never passes validation anyway)."""
    return _XML_ILLEGAL.sub(lambda m: f"\\x{ord(m.group(0)):02x}" if ord(m.group(0)) < 256
                            else f"\\u{ord(m.group(0)):04x}", value)


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
            out = WriteOnlyCell(sheet, value=xlsx_text(_text(value)))
            out.data_type = "s"  # a string cell, never a formula
        else:
            out = WriteOnlyCell(sheet, value=value)
        if header:
            out.font = bold
        return out

    sheet.append([cell(h, header=True) for h in headers])
    text_index = {i for i, h in enumerate(headers) if h in text_columns}
    try:
        for row in rows:
            sheet.append([cell(v, force_text=i in text_index) for i, v in enumerate(row)])
    except BaseException:
        with contextlib.suppress(Exception):  # end openpyxl's writer before the file goes
            sheet.close()
        raise
    book.save(path)


ISSUE_HEADERS = ("row", "column", "value", "code", "severity", "message")


def write_issues(path: Path, issues: Iterable[Issue]) -> None:
    rows = ((i.row, i.column, i.value, i.code, i.severity.value, i.message) for i in issues)
    # 0600: a problem quotes the cell, and a sheet may hold what others must not read.
    write_table(path, ISSUE_HEADERS, rows, sheet_title="Problems", text_columns=("value",),
                mode=0o600)


RESULT_COLUMNS = ("#status", "#error_class", "#error", "#http_status", "#changed_fields",
                  "#attempts", "#sheet_notes")


def write_results(path: Path, sheet: Any, outcomes: Sequence[Any],
                  notes: Sequence[str] = (),
                  accounts: Sequence[str] | None = None) -> None:
    """The input rows as they were, plus the result columns (DESIGN.md §5).

    Result columns start with #, so the results sheet is itself a valid input:
    filter it to the failed rows and run it again. Earlier result columns are
    replaced, not repeated. `notes` (outcomes.sheet_notes: the sheet read and its
    warnings that belong to no row) fill the first row's #sheet_notes cell, one a line:
    a CSV has no second tab, and a column travels with the sheet when it is read again.
    `accounts`: each row's account, written as an `#account` column when the sheet has
    none, so that the results sheet applied again routes each row where it went.
    """
    from bulkedit.core.routing import ACCOUNT_COLUMN, is_account_column
    from bulkedit.core.schema import FIELDS

    columns = [c for c in sheet.columns if c.header not in RESULT_COLUMNS]
    if any(is_account_column(c.header) for c in columns):
        accounts = None  # the sheet's own column says it already
    headers = ([c.header for c in columns] + ([ACCOUNT_COLUMN] if accounts is not None
                                              else []) + list(RESULT_COLUMNS))
    # A secret column (a video password) is masked: the results sheet is shared and kept.
    values = [[FIELDS[c.field].shown(v or "") if v else v for v in c.values.to_pylist()]
              if c.field in FIELDS and FIELDS[c.field].sensitive else c.values.to_pylist()
              for c in columns]

    about = "\n".join(notes) or None

    def rows() -> Iterable[list[Cell]]:
        for index, outcome in enumerate(outcomes):
            routed = [accounts[index]] if accounts is not None else []
            yield [column[index] for column in values] + routed + [
                outcome.status, outcome.error_class, outcome.error, outcome.http_status,
                ", ".join(outcome.changed_fields), outcome.attempts or None,
                about if index == 0 else None]

    id_headers = [c.header for c in columns if c.field == "video_id"]
    write_table(path, headers, rows(), sheet_title="Results", text_columns=id_headers)


def write_summary(path: Path, summary: dict[str, Any]) -> None:
    write_text(path, json.dumps(summary, indent=2, ensure_ascii=False) + "\n")


def default_side_path(sheet_path: Path, kind: str, suffix: str | None = None) -> Path:
    """Beside the input: edits.xlsx -> edits.KIND.xlsx (CSV stays CSV). A sheet read from
    standard input ("-") or a pipe has no folder of its own: the current one."""
    ext = suffix or (".csv" if sheet_path.suffix.lower() == ".csv" else ".xlsx")
    if str(sheet_path) == "-":
        return Path(f"stdin.{kind}{ext}")
    if sheet_path.exists() and not sheet_path.is_file():
        return Path(f"{sheet_path.stem}.{kind}{ext}")
    return sheet_path.with_name(f"{sheet_path.stem}.{kind}{ext}")


def write_rollback(path: Path, plans: Sequence[Any],
                   accounts: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """video_id plus the previous value of exactly the fields each row changes; with
    `accounts` (each plan's account), an `#account` column, so that applying the rollback
    sends each row through the account that changed it.

    Applying this sheet undoes the run: `[]` where the field was empty, lists as
    lists, dates in ISO 8601 (UTC). Changes the API gives no way to undo keep a
    blank cell and are returned as (video_id, field) (plan.rollback_cell).
    """
    from bulkedit.core.planning import rollback_cell
    from bulkedit.core.schema import FIELDS

    lost: list[tuple[str, str]] = []
    previous: list[dict[str, str]] = []
    for plan in plans:
        cells: dict[str, str] = {}
        for diff in plan.diffs:
            text = rollback_cell(diff)
            if text is None:
                lost.append((plan.video_id, diff.field))
            else:
                cells[diff.field] = text
        previous.append(cells)
    used = {name for cells in previous for name in cells}
    fields = [name for name in FIELDS if name in used]
    rows = [[plan.video_id] + [cells.get(name, "") for name in fields]
            for plan, cells in zip(plans, previous, strict=True)]
    routed = []
    if accounts is not None:
        from bulkedit.core.routing import ACCOUNT_COLUMN

        rows = [[row[0], account, *row[1:]]
                for row, account in zip(rows, accounts, strict=True)]
        routed = [ACCOUNT_COLUMN]
    # The mark only where it matters: a rollback sheet holding a cell written with Excel's
    # apostrophe says so, so that applying it sends the values, not the apostrophes.
    escaped = any(csv_safe(cell) != cell for row in rows for cell in row)
    # 0600: the values before the run may have been private (DESIGN.md §9).
    write_table(path, ["video_id", *routed, *fields], rows, sheet_title="Rollback", mode=0o600,
                text_columns=("video_id",), mark_own=escaped)
    return lost
