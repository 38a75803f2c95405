"""From a grid of text columns to a `Sheet`: the header row found (a title may stand above
it), blank rows dropped, headers resolved to fields, error cells set apart."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from bulkedit.core.cells import EXCEL_ERROR_CELL, CellProblem, excel_error_problem, remove_invisible
from bulkedit.core.charclasses import INVISIBLE_CHARS
from bulkedit.core.errors import LoadError
from bulkedit.core.schema import ID_COLUMN, header_key, is_id_alias, resolve_header
from bulkedit.core.sheet import Column, Sheet, column_letter
from bulkedit.core.types import Issue, Severity
from bulkedit.sheets.limits import MAX_COLUMNS

_BLANK = rf"^(?:\s|{INVISIBLE_CHARS})*$"  # nothing a person can see


def build_sheet(label: str, fmt: str, grid: Sequence[pa.ChunkedArray], numbers: list[int],
                 errors: Sequence[pa.ChunkedArray | None] = (), **extra: object) -> Sheet:
    """Find the header, drop blank rows, resolve headers to fields. `errors` marks, per
    column, the cells that held a spreadsheet error (their text is the error's)."""
    if len(grid) > MAX_COLUMNS:
        raise LoadError(label, f"the sheet has {len(grid)} columns; bulkedit reads at most "
                               f"{MAX_COLUMNS}", "Delete the columns you do not edit")
    if not grid or not len(grid[0]):
        raise LoadError(label, "the sheet is empty", "Put the headers on row 1")
    blank = None
    for col in grid:  # a regex scan, not a trimmed copy of every column
        is_blank = pc.match_substring_regex(col, _BLANK)
        blank = is_blank if blank is None else pc.and_(blank, is_blank)
    kept = pc.indices_nonzero(pc.invert(blank))
    if len(kept) == 0:
        raise LoadError(label, "the sheet is empty", "Put the headers on row 1")
    header_at = _header_position(grid, kept)
    header_index = kept[header_at].as_py()
    headers, header_issues = _clean_headers(
        [col[header_index].as_py() for col in grid], numbers[header_index])
    data_rows = kept[header_at + 1:]
    if len(data_rows) == 0:
        raise LoadError(label, "the sheet has a header row but no data rows",
                        "Add one row per video below the headers")
    first, last = data_rows[0].as_py(), data_rows[-1].as_py()
    contiguous = last - first + 1 == len(data_rows)  # no blank rows inside

    def rows_of(col: pa.ChunkedArray) -> pa.ChunkedArray:
        return col.slice(first, len(data_rows)) if contiguous else col.take(data_rows)

    values = [rows_of(col) for col in grid]
    row_numbers = (tuple(numbers[first:last + 1]) if contiguous
                   else tuple(numbers[i] for i in data_rows.to_pylist()))
    marks = [None if i >= len(errors) or errors[i] is None else rows_of(errors[i])
             for i in range(len(grid))]
    columns = _resolve_columns(label, headers, [_split_errors(v, m)
                                                for v, m in zip(values, marks, strict=True)])
    issues = header_issues + tuple(
        Issue(numbers[header_index], "", "", "no_header",
              f"column {c.letter} has values but no header; add the field name on row "
              f"{numbers[header_index]} or delete the column")
        for c in columns if c.field is None and c.header == "")
    if header_at:
        first = numbers[kept[0].as_py()]
        issues += (Issue(first, "", "", "above_header",
                         f"rows {first} to {numbers[header_index] - 1} are above the header "
                         f"(row {numbers[header_index]}) and are ignored", Severity.WARNING),)
    return Sheet(label, fmt, columns, row_numbers, header_row=numbers[header_index],
                 issues=issues, **extra)  # type: ignore[arg-type]


def _clean_headers(cells: list[str], row: int) -> tuple[list[str], tuple[Issue, ...]]:
    """Headers without outer spaces and invisible characters (a header pasted from a web
    page can hold a zero-width space, and 'tags' would not be 'tags')."""
    headers: list[str] = []
    issues: list[Issue] = []
    for cell in cells:
        header, removed = remove_invisible(cell)
        header = header.strip()
        if removed:
            issues.append(Issue(row, header, header, "invisible_char",
                                f"{removed} from the header", Severity.WARNING))
        headers.append(header)
    return headers, tuple(issues)


def _split_errors(values: pa.ChunkedArray, marked: pa.ChunkedArray | None
                  ) -> tuple[pa.ChunkedArray, tuple[tuple[int, str, CellProblem], ...]]:
    """The column's values with error cells blanked, and their problems (only a CSV marks
    its error cells here: a workbook's are found in its XML, workbook.py)."""
    if marked is None or not pc.any(marked).as_py():
        return values, ()
    positions = pc.indices_nonzero(marked).to_pylist()
    texts = [values[i].as_py().strip() for i in positions]
    problems = tuple((i, text, excel_error_problem(text, csv=True))
                     for i, text in zip(positions, texts, strict=True))
    return pc.if_else(marked, "", values), problems


def _header_position(grid: Sequence[pa.ChunkedArray], kept: pa.Array) -> int:
    """Which non-blank row is the header: the first of the first 20 that names the id
    column (a title or a note may stand above it), else the first."""
    for position in range(min(20, len(kept))):
        index = kept[position].as_py()
        if any(is_id_alias(remove_invisible(str(col[index].as_py()))[0].strip())
               for col in grid):
            return position
    return 0


_ERROR_HEADER = re.compile(EXCEL_ERROR_CELL)


def _resolve_columns(label: str, headers: list[str],
                     values: list[tuple[pa.ChunkedArray,
                                        tuple[tuple[int, str, CellProblem], ...]]]
                     ) -> tuple[Column, ...]:
    has_other_id = any(is_id_alias(h) and header_key(h) != "url" for h in headers)
    resolved: list[Column] = []
    seen: dict[str, Column] = {}
    for index, (header, (column_values, errors)) in enumerate(zip(headers, values,
                                                                  strict=True)):
        letter = column_letter(index)
        if _ERROR_HEADER.match(header):  # before the # of a comment column
            raise LoadError(label, f"the header of column {letter} holds the spreadsheet error "
                                   f"{header}, so the field it names is unknown",
                            f"Type the field name in column {letter} of the header row")
        if header.startswith("#"):
            field_name: str | None = "#"
        elif header == "":
            if not errors and pc.all(pc.match_substring_regex(column_values, _BLANK)).as_py():
                continue  # an unused, unnamed column
            field_name = None
        elif is_id_alias(header) and (header_key(header) != "url" or not has_other_id):
            field_name = ID_COLUMN
        else:
            field_name = resolve_header(header)
        column = Column(header, field_name, letter, column_values, errors)
        if field_name not in (None, "#"):
            if field_name in seen:
                first = seen[field_name]
                raise LoadError(label, f"columns {first.letter} ('{first.header}') and {letter} "
                                       f"('{header}') both mean {field_name}",
                                "Keep one of them, or start the other's header with # to "
                                "turn it into a comment")
            seen[field_name] = column
        resolved.append(column)
    return tuple(resolved)

