"""Find what a person sees differently from what calamine reads: hidden and filtered rows,
hidden columns, and merged ranges (issue 25).

calamine reads every row, hidden or not, and reads the cells a merged range covers as
blank, which in the grammar means "keep the live value". These facts come from the same
bytes workbook_scan.py already holds, by `bytes.find` and regular expressions, never a
parse: a sheet part without them costs a few searches (for `hidden`, `<cols`,
`mergeCell` and `autoFilter` outside the cells), an ODS content.xml without them two
(`visibility`, `-spanned`).

Decisions:
- XLSX: a row is hidden when its `<row>` tag says hidden="1" (or "true"); a column when a
  `<col min max>` in `<cols>` does. A hidden row inside the sheet's `<autoFilter ref>`
  is filtered out by it (Excel hides the rows a filter leaves out, and hides nothing else
  there unless by hand, which it cannot tell apart). Merges are `<mergeCell ref>`.
- ODS: a row or column with table:visibility "collapse" is hidden, "filter" filtered out;
  repeats count (`number-rows-repeated`, `number-columns-repeated`). A merge is a cell with
  `number-rows-spanned`/`number-columns-spanned`; the cells it covers are
  `table:covered-table-cell`, which count as columns.
- Everything is 0-based: row 0 is the sheet's row 1, column 0 is A.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

Range = tuple[int, int, int, int]  # (top, left, bottom, right), inclusive, 0-based

_ATTR = re.compile(rb"""([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_REF = re.compile(rb"\$?([A-Za-z]{1,3})\$?([0-9]+)")
_TRUE = (b"1", b"true")
_MAX_SPAN = 1 << 20  # rows or columns a merge may span before it is no real sheet


@dataclass(frozen=True)
class Layout:
    # Runs of hidden rows, (first, last, filtered out): the last inclusive.
    hidden_rows: tuple[tuple[int, int, bool], ...] = ()
    hidden_columns: tuple[tuple[int, int], ...] = ()  # (first, last), inclusive
    merges: tuple[Range, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.hidden_rows or self.hidden_columns or self.merges)


def _attrs(raw: bytes) -> dict[bytes, bytes]:
    return {m[1]: m[2] if m[2] is not None else m[3] for m in _ATTR.finditer(raw)}


def _count(raw: bytes | None, default: int) -> int:
    if raw is None:
        return default
    if not raw.strip().isdigit():
        raise ValueError(f"not a count: {raw!r}")
    return int(raw)


def _cell(ref: bytes) -> tuple[int, int]:
    m = _REF.fullmatch(ref.strip())
    if m is None:
        raise ValueError(f"bad cell reference {ref!r}")
    col = 0
    for letter in m[1].upper():
        col = col * 26 + letter - 64
    return int(m[2]) - 1, col - 1


def _range(ref: bytes) -> Range:
    first, _, last = ref.partition(b":")
    (top, left), (bottom, right) = _cell(first), _cell(last or first)
    return min(top, bottom), min(left, right), max(top, bottom), max(left, right)


def range_name(merge: Range) -> str:
    """A range as Excel writes it: B3:B6."""
    top, left, bottom, right = merge
    start = f"{letters(left)}{top + 1}"
    return start if (top, left) == (bottom, right) else f"{start}:{letters(right)}{bottom + 1}"


def letters(col: int) -> str:
    out = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        out = chr(65 + rest) + out
    return out


# ----------------------------------------------------------------------------- XLSX

def xlsx_layout(data: bytes, prefix: bytes, start: int, end: int) -> Layout:
    """The layout of a sheet part whose cells (`<sheetData>`) lie in data[start:end] and
    whose main namespace has `prefix` ("x:" or b"")."""
    p = re.escape(prefix)
    hidden_rows: list[tuple[int, int, bool]] = []
    at = data.find(b"hidden", start, end)
    if at >= 0:
        row_tag = re.compile(rb"<" + p + rb"row(?=[\s/>])([^>]*)>")
        filtered = _autofilter_rows(data, p, end)
        while at >= 0:
            tag = data.rfind(b"<", start, at)
            m = row_tag.match(data, tag) if tag >= 0 else None
            if m is not None and m.end() > at:
                attrs = _attrs(m[1])
                if attrs.get(b"hidden", b"").strip().lower() in _TRUE:
                    row = (_count(attrs[b"r"], 0) - 1 if b"r" in attrs else
                           len(re.findall(rb"<" + p + rb"row(?=[\s/>])", data[start:tag])))
                    hidden_rows.append((row, row, filtered is not None
                                        and filtered[0] < row <= filtered[1]))
                at = data.find(b"hidden", m.end(), end)
            else:
                at = data.find(b"hidden", at + 6, end)
    hidden_columns: list[tuple[int, int]] = []
    cols = data.find(b"<" + prefix + b"cols", 0, start)
    if cols >= 0 and data.find(b"hidden", cols, start) >= 0:
        for m in re.finditer(rb"<" + p + rb"col(?=[\s/>])([^>]*)>", data[cols:start]):
            attrs = _attrs(m[1])
            if attrs.get(b"hidden", b"").strip().lower() in _TRUE:
                first = _count(attrs.get(b"min"), 1)
                hidden_columns.append((first - 1, _count(attrs.get(b"max"), first) - 1))
    merges: list[Range] = []
    if data.find(b"mergeCell", end) >= 0:
        for m in re.finditer(rb"<" + p + rb"mergeCell(?=[\s/>])([^>]*)>", data[end:]):
            ref = _attrs(m[1]).get(b"ref")
            if ref:
                merges.append(_range(ref))
    return Layout(tuple(hidden_rows), tuple(hidden_columns), tuple(merges))


def _autofilter_rows(data: bytes, p: bytes, end: int) -> tuple[int, int] | None:
    """The rows of the sheet's autofilter range (its header row first), if it has one."""
    m = re.compile(rb"<" + p + rb"autoFilter(?=[\s/>])([^>]*)>").search(data, end)
    ref = _attrs(m[1]).get(b"ref") if m else None
    if not ref:
        return None
    top, _, bottom, _ = _range(ref)
    return top, bottom


# ----------------------------------------------------------------------------- ODS

def ods_layout(data: bytes, t: bytes, table_start: int) -> Layout:
    """The layout of the ODS table whose opening tag starts at data[table_start]; `t` is
    the document's prefix for the table namespace ("table:")."""
    has_spans = data.find(b"-spanned", table_start) >= 0
    if not has_spans and data.find(b"visibility", table_start) < 0:
        return Layout()
    q = re.escape(t)
    kinds = (rb"table|table-row|table-column|table-cell|covered-table-cell" if has_spans
             else rb"table|table-row|table-column")
    tokens = re.compile(rb"<(/?)" + q + rb"(" + kinds + rb")(?=[\s/>])([^>]*?)(/?)>")
    visibility, rows_repeated = t + b"visibility", t + b"number-rows-repeated"
    columns_repeated = t + b"number-columns-repeated"
    rows_spanned, columns_spanned = t + b"number-rows-spanned", t + b"number-columns-spanned"
    hidden_rows: list[tuple[int, int, bool]] = []
    hidden_columns: list[tuple[int, int]] = []
    merges: list[Range] = []
    depth, row, repeat, col, column = 0, 0, 1, 0, 0
    for m in tokens.finditer(data, table_start):
        close, kind, raw, empty = m[1], m[2], m[3], m[4]
        if kind == b"table":
            depth += -1 if close else 0 if empty else 1
            if depth == 0:
                return Layout(tuple(hidden_rows), tuple(hidden_columns), tuple(merges))
            continue
        if depth != 1 or close:  # a table nested in a cell, or a closing tag
            if close and kind == b"table-row" and depth == 1:
                row += repeat
            continue
        attrs = _attrs(raw) if raw else {}
        if kind == b"table-row":
            repeat, col = _count(attrs.get(rows_repeated), 1), 0
            shown = attrs.get(visibility, b"visible")
            if shown != b"visible":
                hidden_rows.append((row, row + repeat - 1, shown == b"filter"))
            if empty:
                row += repeat
        elif kind == b"table-column":
            count = _count(attrs.get(columns_repeated), 1)
            if attrs.get(visibility, b"visible") != b"visible":
                hidden_columns.append((column, column + count - 1))
            column += count
        else:  # a cell or a covered cell
            across = _count(attrs.get(columns_spanned), 1)
            down = _count(attrs.get(rows_spanned), 1)
            if (across > 1 or down > 1) and kind == b"table-cell":
                if across > _MAX_SPAN or down > _MAX_SPAN:
                    raise ValueError("a merged cell over implausibly many cells")
                merges.append((row, col, row + down - 1, col + across - 1))
            col += _count(attrs.get(columns_repeated), 1)
    raise ValueError("the sheet's table is not closed")
