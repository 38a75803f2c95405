"""Read an XLSX or ODS workbook into a `Sheet`: the archive checked (zip and XML bombs),
the sheet chosen, every cell as the text the grammar reads, and typed cells (numbers,
dates, errors, formulas never calculated) shown as the person saw them."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from datetime import date, datetime, time, timedelta

import pyarrow as pa

from bulkedit.core.cells import CellProblem, date_cell_text, excel_error_problem
from bulkedit.core.errors import LoadError
from bulkedit.core.schema import FIELDS, Kind
from bulkedit.core.sheet import Sheet, SheetReading, column_letter
from bulkedit.core.types import Issue, Severity
from bulkedit.sheets.grid import MAX_COLUMNS, build_sheet
from bulkedit.sheets.source import SheetInput
from bulkedit.sheets.workbook_reading import read_layout
from bulkedit.sheets.workbook_scan import CellScan, scan_workbook
from bulkedit.sheets.workbook_tabs import active_sheet, choose_sheet

# XLSX parts are XML that Excel compresses 5-20x. A part that inflates more than
# this, or a workbook bigger than this in all, is a zip bomb, not a spreadsheet.
MAX_UNCOMPRESSED_BYTES = 4 * 1024**3
MAX_COMPRESSION_RATIO = 200


def _check_zip(source: SheetInput) -> str:
    """Refuse zip bombs and XML with entity declarations; return the format."""
    try:
        with source.binary() as handle, zipfile.ZipFile(handle) as archive:
            return _check_archive(source.label, archive)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise LoadError(source.label, "the workbook is damaged or incomplete (not a valid zip)",
                        "Open it in Excel; if it opens, save it again, else get a new copy"
                        ) from None


def _check_archive(label: str, archive: zipfile.ZipFile) -> str:
    members = archive.infolist()
    names = {m.filename for m in members}
    if "mimetype" in names and b"opendocument.spreadsheet" in archive.read("mimetype"):
        fmt = "ods"
    elif "xl/workbook.xml" in names:
        fmt = "xlsx"
    else:
        raise LoadError(label, "this zip file is not an Excel workbook",
                        "Give a .xlsx file or a .csv file")
    total = sum(m.file_size for m in members)
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > 100 * 1024**2 and ratio > MAX_COMPRESSION_RATIO:
            total = MAX_UNCOMPRESSED_BYTES + 1
    if total > MAX_UNCOMPRESSED_BYTES:
        raise LoadError(label, "the workbook inflates to an implausible size (a zip bomb)",
                        "Export the sheet again from Excel")
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
    if isinstance(value, datetime | date):
        return date_cell_text(value)
    if isinstance(value, time | timedelta):
        return str(value)
    return str(value)


def read_workbook_sheet(source: SheetInput, sheet: str | None,
                        reading: SheetReading | None = None) -> Sheet:
    """Sheet `sheet` (else the one with the edits) of the workbook, hidden rows and
    columns and merged ranges read as `reading` says (sheets/workbook_reading.py)."""
    import python_calamine as cal

    label = source.label
    fmt = _check_zip(source)
    chosen_note: Issue | None = None
    try:
        # calamine reads a path itself; a file-like upload is handed over in memory.
        book = (cal.CalamineWorkbook.from_path(str(source.path)) if source.path is not None
                else cal.CalamineWorkbook.from_filelike(io.BytesIO(source.data or b"")))
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
            chosen, worksheet, chosen_note = choose_sheet(
                label, book, visible, active_sheet(source, fmt, list(book.sheet_names)))
        elif visible:
            chosen = visible[0]
            worksheet = book.get_sheet_by_name(chosen)
        else:
            raise LoadError(label, "the workbook has no visible worksheet",
                            "Unhide the sheet with your edits or pass --sheet NAME")
        first_col = (worksheet.start or (0, 0))[1]
        last_row = (worksheet.end or (0, 0))[0]
        rows = worksheet.iter_rows()
        width = worksheet.width
        texts: list[list[str]] = [[] for _ in range(width)]
        count = 0
        appends = [column.append for column in texts]
        padding = [""] * width
        typed: list[tuple[int, int, object]] = []  # (grid row, column, value) of non-text
        converted: list[object] = []  # the typed cells met, to find their rows cheaply

        def convert(value: object) -> str:
            converted.append(value)
            return cell_text(value)

        for row in rows:
            if len(row) < width:
                row = [*row, *padding[len(row):]]
            seen = len(converted)
            for append, value in zip(appends, row, strict=False):
                # Most cells are text: skip the conversion call for them.
                append(value if value.__class__ is str else convert(value))
            if len(converted) != seen:  # a typed cell: note where, for text fields
                typed.extend((count, first_col + j, v) for j, v in enumerate(row)
                             if v.__class__ is not str)
            count += 1
        book.close()
        # calamine reads an error cell (#N/A…) as "" (or an ODS one as 0), and a formula
        # that no spreadsheet program ever calculated as its placeholder: find them.
        where = source.path if source.path is not None else source.data or b""
        scan = scan_workbook(where, fmt, chosen)
    except LoadError:
        raise
    except (cal.CalamineError, cal.PasswordError, cal.XmlError, cal.ZipError,
            ValueError, OSError) as exc:
        raise LoadError(label, f"the workbook cannot be read ({type(exc).__name__})",
                        "Open it in Excel and save it again as .xlsx") from None
    # Count back from the last used row: calamine yields the rows above the used
    # range as blanks in some versions and not in others.
    top = last_row + 1 - count  # the 0-based sheet row of grid row 0
    for (row_index, col), text in scan.errors.items():  # a header cell keeps the text
        if 0 <= row_index - top < count and first_col <= col < first_col + width:
            texts[col - first_col][row_index - top] = text
    # Columns left of the used range are empty; keep letters true to Excel.
    grid = [pa.chunked_array([pa.array([""] * count, pa.string())]) for _ in range(first_col)]
    grid += [pa.chunked_array([pa.array(col, pa.string())]) for col in texts]
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

