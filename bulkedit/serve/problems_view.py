"""What the sheet page shows of a validation, problems first: the counts (validate's),
the header problems that block the whole sheet, then the rows, a page at a time, each
with its problems (Excel row, column, value, fix), all rows or only those with problems.
Pure: built from a ValidationResult, no I/O."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass

from bulkedit.core.display import clipped
from bulkedit.core.problems import PROBLEMS
from bulkedit.core.schema import FIELDS
from bulkedit.core.types import Issue
from bulkedit.core.validation import ValidationResult

PAGE_SIZE = 50
SHOWN_CHARS = 300  # of a cell on the page; a cell may hold 32 MiB


@dataclass(frozen=True)
class ProblemView:
    row: int
    column: str
    value: str
    code: str
    severity: str
    message: str
    fix: str


@dataclass(frozen=True)
class Counts:
    rows: int
    valid: int
    invalid: int
    errors: int
    warnings: int
    header_errors: int
    by_code: tuple[tuple[str, str, int], ...]  # (code, title, how many), most first


@dataclass(frozen=True)
class Cell:
    header: str
    value: str
    flagged: bool  # a problem names this cell's column


@dataclass(frozen=True)
class RowView:
    row: int  # as Excel numbers it
    cells: tuple[Cell, ...]
    problems: tuple[ProblemView, ...]


@dataclass(frozen=True)
class RowsPage:
    headers: tuple[str, ...]
    rows: tuple[RowView, ...]
    page: int
    pages: int
    matching: int  # rows shown over all pages
    only_problems: bool


def problem_view(issue: Issue) -> ProblemView:
    known = PROBLEMS.get(issue.code)
    return ProblemView(issue.row, issue.column, clipped(issue.value, SHOWN_CHARS), issue.code,
                       issue.severity.value, issue.message, known.fix if known else "")


def counts(result: ValidationResult) -> Counts:
    """The numbers `bulkedit validate` prints (and --json holds), and how many per code."""
    codes = Counter(issue.code for issue in result.issues)
    by_code = tuple((code, PROBLEMS[code].title if code in PROBLEMS else code, n)
                    for code, n in sorted(codes.items(), key=lambda item: (-item[1], item[0])))
    return Counts(result.row_count, result.valid_count, len(result.invalid_rows),
                  len(result.errors), len(result.warnings), len(result.header_errors), by_code)


def sheet_problems(result: ValidationResult) -> tuple[ProblemView, ...]:
    """Problems of no data row: the header row's (its errors block every row, as
    `result.header_errors` says) and the sheet's own notes."""
    data_rows = set(result.sheet.row_numbers)
    return tuple(problem_view(i) for i in result.issues if i.row not in data_rows)


def rows_page(result: ValidationResult, page: int, only_problems: bool,
              size: int = PAGE_SIZE) -> RowsPage:
    sheet = result.sheet
    by_row: dict[int, list[Issue]] = defaultdict(list)
    for issue in result.issues:
        by_row[issue.row].append(issue)
    positions: range | list[int] = range(len(sheet))
    if only_problems:
        positions = [p for p, number in enumerate(sheet.row_numbers) if number in by_row]
    pages = max(1, math.ceil(len(positions) / size))
    page = min(max(1, page), pages)
    shown = positions[(page - 1) * size:page * size]
    rows = []
    for position in shown:
        number = sheet.row_numbers[position]
        issues = by_row.get(number, [])
        named = {issue.column for issue in issues}
        cells = []
        for column in sheet.columns:
            text = column.values[position].as_py() or ""
            spec = FIELDS.get(column.field or "")
            if spec is not None:
                text = spec.shown(text)  # a password is *** here as everywhere
            cells.append(Cell(column.header, clipped(text, SHOWN_CHARS), column.header in named))
        rows.append(RowView(number, tuple(cells), tuple(problem_view(i) for i in issues)))
    return RowsPage(tuple(c.header for c in sheet.columns), tuple(rows), page, pages,
                    len(positions), only_problems)
