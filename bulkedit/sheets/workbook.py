"""Read an XLSX or ODS workbook into a `Sheet`: the archive checked (zip and XML bombs),
the sheet chosen, every cell as the text the grammar reads, and typed cells (numbers,
dates, errors, formulas never calculated) shown as the person saw them."""

from __future__ import annotations

import zipfile
from dataclasses import replace
from datetime import time, timedelta

import pyarrow as pa

from bulkedit.core.cells import CellProblem, excel_error_problem
from bulkedit.core.errors import LoadError
from bulkedit.core.schema import FIELDS, Kind
from bulkedit.core.sheet import Sheet, SheetReading, column_letter
from bulkedit.core.types import Severity
from bulkedit.sheets.grid import build_sheet
from bulkedit.sheets.limits import LIMITS, MAX_COLUMNS, ReadLimits
from bulkedit.sheets.source import SheetInput
from bulkedit.sheets.workbook_child import cell_text, read_native
from bulkedit.sheets.workbook_extent import check_workbook
from bulkedit.sheets.workbook_reading import read_layout
from bulkedit.sheets.workbook_scan import CellScan, scan_workbook


def _check_zip(source: SheetInput, sheet: str | None, limits: ReadLimits) -> str:
    """Refuse zip bombs, sheets beyond `limits` and XML with entity declarations; return
    the format."""
    try:
        with source.binary() as handle, zipfile.ZipFile(handle) as archive:
            fmt = _check_archive(source.label, archive)
            check_workbook(handle, source.label, fmt, sheet, limits)
            return fmt
    except (zipfile.BadZipFile, OSError, ValueError):
        raise LoadError(source.label, "the workbook is damaged or incomplete (not a valid zip)",
                        "Open it in Excel; if it opens, save it again, else get a new copy"
                        ) from None


def _head(archive: zipfile.ZipFile, name: str) -> bytes:
    with archive.open(name) as part:
        return part.read(256)


def _check_archive(label: str, archive: zipfile.ZipFile) -> str:
    members = archive.infolist()
    names = {m.filename for m in members}
    if "mimetype" in names and b"opendocument.spreadsheet" in _head(archive, "mimetype"):
        fmt = "ods"
    elif "xl/workbook.xml" in names:
        fmt = "xlsx"
    else:
        raise LoadError(label, "this zip file is not an Excel workbook",
                        "Give a .xlsx file or a .csv file")
    for member in members:
        if member.filename.endswith((".xml", ".rels")):
            try:
                with archive.open(member) as part:
                    head = part.read(4096)
            except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile):
                raise LoadError(label, "the workbook is damaged or incomplete",
                                "Open it in Excel and save it again") from None
            if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                raise LoadError(label, "the workbook contains XML entity declarations, which "
                                       "Excel never writes (a possible XML bomb)",
                                "Export the sheet again from Excel")
    return fmt


def read_workbook_sheet(source: SheetInput, sheet: str | None,
                        reading: SheetReading | None = None, limits: ReadLimits = LIMITS,
                        *, in_process: bool = False) -> Sheet:
    """Sheet `sheet` (else the one with the edits) of the workbook, hidden rows and
    columns and merged ranges read as `reading` says (sheets/workbook_reading.py).

    The workbook is measured first (sheets/workbook_extent.py: refused beyond `limits`),
    then read by calamine in a child process (sheets/workbook_child.py), `in_process`
    only for benchmarks."""
    label = source.label
    fmt = _check_zip(source, sheet, limits)
    native = read_native(source, fmt, sheet, limits, in_process=in_process)
    chosen, chosen_note, first_col = native.chosen, native.chosen_note, native.first_col
    last_row, count, typed = native.last_row, native.count, native.typed
    width = len(native.columns)
    try:
        # calamine reads an error cell (#N/A…) as "" (or an ODS one as 0), and a formula
        # that no spreadsheet program ever calculated as its placeholder: find them.
        where = source.path if source.path is not None else source.data or b""
        scan = scan_workbook(where, fmt, chosen)
    except (ValueError, OSError) as exc:
        raise LoadError(label, f"the workbook cannot be read ({type(exc).__name__})",
                        "Open it in Excel and save it again as .xlsx") from None
    texts = list(native.columns)
    # Count back from the last used row: calamine yields the rows above the used
    # range as blanks in some versions and not in others.
    top = last_row + 1 - count  # the 0-based sheet row of grid row 0
    edits: dict[int, list[tuple[int, str]]] = {}
    for (row_index, col), text in scan.errors.items():  # a header cell keeps the text
        if 0 <= row_index - top < count and first_col <= col < first_col + width:
            edits.setdefault(col - first_col, []).append((row_index - top, text))
    for index, cells in edits.items():
        values = texts[index].to_pylist()
        for at, text in cells:
            values[at] = text
        texts[index] = pa.array(values, pa.string())
    # Columns left of the used range are empty; keep letters true to Excel.
    grid = [pa.chunked_array([pa.array([""] * count, pa.string())]) for _ in range(first_col)]
    grid += [pa.chunked_array([col]) for col in texts]
    numbers = list(range(top + 1, top + 1 + count))
    built = build_sheet(label, fmt, grid, numbers, sheet_name=chosen)
    if chosen_note is not None:
        built = replace(built, issues=(replace(chosen_note, row=built.header_row),
                                       *built.issues))
    if scan.errors or scan.uncalculated:
        built = _mark_formula_cells(built, scan)
        known = scan.errors.keys() | scan.uncalculated.keys()
        typed = [(r, c, v) for r, c, v in typed if (numbers[r] - 1, c) not in known]
    if typed:
        built = show_typed_cells(built, source, chosen, typed, numbers)
    return read_layout(built, scan.layout, reading)


def _mark_formula_cells(sheet: Sheet, scan: CellScan) -> Sheet:
    """Error cells and formulas never calculated, as problems at their cells (their value
    blanked): the value they stood for is unknown."""
    position = {number: i for i, number in enumerate(sheet.row_numbers)}
    letters = {column_letter(i): i for i in range(MAX_COLUMNS + 1)}
    found: dict[int, list[tuple[int, str, CellProblem]]] = {}
    for (row, col), text in scan.errors.items():
        if row + 1 in position:
            found.setdefault(col, []).append((position[row + 1], text, excel_error_problem(
                text, scan.formulas.get((row, col), ""))))
    for (row, col), formula in scan.uncalculated.items():
        if row + 1 in position and (row, col) not in scan.errors:
            shown = f"={formula}" if formula else "(a formula)"
            found.setdefault(col, []).append((position[row + 1], shown, CellProblem(
                "uncalculated_formula", (
                    f"the cell holds the formula {shown}, which no spreadsheet program has "
                    "calculated (the file was written by a script, like pandas' to_excel): "
                    "its value is unknown. Open the file in Excel or LibreOffice and save it, "
                    "or write the values instead of formulas"))))
    columns = []
    for column in sheet.columns:
        problems = found.get(letters[column.letter])
        if not problems:
            columns.append(column)
            continue
        values = column.values.to_pylist()
        for index, _, _ in problems:
            values[index] = ""
        columns.append(replace(column, values=pa.chunked_array([pa.array(values, pa.string())]),
                               problems=(*column.problems, *problems)))
    return replace(sheet, columns=tuple(columns))


# Fields whose values are text: a number typed in them means the text Excel shows.
_TEXT_KINDS = (Kind.TEXT, Kind.LIST, Kind.URL, Kind.VIDEO_ID)
# Excel keeps 15 significant digits: a longer number typed in a cell has lost its last ones.
_EXACT_DIGITS = 1e15


def _kind_of_cell(value: object) -> str:
    if isinstance(value, bool):
        return "TRUE/FALSE"
    return "time" if isinstance(value, time | timedelta) else "date"


def show_typed_cells(sheet: Sheet, source: SheetInput | None, chosen: str,
                      typed: list[tuple[int, int, object]], numbers: list[int]) -> Sheet:
    """Typed cells of text fields as the cell shows them: `12.50` typed in a cell shown
    with two decimals is 12.5 to calamine, and "12.50" to the person who typed it. A date
    or TRUE/FALSE cell shows in a form only Excel's locale knows: a problem."""
    letters = {column_letter(i): i for i in range(MAX_COLUMNS + 1)}
    text_columns = {letters[c.letter]: c for c in sheet.columns
                    if c.field in FIELDS and FIELDS[c.field].kind in _TEXT_KINDS}
    position = {number: i for i, number in enumerate(sheet.row_numbers)}
    found = {(numbers[row] - 1, col): value for row, col, value in typed
             if col in text_columns and numbers[row] in position}
    changed: dict[int, tuple[dict[int, str], list[tuple[int, str, CellProblem]]]] = {}
    cells: dict[tuple[int, int], float] = {}
    for (row, col), value in found.items():
        if value.__class__ is float or value.__class__ is int:
            cells[row, col] = value
            continue
        shown = cell_text(value)
        changed.setdefault(col, ({}, []))[1].append((position[row + 1], shown, CellProblem(
            "typed_cell_in_text", f"a {_kind_of_cell(value)} cell in a text field, which Excel "
                                  "shows in its own format and language; format the cell as "
                                  "Text and type the value as it should read")))
    if not cells and not changed:
        return sheet
    from bulkedit.core.numformat import general, render

    try:
        if source is None:  # a table: its numbers are General, as to_excel writes them
            scan = CellScan(formats=dict.fromkeys(cells, "General"))
        elif cells:
            where = source.path if source.path is not None else source.data or b""
            scan = scan_workbook(where, sheet.format, chosen, cells)
        else:
            scan = CellScan()
    except (ValueError, OSError):
        raise LoadError(sheet.source, "the workbook cannot be read (its cell formats)",
                        "Open it in Excel and save it again as .xlsx") from None
    for (row, col), value in cells.items():
        index = position[row + 1]
        texts, problems = changed.setdefault(col, ({}, []))
        stored = general(float(value)) or repr(value)
        if value == int(value) and abs(value) >= _EXACT_DIGITS:
            problems.append((index, stored, CellProblem(
                "lost_digits", "a number of more than 15 digits, whose last digits Excel "
                               "has already lost; format the column as Text and type it "
                               "again")))
            continue
        display = (scan.shown.get((row, col)) if sheet.format == "ods"
                   else render(float(value), scan.formats.get((row, col), "General")))
        if display is None:
            code = scan.formats.get((row, col), "?")
            problems.append((index, stored, CellProblem(
                "number_format", f"a number cell shown with the format {code!r}, which "
                                 f"bulkedit cannot read as Excel shows it (the number is "
                                 f"{stored}); format the cell as Text and type the value as "
                                 "it should read")))
            continue
        shown = display
        if "," in shown and FIELDS[text_columns[col].field or ""].kind is not Kind.TEXT:
            problems.append((index, shown, CellProblem(
                "number_format", f"a number shown as {shown}, which would be split into items "
                                 "at the comma; format the cell as Text and type the items")))
            continue
        if "." in shown or "," in shown:
            # Excel shows the separators of the viewer's language: 12.50 here is 12,50 to
            # a French or German eye, and the person typed what they saw.
            other = shown.translate(str.maketrans(",.", ".,"))
            problems.append((index, shown, CellProblem(
                "number_locale", f"a number cell, whose separators follow Excel's language "
                                 f"(English {shown}, German {other}); bulkedit sends {shown}. "
                                 "Format the cell as Text to send exactly what you typed",
                Severity.WARNING)))
        texts[index] = shown
    columns = []
    for column in sheet.columns:
        col = letters[column.letter]
        if col not in changed:
            columns.append(column)
            continue
        texts, problems = changed[col]
        values = column.values.to_pylist()
        for at, text in texts.items():
            values[at] = text
        columns.append(replace(column, values=pa.chunked_array([pa.array(values, pa.string())]),
                               problems=(*column.problems, *problems)))
    return replace(sheet, columns=tuple(columns))

