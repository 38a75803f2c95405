"""Read a CSV into a `Sheet`: the delimiter (or Excel's `sep=` line), Arrow's fast reader,
the csv module for ragged rows and legacy code pages, error literals and Excel's escapes."""

from __future__ import annotations

import csv
import io
import itertools
import re
from dataclasses import replace

import pyarrow as pa
import pyarrow.compute as pc

from bulkedit.core.cells import CSV_ESCAPED_PATTERN, EXCEL_ERROR_CELL, CellProblem
from bulkedit.core.errors import LoadError
from bulkedit.core.sheet import Column, Sheet, SheetReading
from bulkedit.core.types import Issue, Severity
from bulkedit.sheets.encoding import (
    CODE_PAGES,
    NON_ASCII,
    STRAY_BYTES,
    decode_sample,
    decoded,
    is_utf8,
    looks_binary,
    not_utf8,
    word_at,
)
from bulkedit.sheets.grid import build_sheet
from bulkedit.sheets.limits import (
    LIMITS,
    MAX_COLUMNS,
    MAX_FIELD_BYTES,
    ReadLimits,
    SheetRefused,
    count,
)
from bulkedit.sheets.report import ISSUE_HEADERS, OWN_MARK
from bulkedit.sheets.source import SheetInput

_DELIMITERS = (",", ";", "\t")
_BLOCK_SIZE = MAX_FIELD_BYTES  # Arrow cannot parse a row that straddles two blocks
_SEP_HINT = re.compile(r"^sep=([,;\t|])(?:\r\n|\r|\n)")
# Every line-end convention a CSV is saved with: Windows CRLF, Unix LF, classic Mac CR.
_LINE_END = re.compile(r"\r\n|\r|\n")


def check_lines(source: SheetInput, limits: ReadLimits = LIMITS) -> None:
    """Refuse a CSV with a line longer than a cell may be, streaming: two searches per
    block, so a 300 MB file with no line break is refused at its first 32 MiB, without
    being read into memory."""
    cap = limits.field_bytes
    block_size = max(min(1 << 20, cap), 1)
    run = 0  # bytes since the last line break
    line = 1
    with source.binary() as handle:
        while block := handle.read(block_size):
            first = min((at for at in (block.find(b"\n"), block.find(b"\r")) if at >= 0),
                        default=-1)
            if first < 0:
                run += len(block)
            else:
                run += first
                if run <= cap:
                    line += block.count(b"\n") or block.count(b"\r")
                    run = len(block) - 1 - max(block.rfind(b"\n"), block.rfind(b"\r"))
            if run > cap:
                raise _too_long(source.label, f"line {count(line)}, with no line break,", limits)


def _too_long(label: str, what: str, limits: ReadLimits) -> SheetRefused:
    return SheetRefused(label, "cell_too_large", (
        f"{what} holds more than {count(limits.field_bytes)} bytes, more than any cell "
        "bulkedit reads"),
        "Check that this is the sheet you meant, that every double quote (\") is closed, "
        "and save it again from Excel as CSV UTF-8")


def _sniff_delimiter(text: str) -> str:
    """The delimiter of the first line: the candidate that occurs most outside quotes."""
    counts = dict.fromkeys(_DELIMITERS, 0)
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char in "\r\n" and not quoted:
            break
        elif char in counts and not quoted:
            counts[char] += 1
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv_sheet(source: SheetInput, head: bytes, forced: str | None = None, *,
                   reading: SheetReading | None = None, limits: ReadLimits = LIMITS) -> Sheet:
    reading = reading or SheetReading()
    check_lines(source, limits)
    ignored = None
    if forced is not None and forced not in ("utf-8", "utf-16") and is_utf8(source, head):
        # A BOM, or text that is valid UTF-8 throughout, is UTF-8 whatever the option says:
        # a nightly job's --encoding must not garble the "CSV UTF-8" files dropped in.
        ignored, forced = forced, None
    encoding, sample = decode_sample(head, forced)
    # Valid UTF-8 is text, whatever control characters it holds (the validator names
    # their cells); binary data is almost never valid UTF-8.
    if encoding == "legacy" and looks_binary(head):
        raise LoadError(source.label, "this is not a spreadsheet (it holds binary data)",
                        "Give a .xlsx file or a .csv file saved from Excel")
    hint = _SEP_HINT.match(sample)
    skip = 1 if hint else 0  # Excel's "sep=;" first line: the delimiter, not a row
    delimiter = hint.group(1) if hint else _sniff_delimiter(sample)
    lines = _LINE_END.split(sample, 2)
    first_line = lines[skip] if len(lines) > skip else sample
    if first_line.count(delimiter) >= MAX_COLUMNS:
        raise LoadError(source.label, f"the sheet has more than {MAX_COLUMNS} columns",
                        "Delete the columns you do not edit")
    grid: list[pa.ChunkedArray] | None = None
    text: str | None = None
    if encoding in ("utf-8", "utf-16"):
        try:
            grid = _read_csv_arrow(source, sample, encoding, delimiter, skip)
            # Arrow reads a quote left open as one last cell holding the rest of the file;
            # then the last row has a line break in a cell, and the careful path decides.
            if _last_row_spans_lines(grid):
                grid = None
        except pa.ArrowInvalid as exc:
            if "straddling" in str(exc):  # a row longer than a block: a cell past the cap
                raise _too_long(source.label, "a row (a quoted cell over many lines, or a "
                                "quote never closed)", limits) from None
            if encoding == "utf-8" and "UTF8" in str(exc):
                encoding = "legacy"  # a byte that is not UTF-8 past the first 64 KiB
        except UnicodeDecodeError:
            pass  # UTF-16 cut short or broken: decoding it whole names the line
    if encoding == "legacy":
        text, encoding = not_utf8(source.label, source.all())
    elif grid is None:
        text = decoded(source.label, source.all(), encoding)
    if grid is None:  # ragged rows, blank lines or another encoding: the careful path
        assert text is not None
        grid = _read_csv_python(source.label, text, delimiter, skip)
    rows = len(grid[0]) if grid else 0
    # Exact error literals are found before the apostrophe that makes '#N/A text is removed.
    errors = [_error_literals(col) for col in grid]
    own = _written_by_bulkedit(grid)
    if own:
        grid = [_unescape(col) for col in grid]
    sheet = build_sheet(source.label, "csv", grid, list(range(1, rows + 1)), errors,
                         encoding=encoding, delimiter=delimiter)
    if not own:  # bulkedit's own CSVs hold exactly the values it wrote
        sheet = _read_user_text(sheet, reading)
    if encoding == STRAY_BYTES:
        return _mark_stray_bytes(sheet)
    if ignored is not None:
        note = Issue(sheet.header_row, "", "", "encoding", (
            f"the file is UTF-8, so it was read as UTF-8, not as --encoding {ignored}"),
            Severity.WARNING)
        return replace(sheet, issues=(note, *sheet.issues))
    if forced is None and encoding not in ("utf-8", "utf-16"):
        assert text is not None
        samples = list(dict.fromkeys(word_at(text, m.start())
                                     for m in NON_ASCII.finditer(text)))[:4]
        note = Issue(sheet.header_row, "", "", "encoding", (
            f"the file is not UTF-8: read as {CODE_PAGES.get(encoding, encoding)}, which "
            f"gives {', '.join(samples)}; if a letter looks wrong, save it as CSV UTF-8, "
            "or pass --encoding"), Severity.WARNING)
        return replace(sheet, issues=(note, *sheet.issues))
    return sheet


def _mark_stray_bytes(sheet: Sheet) -> Sheet:
    """In a UTF-8 file with a few bytes that are not UTF-8, the cells holding them."""
    problem = CellProblem("not_utf8", "holds bytes that are not UTF-8 (shown as \ufffd), though "
                                      "the rest of the file is: retype those characters, or "
                                      "save the sheet as CSV UTF-8")
    columns = []
    for column in sheet.columns:
        marked = pc.match_substring(column.values, "\ufffd")
        if not pc.any(marked).as_py():
            columns.append(column)
            continue
        found = tuple((i, column.values[i].as_py(), problem)
                      for i in pc.indices_nonzero(marked).to_pylist())
        columns.append(replace(column, problems=(*column.problems, *found)))
    issues = sheet.issues
    headers = [c.header for c in sheet.columns if "\ufffd" in c.header]
    if headers:
        issues = (Issue(sheet.header_row, headers[0], headers[0], "not_utf8",
                        "the header holds bytes that are not UTF-8; retype it, or save the "
                        "sheet as CSV UTF-8"), *issues)
    return replace(sheet, columns=tuple(columns), issues=issues)


def _last_row_spans_lines(grid: list[pa.ChunkedArray]) -> bool:
    if not grid or not len(grid[0]):
        return False
    return any(("\n" in (v := col[-1].as_py()) or "\r" in v) for col in grid)


def _error_literals(column: pa.ChunkedArray) -> pa.ChunkedArray | None:
    """Which cells are exactly a spreadsheet error (#N/A…), what Excel writes to a CSV for
    a failed formula; None when there are none. `'#N/A` is the text itself."""
    # Prefix tests cost a fiftieth of the regex: most columns hold no candidate at all.
    candidate = pc.starts_with(column, "#")
    for prefix in (" ", "\t", "Err:", "ERR:", "err:"):
        candidate = pc.or_(candidate, pc.starts_with(column, prefix))
    if not pc.any(candidate).as_py():
        return None
    errors = pc.match_substring_regex(column, EXCEL_ERROR_CELL)
    return errors if pc.any(errors).as_py() else None


def _written_by_bulkedit(grid: list[pa.ChunkedArray]) -> bool:
    """Is this a CSV bulkedit wrote (sheets/report.py): a results sheet (its #status and
    #error columns), a problems report (its headers), or one carrying OWN_MARK (a rollback
    sheet with escaped cells, an export)? Its apostrophes are then bulkedit's Excel escapes.
    Excel keeps the headers when it saves a filtered copy, so the copy is known too."""
    if not grid or not len(grid[0]):
        return False
    headers = [col[0].as_py() for col in grid]
    return (OWN_MARK in headers or {"#status", "#error"} <= set(headers)
            or tuple(headers) == ISSUE_HEADERS)


# Excel's text formula, a whole cell: ="007" (report generators write it so that Excel
# keeps the leading zeros; "" inside is one quote). Excel shows the text between the quotes.
_TEXT_FORMULA = r'^="((?:[^"]|"")*)"$'


def _read_user_text(sheet: Sheet, reading: SheetReading) -> Sheet:
    """A user's CSV keeps its characters: a leading apostrophe is text (Excel shows it; only
    an XLSX has a quote prefix), with a warning where it stands before a formula character;
    Excel's ="007" is read as its text 007, with a warning naming the cells."""
    issues: list[Issue] = []
    columns: list[Column] = []
    for column in sheet.columns:
        values = column.values
        if column.is_comment or column.field is None or not len(values):
            columns.append(column)
            continue
        # Found before an apostrophe is stripped: '="007" is then the text ="007".
        formula = None
        if pc.any(pc.starts_with(values, "=")).as_py():
            formula = pc.match_substring_regex(values, _TEXT_FORMULA)
        if pc.any(pc.starts_with(values, "'")).as_py():
            if reading.strip_apostrophes:
                values = _unescape(values)
            elif at := pc.indices_nonzero(
                    pc.match_substring_regex(values, CSV_ESCAPED_PATTERN)).to_pylist():
                issues.append(_apostrophe_issue(sheet, column, at))
        if formula is not None and (at := pc.indices_nonzero(formula).to_pylist()):
            inner = pc.replace_substring(
                pc.replace_substring_regex(values, _TEXT_FORMULA, r"\1"), '""', '"')
            values = pc.if_else(formula, inner, values)
            issues.append(_text_formula_issue(sheet, column, at, values))
        if values is not column.values:
            column = replace(column, values=values)
        columns.append(column)
    return replace(sheet, columns=tuple(columns), issues=(*sheet.issues, *issues))


def _apostrophe_issue(sheet: Sheet, column: Column, at: list[int]) -> Issue:
    value = column.values[at[0]].as_py()
    count = (f"{len(at)} cells in this column start" if len(at) > 1
             else "this cell starts")
    return Issue(sheet.row_numbers[at[0]], column.header, value, "csv_apostrophe", (
        f"{count} with an apostrophe before a formula character (=, +, -, @) or an error "
        f"such as #N/A, like {value}. In a CSV the apostrophe is part of the text (Excel "
        "shows it), so it is kept and sent; if it only keeps Excel from reading a formula, "
        "pass --strip-apostrophes to remove it"), Severity.WARNING)


def _text_formula_issue(sheet: Sheet, column: Column, at: list[int],
                        texts: pa.ChunkedArray | pa.Array) -> Issue:
    value, text = column.values[at[0]].as_py(), texts[at[0]].as_py()
    rows = [str(sheet.row_numbers[i]) for i in at[:5]]
    more = f" and {len(at) - 5} more" if len(at) > 5 else ""
    where = f"rows {', '.join(rows)}{more} hold" if len(at) > 1 else f"row {rows[0]} holds"
    return Issue(sheet.row_numbers[at[0]], column.header, value, "excel_text_formula", (
        f"{where} Excel's text formula =\"…\", read as the text between the quotes, as "
        f"Excel shows it: {value} is read as {text}. To send {value} as typed, write "
        f"'{value} and pass --strip-apostrophes"), Severity.WARNING)


def _unescape(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Remove the apostrophe that makes Excel show a formula-like cell as text."""
    if not pc.any(pc.starts_with(column, "'")).as_py():
        return column  # the common case costs a scan, not a copy
    return pc.replace_substring_regex(column, CSV_ESCAPED_PATTERN, r"\1")


def _read_csv_arrow(source: SheetInput, sample: str, encoding: str, delimiter: str, skip: int
                    ) -> list[pa.ChunkedArray]:
    """Fast path: Arrow's CSV reader, every cell as text, empty lines kept as rows."""
    import pyarrow.csv as pacsv

    # newline="": the csv module splits records at CR, LF and CRLF alike, never inside
    # quotes (a classic Mac file has CR only). The sample may end inside a quoted cell.
    records = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
    try:
        first = next(itertools.islice(records, skip, None), [])
    except csv.Error:
        parts = _LINE_END.split(sample, skip + 1)
        first = parts[skip].split(delimiter) if len(parts) > skip else []
    names = [f"c{i}" for i in range(max(len(first), 1))]
    table = pacsv.read_csv(
        source.stream(),
        # Blocks larger than any sane row: Arrow cannot parse a row that straddles two.
        read_options=pacsv.ReadOptions(encoding=encoding, column_names=names, skip_rows=skip,
                                       block_size=_BLOCK_SIZE),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True,
                                         ignore_empty_lines=False),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                             strings_can_be_null=False,
                                             quoted_strings_can_be_null=False),
    )
    return list(table.columns)


def _read_csv_python(label: str, text: str, delimiter: str, skip: int
                     ) -> list[pa.ChunkedArray]:
    """Careful path for ragged rows, blank lines and other encodings: the csv module,
    record by record, over the decoded text."""
    rows: list[list[str]] = []
    csv.field_size_limit(max(csv.field_size_limit(), _BLOCK_SIZE))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        for record in reader:
            rows.append(record)
    except csv.Error as exc:
        row = len(rows) + 1 - skip
        if "field larger than field limit" in str(exc):
            raise _too_long(label, f"a cell of row {row}", LIMITS) from None
        if "unexpected end of data" in str(exc):
            raise LoadError(label, f"a quoted cell that starts on row {row} is never "
                                          "closed", "Add the missing double quote (\") or "
                                          "save the sheet again from Excel") from None
        raise LoadError(label, f"row {row} cannot be read as CSV ({exc})",
                        "Open it in Excel and save it again as CSV") from None
    rows = rows[skip:]
    width = max((len(r) for r in rows), default=0)
    return [pa.chunked_array([pa.array([r[i] if i < len(r) else "" for r in rows], pa.string())])
            for i in range(width)]

