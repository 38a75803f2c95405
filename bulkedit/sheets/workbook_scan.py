"""Find what python-calamine does not report: error cells, number formats, and formulas.

calamine reads an Excel error cell (`#N/A`, `#REF!`, `#DIV/0!`...) as an empty string, so
the edit a broken VLOOKUP stood for would vanish without a word, and it reads no number
formats, so `12.50` typed in a "0.00" cell comes back as 12.5. It also reads a formula cell
as its cached value, which some writers never compute: xlsxwriter (pandas' writer) caches 0
for every formula, openpyxl caches nothing, so a title written `=A2&" x"` reads "0" or "".
This module gets these facts from the raw XML. The sheet part is searched with `bytes.find`
and regular expressions, never parsed: a sheet without errors or formulas costs two
searches (for `t="e"` and for `<f`), and one whose formulas all hold a cached value one
search more (for a formula not followed by a filled `<v>`).
Only the small parts (workbook.xml, its rels, styles.xml) go through xml.etree, after
refusing any DOCTYPE, so no entity is ever expanded.

Decisions:
- An XLSX error cell is a `t="e"` cell with a non-empty cached value. A formula cell without
  a cached value (openpyxl writes `<f>1/0</f><v/>`) is not an error cell: nothing was
  computed, so nothing is known to have failed; it is in `uncalculated` instead.
- An XLSX error cell is found by the bytes `t="e"` or `t='e'` (what every writer emits);
  `t = "e"` with spaces is not looked for. A formula is found by `<f` followed by a space,
  `/` or `>` (with the sheet's namespace prefix, if any).
- `uncalculated` (XLSX): every formula cell when xl/workbook.xml's `<calcPr>` says
  fullCalcOnLoad="1" (or "true"): that flag tells Excel the cached values are stale, and it
  is what xlsxwriter and openpyxl write, while Excel and LibreOffice do not. Otherwise the
  formula cells with no cached value: no `<v>`, `<v/>`, or a `<v>` of blanks only, except
  in a `t="str"` (or `t="inlineStr"`) cell, where an empty `<v>` is the computed empty
  string Excel writes for `=IF(A2="","",…)`. An error cell may be in both `errors` and
  `uncalculated` (an error cached in a workbook flagged stale).
- The cells of an array formula's range (`<f t="array" ref="C1:C3">`) hold its results
  without an `<f>` of their own: when the workbook is flagged stale they are in
  `uncalculated` too, with the array formula's text.
- A formula's text is the `<f>` element's, XML-unescaped, without a leading "=" and without
  the `_xlfn.`/`_xlws.`/`_xlpm.` prefixes Excel stores but never shows. A cell that only
  points at a shared formula (`<f t="shared" si="0"/>`) is a formula cell whose text is ""
  (the master's text would name the master's cells, not this cell's).
- `formats` holds the wanted cells that have a `<c>` element; cells absent from the XML
  (styled by their row or column only) are left out rather than guessed.
- ODS: `formats` stays empty; `shown` maps each wanted cell to the text it displays. An
  error cell is one with `calcext:value-type="error"`, or a formula cell (`table:formula`)
  whose shown text is exactly a spreadsheet error literal (`#N/A`, `Err:502`, or one of
  Excel's localized ones such as `#NV` or `#¡VALOR!`), which is all older files say. ODS
  has no stale-cache flag: `uncalculated` holds only the formula cells with no value type
  at all (no `office:value-type` nor `calcext:value-type`).
"""

from __future__ import annotations

import bisect
import functools
import html
import io
import os
import posixpath
import re
import zipfile
import zlib
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from xml.etree import ElementTree as ET

from bulkedit.core.charclasses import EXCEL_ERROR
from bulkedit.sheets.workbook_layout import Layout, ods_layout, xlsx_layout

Cell = tuple[int, int]  # (row, col), 0-based: A1 is (0, 0)

_XLSX_MARK = re.compile(rb"""t=["']e["']""")
_ODS_MARKS = (b'value-type="error"', b"value-type='error'")
_MAX_REPEAT = 1 << 20  # an error cell repeated over more cells than this is no real sheet
_ATTR = re.compile(rb"""([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_REF = re.compile(rb"([A-Za-z]{1,3})([0-9]+)")
_SHEET_DATA = re.compile(rb"<([\w.-]+:)?sheetData(?=[\s/>])[^>]*?(/?)>")
_NS = {"table": b"urn:oasis:names:tc:opendocument:xmlns:table:1.0",
       "text": b"urn:oasis:names:tc:opendocument:xmlns:text:1.0",
       "office": b"urn:oasis:names:tc:opendocument:xmlns:office:1.0"}
_XL_PREFIX = re.compile(r"_xl(?:fn|ws|pm)\.")
_ODS_GRAMMAR = re.compile(r"^[A-Za-z][\w.-]*:(?==)")  # "of:" in "of:=SUM([.A1:.A3])"
_ERROR_TEXT = re.compile(EXCEL_ERROR)  # what a cell whose formula failed shows
_ERROR_BYTES = b"(?:" + _ERROR_TEXT.pattern.encode() + b")"  # to search the raw XML


@dataclass(frozen=True)
class CellScan:
    errors: dict[Cell, str] = field(default_factory=dict)  # cell -> "#N/A", "Err:502"...
    formats: dict[Cell, str] = field(default_factory=dict)  # XLSX: wanted cell -> "0.00"...
    shown: dict[Cell, str] = field(default_factory=dict)  # ODS: wanted cell -> its text
    # Formula cells whose value is not known to have been computed -> the formula's text
    # ("A2&\" x\"", no leading "="; "" for a cell pointing at a shared formula).
    uncalculated: dict[Cell, str] = field(default_factory=dict)
    # The error cells (keys of `errors`) that hold a formula -> its text, as above.
    formulas: dict[Cell, str] = field(default_factory=dict)
    # Hidden and filtered rows, hidden columns, merged ranges (sheets/workbook_layout.py).
    layout: Layout = field(default_factory=Layout)


def scan_workbook(source: str | os.PathLike[str] | bytes, fmt: str, sheet_name: str,
                  wanted: Collection[Cell] = ()) -> CellScan:
    """The error cells of sheet `sheet_name`, the number format of each `wanted` cell, and
    the formula cells whose value cannot be trusted.

    `fmt` is "xlsx" or "ods". Raises ValueError when a part read is malformed or when
    there is no sheet of that name.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source
                             ) as archive:
            if fmt == "xlsx":
                return _scan_xlsx(archive, sheet_name, set(wanted))
            if fmt == "ods":
                return _scan_ods(archive, sheet_name, set(wanted))
            raise ValueError(f"unknown workbook format {fmt!r}")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, KeyError, EOFError,
            ET.ParseError) as exc:
        raise ValueError(f"malformed workbook: {type(exc).__name__}: {exc}") from None


def _attrs(raw: bytes) -> dict[bytes, bytes]:
    return {m[1]: m[2] if m[2] is not None else m[3] for m in _ATTR.finditer(raw)}


def _text(raw: bytes) -> str:
    text = raw.decode("utf-8")
    if "&" not in text:
        return text
    if "&#" in text:
        return html.unescape(text)
    # XML's five entities (a part declaring no DTD can use no other), &amp; last.
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
            .replace("&apos;", "'").replace("&amp;", "&"))


def _formula(text: str) -> str:
    """A formula as the user typed it, without the leading "="."""
    text = text.removeprefix("=")
    return _XL_PREFIX.sub("", text) if "_xl" in text else text


def _int(raw: bytes | None, default: int) -> int:
    if raw is None:
        return default
    if not raw.strip().isdigit():
        raise ValueError(f"not a count: {raw!r}")
    return int(raw)


# ----------------------------------------------------------------------------- XLSX

def _xml(archive: zipfile.ZipFile, name: str) -> ET.Element:
    data = archive.read(name)
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise ValueError(f"{name} declares a DOCTYPE or entities")
    return ET.fromstring(data)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _xlsx_parts(archive: zipfile.ZipFile, sheet_name: str) -> tuple[str, str | None, bool]:
    """The paths of the sheet's part and of the styles part, and whether the workbook says
    its cached values are stale (fullCalcOnLoad)."""
    rid, stale = None, False
    for el in _xml(archive, "xl/workbook.xml").iter():
        name = _local(el.tag)
        if name == "sheet" and el.get("name") == sheet_name and rid is None:
            rid = next((value for key, value in el.attrib.items()
                        if key.endswith("relationships}id")), None)
        elif name == "calcPr":
            stale = el.get("fullCalcOnLoad", "").strip().lower() in ("1", "true")
    if rid is None:
        raise ValueError(f"no sheet named {sheet_name!r}")
    targets: dict[str | None, str] = {}
    for rel in _xml(archive, "xl/_rels/workbook.xml.rels"):
        target = rel.get("Target", "")
        targets[rel.get("Id")] = posixpath.normpath(
            target[1:] if target.startswith("/") else posixpath.join("xl", target))
        if rel.get("Type", "").endswith("/styles"):
            targets["styles"] = targets[rel.get("Id")]
    if rid not in targets:
        raise ValueError(f"sheet {sheet_name!r} has no part ({rid})")
    return targets[rid], targets.get("styles"), stale


@functools.cache
def _xlsx_patterns(prefix: bytes) -> dict[str, re.Pattern[bytes]]:
    """The regular expressions for a sheet part whose main namespace has `prefix`."""
    p = re.escape(prefix)

    def el(name: bytes) -> bytes:  # an element's opening, as "<x:c" or "<c"
        return rb"<" + p + name + rb"(?=[\s/>])"

    # A formula and the cached value right after it: (its attributes, its text, the
    # value element, the value's text).
    f = (el(b"f") + rb"([^>]*?)(?:/>|>([^<]*)</" + p + rb"f>)\s*(" + el(b"v")
         + rb"(?:\s[^>]*)?(?:/>|>([^<]*)</" + p + rb"v>))?")
    filled_v = el(b"v") + rb"(?:\s[^>]*)?>\s*[^<\s]"
    return {
        "cell": re.compile(el(b"c") + rb"([^>]*?)(/?)>"),
        "row": re.compile(el(b"row") + rb"""(?:[^>]*?\sr\s*=\s*["']([^"']*))?[^>]*>"""),
        "f": re.compile(el(b"f")),
        # A formula not followed by a <v> with something in it; group 1: an empty <v>.
        "suspect": re.compile(el(b"f") + rb"[^>]*?(?:/>|>[^<]*</" + p + rb"f>)\s*(?!"
                              + filled_v + rb")(" + el(b"v") + rb")?"),
        "f_after_tag": re.compile(rb"\s*" + f),
        # A formula cell as Excel and most writers write it: (column letters, row number,
        # type, any other attribute) then the formula's groups.
        "cell_f": re.compile(rb"<" + p + rb"""c(?:\s+r\s*=\s*["']([A-Za-z]{1,3})([0-9]+)["'])?"""
                             rb"""(?:\s+s\s*=\s*["'][0-9]*["'])?(?:\s+t\s*=\s*["']([A-Za-z]*)["'])?"""
                             rb"(?:\s+([^\s>][^>]*?))?\s*(?<!/)>\s*" + f),
        "v": re.compile(el(b"v") + rb"(?:\s[^>]*)?(?:/>|>([^<]*)</" + p + rb"v>)"),
        "is": re.compile(el(b"is")),
    }


def _scan_xlsx(archive: zipfile.ZipFile, sheet_name: str, wanted: set[Cell]) -> CellScan:
    part, styles_part, stale = _xlsx_parts(archive, sheet_name)
    data = archive.read(part)
    head = _SHEET_DATA.search(data)
    if head is None or head[2]:  # no cells at all
        return CellScan()
    prefix, start = head[1] or b"", head.end()
    end = data.rfind(b"</" + prefix + b"sheetData>", start)
    if end < 0:
        raise ValueError(f"{part} is truncated")
    layout = xlsx_layout(data, prefix, start, end)
    scan = _scan_xlsx_cells(archive, part, styles_part, stale, data, prefix, start, end,
                            wanted)
    return scan if layout.empty else replace(scan, layout=layout)


def _scan_xlsx_cells(archive: zipfile.ZipFile, part: str, styles_part: str | None,
                     stale: bool, data: bytes, prefix: bytes, start: int, end: int,
                     wanted: set[Cell]) -> CellScan:
    x = _xlsx_patterns(prefix)
    has_error = _XLSX_MARK.search(data, start, end) is not None
    has_formula = x["f"].search(data, start, end) is not None
    if not (has_error or has_formula or wanted):
        return CellScan()
    close = b"</" + prefix + b"c>"
    errors: dict[Cell, str] = {}
    uncalculated: dict[Cell, str] = {}
    formulas: dict[Cell, str] = {}

    def record(cell: Cell, kind: bytes | None, f: re.Match[bytes], g: int, closed: int
               ) -> None:
        """Note a formula cell; `f` holds its formula's groups from group `g` on."""
        f_attrs, f_text, v, v_text = f[g], f[g + 1], f[g + 2], f[g + 3]
        cached = None if v is None else v_text or b""
        text = _formula(_text(f_text)) if f_text else ""  # "": a shared formula's user
        if kind == b"e" and cached and cached.strip():
            errors[cell] = _text(cached.strip())
            formulas[cell] = text
        if kind == b"str":  # an empty string is a value
            computed = cached is not None
        elif kind == b"inlineStr":
            computed = cached is not None or x["is"].search(data, f.end(), closed) is not None
        else:
            computed = cached is not None and bool(cached.strip())
        if stale or not computed:
            uncalculated[cell] = text
        if stale and f_attrs and b"array" in f_attrs:
            attrs = _attrs(f_attrs)
            if attrs.get(b"t") == b"array" and attrs.get(b"ref"):
                first, _, last = attrs[b"ref"].partition(b":")
                (top, left), (bottom, right) = _ref(first), _ref(last or first)
                if (bottom - top + 1) * (right - left + 1) > _MAX_REPEAT:
                    raise ValueError("an array formula over implausibly many cells")
                for r in range(top, bottom + 1):
                    for c in range(left, right + 1):
                        uncalculated.setdefault((r, c), text)

    def inspect(m: re.Match[bytes], attrs: dict[bytes, bytes], cell: Cell) -> None:
        """Note cell `cell`, whose tag `m` matched x["cell"]."""
        if m[2]:
            return
        closed = data.find(close, m.end(), end)
        if closed < 0:
            raise ValueError(f"{part}: a cell is not closed")
        f = x["f_after_tag"].match(data, m.end(), closed)
        if f is not None:
            record(cell, attrs.get(b"t"), f, 1, closed)
        elif attrs.get(b"t") == b"e":
            cached = x["v"].search(data, m.end(), closed)
            if cached is not None and cached[1] and cached[1].strip():
                errors[cell] = _text(cached[1].strip())

    # Read the cells holding an error mark (not one in an inline string's text), and the
    # formula cells that may lack a computed value: when the workbook is flagged stale,
    # every one. Those whose tag has no `r` (then they follow the previous cell), or whose
    # formula does not follow the tag, are left to the row walk below.
    done: set[int] = set()
    unplaced: list[int] = []
    if has_error:
        for at in _XLSX_MARK.finditer(data, start, end):
            m = x["cell"].match(data, data.rfind(b"<", start, at.start()))
            if m and m.end() > at.start() and m.start() not in done:
                attrs = _attrs(m[1])
                if b"r" in attrs:
                    inspect(m, attrs, _ref(attrs[b"r"]))
                    done.add(m.start())
                else:
                    unplaced.append(at.start())
    if has_formula:
        str_tag = b't="str">'
        for at in (x["f"] if stale else x["suspect"]).finditer(data, start, end):
            if not stale and at.lastindex and data.startswith(str_tag, at.start() - 8):
                continue  # the empty string a t="str" cell computed
            tag = data.rfind(b"<", start, at.start())
            if tag in done:
                continue
            cm = x["cell_f"].match(data, tag)
            if cm and cm[1] and not cm[4] and cm[3] != b"inlineStr":  # the usual cell
                record((int(cm[2]) - 1, _col(cm[1])), cm[3], cm, 5, cm.end())
                done.add(tag)
                continue
            m = x["cell"].match(data, tag)
            if m and not data[m.end():at.start()].strip() and b"r" in (attrs := _attrs(m[1])):
                inspect(m, attrs, _ref(attrs[b"r"]))
                done.add(tag)
            else:
                unplaced.append(at.start())
    if not wanted and not unplaced:
        return CellScan(errors, uncalculated=uncalculated, formulas=formulas)
    found = _styles_by_reference(data, prefix, start, end, wanted) if not unplaced else None
    if found is not None:
        return CellScan(errors, _codes(archive, styles_part, found), {}, uncalculated, formulas)
    # Walk every row tag, and read the cells of those rows holding a cell left above or
    # a wanted cell.
    starts: list[int] = []
    spans: list[tuple[int, int]] = []  # (row index, end of the row tag)
    for m in x["row"].finditer(data, start, end):
        spans.append((_int(m[1], 0) - 1 if m[1] is not None else
                      spans[-1][0] + 1 if spans else 0, m.end()))
        starts.append(m.start())
    marked = {bisect.bisect_right(starts, at) - 1 for at in unplaced}
    wanted_rows = {row for row, _ in wanted}
    styles: dict[Cell, int] = {}
    for i, (row, tag_end) in enumerate(spans):
        if i in marked or row in wanted_rows:
            col = -1
            for m in x["cell"].finditer(data, tag_end,
                                        starts[i + 1] if i + 1 < len(starts) else end):
                attrs = _attrs(m[1])
                cell = _ref(attrs[b"r"]) if b"r" in attrs else (row, col + 1)
                col = cell[1]
                inspect(m, attrs, cell)
                if cell in wanted:
                    styles[cell] = _int(attrs.get(b"s"), 0)
    return CellScan(errors, _codes(archive, styles_part, styles), {}, uncalculated, formulas)


def _codes(archive: zipfile.ZipFile, styles_part: str | None, styles: dict[Cell, int]
           ) -> dict[Cell, str]:
    """Each cell's number format code, from its style index."""
    codes = _number_formats(archive, styles_part) if styles else []
    if any(style >= max(len(codes), 1) for style in styles.values()):
        raise ValueError("a cell's style is not in the styles part")
    return {cell: codes[style] if codes else "General" for cell, style in styles.items()}


def _styles_by_reference(data: bytes, prefix: bytes, start: int, end: int,
                         wanted: set[Cell]) -> dict[Cell, int] | None:
    """The style index of each wanted cell, found by its `<c r="B5"` tag in document
    order (rows, and cells in a row, come in order): one pass over the part, where the row
    walk parses every cell of a wanted row. None when a cell is not written that way."""
    styles: dict[Cell, int] = {}
    at = start
    opening = b"<" + prefix + b'c r="'
    for row, col in sorted(wanted):
        needle = opening + _letters(col) + str(row + 1).encode() + b'"'
        found = data.find(needle, at, end)
        if found < 0:
            return None
        closing = data.find(b">", found, end)
        if closing < 0:
            return None
        styles[row, col] = _int(_attrs(data[found + len(needle):closing]).get(b"s"), 0)
        at = closing
    return styles


def _letters(col: int) -> bytes:
    """Column letters of a 0-based index: 0 -> A, 27 -> AB."""
    letters = b""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = bytes([65 + rest]) + letters
    return letters


def _ref(ref: bytes) -> Cell:
    m = _REF.fullmatch(ref)
    if m is None:
        raise ValueError(f"bad cell reference {ref!r}")
    return int(m[2]) - 1, _col(m[1])


@functools.cache
def _col(letters: bytes) -> int:
    col = 0
    for letter in letters.upper():
        col = col * 26 + letter - 64
    return col - 1


def _number_formats(archive: zipfile.ZipFile, part: str | None) -> list[str]:
    """The number format code of each `<cellXfs>` entry, by style index."""
    if part is None or part not in archive.NameToInfo:
        return []
    root = _xml(archive, part)
    custom = {el.get("numFmtId"): el.get("formatCode", "") for group in root
              if _local(group.tag) == "numFmts" for el in group}
    ids = [xf.get("numFmtId", "0") for group in root if _local(group.tag) == "cellXfs"
           for xf in group]
    builtin: dict[int, str] = {0: "General"}
    if not set(ids) <= {*custom, "0"}:
        # Importing openpyxl takes 0.2 s: paid only for a built-in format other than General.
        from openpyxl.styles.numbers import BUILTIN_FORMATS

        builtin = BUILTIN_FORMATS
    # A built-in id openpyxl does not know (the locale-dependent 27-36, 50-81) is no guess
    # of ours: its code is "?", which nothing renders.
    return [custom[i] if i in custom else builtin.get(_int(i.encode(), 0), "?")
            for i in ids]


# ----------------------------------------------------------------------------- ODS

def _prefix(data: bytes, name: str) -> bytes:
    """The prefix, colon included, that the document binds to ODF namespace `name`."""
    m = re.compile(rb"""xmlns(?::([\w.-]+))?\s*=\s*["']""" + re.escape(_NS[name])
                   ).search(data, 0, 1 << 16)  # declared on the root element
    return name.encode() + b":" if m is None else m[1] + b":" if m[1] else b""


def _scan_ods(archive: zipfile.ZipFile, sheet_name: str, wanted: set[Cell]) -> CellScan:
    data = archive.read("content.xml")
    scan = _scan_ods_cells(data, sheet_name, wanted)
    t = _prefix(data, "table")
    if b"visibility" not in data and b"-spanned" not in data:
        return scan
    table = next((m for m in re.finditer(rb"<" + re.escape(t) + rb"table(?=[\s/>])([^>]*)>",
                                         data)
                  if _text(_attrs(m[1]).get(t + b"name", b"")) == sheet_name), None)
    if table is None:
        raise ValueError(f"no sheet named {sheet_name!r}")
    layout = ods_layout(data, t, table.start())
    return scan if layout.empty else replace(scan, layout=layout)


def _scan_ods_cells(data: bytes, sheet_name: str, wanted: set[Cell]) -> CellScan:
    if not wanted and not any(mark in data for mark in _ODS_MARKS) and (
            b"formula" not in data or not _ods_suspects(data, _prefix(data, "table"))):
        return CellScan()
    t, x, o = _prefix(data, "table"), _prefix(data, "text"), _prefix(data, "office")
    tokens = re.compile(rb"<(/?)" + re.escape(t) + rb"(table|table-row|table-cell|"
                        rb"covered-table-cell)(?=[\s/>])([^>]*?)(/?)>")
    table = next((m for m in tokens.finditer(data) if m[2] == b"table" and not m[1]
                  and _text(_attrs(m[3]).get(t + b"name", b"")) == sheet_name), None)
    if table is None:
        raise ValueError(f"no sheet named {sheet_name!r}")
    by_row: dict[int, list[int]] = {}
    for row, col in wanted:
        by_row.setdefault(row, []).append(col)
    wanted_rows = sorted(by_row)
    errors: dict[Cell, str] = {}
    shown: dict[Cell, str] = {}
    uncalculated: dict[Cell, str] = {}
    formulas: dict[Cell, str] = {}
    depth, row, rows_repeat, col, first_col, opened = 0, 0, 1, 0, 0, 0
    here: list[Cell] = []  # the wanted cells the open table:table-cell stands for
    is_error = typed = False
    formula: str | None = None  # the open cell's formula

    def span() -> list[Cell]:  # the cells the open table:table-cell stands for
        if rows_repeat * (col - first_col) > _MAX_REPEAT:
            raise ValueError("a cell repeated over implausibly many cells")
        return [(r, c) for r in range(row, row + rows_repeat) for c in range(first_col, col)]

    for m in tokens.finditer(data, table.start()):
        close, kind, raw, empty = m[1], m[2], m[3], m[4]
        if kind == b"table":
            depth += -1 if close else 0 if empty else 1
            if depth == 0:
                return CellScan(errors, {}, shown, uncalculated, formulas)
        elif depth != 1:
            continue  # a table nested in a cell
        elif kind == b"table-row":
            if not close:
                rows_repeat, col = _int(_attrs(raw).get(t + b"number-rows-repeated"), 1), 0
            if close or empty:
                row += rows_repeat
        elif close and (is_error or here or formula is not None):
            cell = data[opened:m.start()]
            # Older files mark a failed formula only by the error it shows.
            text = (_ods_text(cell, x, o) if is_error or here or b"#" in cell
                    or b"Err:" in cell else "")
            if is_error or (formula is not None and _ERROR_TEXT.fullmatch(text)):
                errors.update(dict.fromkeys(span(), text))
                if formula is not None:
                    formulas.update(dict.fromkeys(span(), formula))
            elif formula is not None and not typed:
                uncalculated.update(dict.fromkeys(span(), formula))
            shown.update(dict.fromkeys(here, text))
        elif not close:  # a cell, or a covered cell (merged away), which counts too
            attrs = _attrs(raw)
            first_col, col = col, col + _int(attrs.get(t + b"number-columns-repeated"), 1)
            rows_here = wanted_rows[bisect.bisect_left(wanted_rows, row):
                                    bisect.bisect_left(wanted_rows, row + rows_repeat)]
            here = [(r, c) for r in rows_here for c in by_row[r] if first_col <= c < col]
            is_error = any(key.endswith(b"value-type") and value == b"error"
                           for key, value in attrs.items()) and not empty
            typed = any(key.endswith(b"value-type") for key in attrs)
            formula = (None if t + b"formula" not in attrs else
                       _formula(_ODS_GRAMMAR.sub("", _text(attrs[t + b"formula"]))))
            if empty and formula is not None and not typed:
                uncalculated.update(dict.fromkeys(span(), formula))
            opened = m.end()
            shown.update(dict.fromkeys(here if empty else (), ""))
    raise ValueError(f"sheet {sheet_name!r} is not closed")


@functools.cache
def _ods_suspect(t: bytes) -> re.Pattern[bytes]:
    """A formula cell that shows an error literal (group 1 matches) or whose value type,
    if any, precedes its formula; `t` is the document's prefix for the table namespace."""
    t = re.escape(t)
    return re.compile(t + rb"""formula\s*=\s*(?:"[^"]*"|'[^']*')(?:[^>]*+(?<!/)>"""
                      rb"(?:[^<>]++|>|<(?!/" + t + rb"table-cell>))*?>" + _ERROR_BYTES
                      + rb"<()|(?![^>]*value-type))")


def _ods_suspects(data: bytes, t: bytes) -> bool:
    """Whether a formula cell may show an error literal or lack a value type: the cheap
    test (a superset) that spares walking a sheet full of formulas that all have values."""
    for m in _ods_suspect(t).finditer(data):
        # LibreOffice writes the value type after the formula; other writers may not.
        if m[1] is not None or b"value-type" not in data[data.rfind(b"<", 0, m.start()):
                                                          m.start()]:
            return True
    return False


def _ods_text(cell: bytes, x: bytes, o: bytes) -> str:
    """The text a cell shows: its paragraphs, one a line, without its comment.

    `x` and `o` are the document's prefixes for the text and office namespaces.
    """
    cell = re.sub(rb"<" + re.escape(o) + rb"annotation(?=[\s/>]).*?</" + re.escape(o)
                  + rb"annotation>", b"", cell, flags=re.S)
    lines = []
    for m in re.finditer(rb"<" + re.escape(x) + rb"p(?=[\s/>])[^>]*?(?:/>|>(.*?)</"
                         + re.escape(x) + rb"p>)", cell, flags=re.S):
        line = re.sub(rb"<" + re.escape(x) + rb"s(?=[\s/>])([^>]*?)/>",
                      lambda s: b" " * _int(_attrs(s[1]).get(x + b"c"), 1), m[1] or b"")
        line = re.sub(rb"<" + re.escape(x) + rb"(tab|line-break)(?=[\s/>])[^>]*>|<[^>]*>",
                      lambda g: {b"tab": b"\t", b"line-break": b"\n"}.get(g[1], b""), line)
        lines.append(_text(line))
    return "\n".join(lines)
