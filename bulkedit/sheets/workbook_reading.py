"""A workbook's layout read as the user chose (SheetReading, issue 25): hidden and filtered
rows, hidden columns and merged ranges are never read silently.

Only what would be read matters: data rows (below the header, not blank) and read columns
(every column but the `#` comments). A hidden blank row, a hidden empty column, a merge
in the header or over comment cells is harmless and passes without a word.
"""

from __future__ import annotations

import bisect
from dataclasses import replace

import pyarrow as pa
import pyarrow.compute as pc

from bulkedit.core.cells import CellProblem
from bulkedit.core.errors import LoadError
from bulkedit.core.sheet import HIDDEN_ROW, Column, Sheet, SheetReading, column_letter
from bulkedit.core.types import Issue, Severity
from bulkedit.sheets.workbook_layout import Layout, Range, range_name

HIDDEN_WAYS_OUT = ("Pass --skip-hidden to send only the visible rows (the hidden ones are "
                   "reported as skipped and hidden columns ignored), or --include-hidden "
                   "to read them as if they were visible")


def read_layout(sheet: Sheet, layout: Layout, reading: SheetReading | None) -> Sheet:
    """`sheet` as `reading` says to read its merged ranges and hidden rows and columns;
    a LoadError where the user has not said."""
    reading = reading or SheetReading()
    if reading.hidden not in ("refuse", "skip", "include"):
        raise ValueError(f"unknown hidden-rows policy {reading.hidden!r}")
    if layout.empty:
        return sheet
    index = {c.letter: i for i, c in enumerate(sheet.columns)}
    columns = {_column_index(c.letter): c for c in sheet.columns if not c.is_comment}
    if layout.merges:
        sheet = _read_merges(sheet, layout.merges, columns, reading.spread_merged)
        columns = {_column_index(c.letter): c for c in sheet.columns if not c.is_comment}
    hidden, filtered = _hidden_data_rows(sheet, layout)
    hidden_columns = [c for i, c in columns.items() if _covers(layout.hidden_columns, i)
                      and _has_values(c)]
    if not hidden and not hidden_columns:
        return sheet
    if reading.hidden == "refuse":
        raise LoadError(sheet.source, _what_is_hidden(hidden, filtered, hidden_columns),
                        HIDDEN_WAYS_OUT)
    if reading.hidden == "include":
        what = []
        if hidden:
            what.append(f"{len(hidden)} hidden row{'s' * (len(hidden) != 1)}"
                        + (f" ({len(filtered)} filtered out by the autofilter)"
                           if filtered else ""))
        if hidden_columns:
            what.append(_columns_named(hidden_columns))
        return replace(sheet, issues=(*sheet.issues, Issue(
            sheet.header_row, "", "", "hidden_included",
            f"read {' and '.join(what)} as if visible (--include-hidden)", Severity.WARNING)))
    issues = list(sheet.issues)
    if hidden_columns:
        issues.append(Issue(sheet.header_row, "", "", "hidden_column",
                            f"{_columns_named(hidden_columns)} "
                            f"{'is' if len(hidden_columns) == 1 else 'are'} hidden and "
                            "ignored (--skip-hidden)", Severity.WARNING))
        dropped = {index[c.letter] for c in hidden_columns}
        sheet = replace(sheet, columns=tuple(c for i, c in enumerate(sheet.columns)
                                             if i not in dropped))
    for number in hidden:
        issues.append(Issue(number, "", "", HIDDEN_ROW, (
            "filtered out by the autofilter (--skip-hidden): not sent" if number in filtered
            else "hidden row (--skip-hidden): not sent"), Severity.WARNING))
    return replace(sheet, issues=tuple(issues), hidden_rows=frozenset(hidden))


def compact_rows(numbers: list[int]) -> str:
    """Row numbers as ranges: "rows 5-9, 14", "row 3"."""
    runs: list[str] = []
    start = prev = None
    for n in sorted(numbers):
        if prev is not None and n == prev + 1:
            prev = n
            continue
        if start is not None:
            runs.append(f"{start}-{prev}" if prev != start else str(start))
        start = prev = n
    if start is not None:
        runs.append(f"{start}-{prev}" if prev != start else str(start))
    word = "row" if len(numbers) == 1 else "rows"
    shown = runs if len(runs) <= 12 else [*runs[:12], f"… ({len(numbers)} in all)"]
    return f"{word} {', '.join(shown)}"


def _column_index(letter: str) -> int:
    col = 0
    for ch in letter:
        col = col * 26 + ord(ch) - 64
    return col - 1


def _covers(runs: tuple[tuple[int, int], ...], index: int) -> bool:
    return any(first <= index <= last for first, last in runs)


def _has_values(column: Column) -> bool:
    if column.problems:
        return True
    return bool(pc.any(pc.not_equal(pc.utf8_trim_whitespace(column.values), "")).as_py())


def _columns_named(columns: list[Column]) -> str:
    named = ", ".join(f"{c.letter} ({c.header})" if c.header else c.letter for c in columns)
    return f"column{'s' * (len(columns) != 1)} {named}"


def _hidden_data_rows(sheet: Sheet, layout: Layout) -> tuple[list[int], set[int]]:
    """The data rows (sheet row numbers) hidden, and those of them filtered out."""
    numbers = sheet.row_numbers  # in sheet order
    found: dict[int, bool] = {}
    for first, last, by_filter in layout.hidden_rows:
        for i in range(bisect.bisect_left(numbers, first + 1),
                       bisect.bisect_right(numbers, last + 1)):
            found[numbers[i]] = found.get(numbers[i], False) or by_filter
    return sorted(found), {n for n, by_filter in found.items() if by_filter}


def _what_is_hidden(hidden: list[int], filtered: set[int], columns: list[Column]) -> str:
    parts = []
    by_filter = [n for n in hidden if n in filtered]
    by_hand = [n for n in hidden if n not in filtered]
    if by_filter:
        parts.append(f"{compact_rows(by_filter)} {'is' if len(by_filter) == 1 else 'are'} "
                     "filtered out by the autofilter")
    if by_hand:
        parts.append(f"{compact_rows(by_hand)} {'is' if len(by_hand) == 1 else 'are'} hidden")
    if columns:
        parts.append(f"{_columns_named(columns)} {'is' if len(columns) == 1 else 'are'} "
                     "hidden")
    return ("; ".join(parts) + ", so what Excel shows is not all that would be sent")


def _read_merges(sheet: Sheet, merges: tuple[Range, ...], columns: dict[int, Column],
                 spread: bool) -> Sheet:
    """Refuse the merged ranges covering data cells of read columns, or spread each one's
    value to the cells it covers."""
    numbers = sheet.row_numbers  # in sheet order
    position = {n: i for i, n in enumerate(numbers)}
    # Each merge over data cells of read columns: (range, those columns, each one's
    # covered positions: every data row of the range, less the top-left cell).
    found: list[tuple[Range, list[tuple[Column, list[int]]]]] = []
    for merge in sorted(merges):
        top, left, bottom, right = merge
        rows = range(bisect.bisect_left(numbers, top + 1),
                     bisect.bisect_right(numbers, bottom + 1))
        covered = []
        for index, column in columns.items():
            if left <= index <= right:
                cells = [i for i in rows if not (index == left and numbers[i] == top + 1)]
                if cells:
                    covered.append((column, cells))
        if covered:
            found.append((merge, covered))
    if not found:
        return sheet
    if not spread:
        named = "; ".join(f"{range_name(m)} (column{'s' * (len(cs) != 1)} "
                          + ", ".join(f"{c.letter} '{c.header}'" for c, _ in cs) + ")"
                          for m, cs in found)
        raise LoadError(sheet.source,
                        f"the merged cell{'s' * (len(found) != 1)} {named} "
                        f"span{'s' * (len(found) == 1)} cells of data, which bulkedit would "
                        "read as blank (keep the live value) where Excel shows the merged "
                        "value", "Unmerge the cells and fill each row, or pass "
                        "--spread-merged to give every covered cell the merged value")
    by_letter = {c.letter: c for c in sheet.columns}
    values: dict[str, list[str]] = {}
    problems: dict[str, dict[int, list[tuple[int, str, CellProblem]]]] = {}
    for merge, covered in found:
        top, left = merge[0], merge[1]
        if top + 1 <= sheet.header_row:
            raise LoadError(sheet.source, f"the merged cell {range_name(merge)} starts in the "
                                          "header row and spans cells of data",
                            "Unmerge the cells and fill each row with its value")
        source = by_letter.get(column_letter(left))
        at = position.get(top + 1)
        value = "" if source is None or at is None else source.values[at].as_py()
        copied = [] if source is None else [p for p in source.problems if p[0] == at]
        for column, cells in covered:
            texts = values.setdefault(column.letter, column.values.to_pylist())
            marks = problems.setdefault(column.letter, {})
            for i in cells:
                texts[i] = value
                marks[i] = [(i, shown, problem) for _, shown, problem in copied]
    spread_columns = tuple(
        replace(c, values=pa.chunked_array([pa.array(values[c.letter], pa.string())]),
                problems=(*(p for p in c.problems if p[0] not in problems[c.letter]),
                          *(p for ps in problems[c.letter].values() for p in ps)))
        if c.letter in values else c for c in sheet.columns)
    issue = Issue(sheet.header_row, "", "", "merged_spread",
                  "merged cell" + "s" * (len(found) != 1) + " "
                  + ", ".join(range_name(m) for m, _ in found)
                  + " spread: every cell a merge covers reads its value (--spread-merged)",
                  Severity.WARNING)
    return replace(sheet, columns=spread_columns, issues=(*sheet.issues, issue))
