"""Find the error cells and number formats of a sheet, which python-calamine does not report.

calamine reads an Excel error cell (`#N/A`, `#REF!`, `#DIV/0!`...) as an empty string, so
the edit a broken VLOOKUP stood for would vanish without a word, and it reads no number
formats, so `12.50` typed in a "0.00" cell comes back as 12.5. This module gets these two
facts from the raw XML. The sheet part is searched with `bytes.find` and regular
expressions, never parsed: a sheet without errors costs one substring search. Only the small
parts (workbook.xml, its rels, styles.xml) go through xml.etree, after refusing any DOCTYPE,
so no entity is ever expanded.

Decisions:
- A formula cell without a cached value (openpyxl writes `<f>1/0</f><v/>`) is not an error
  cell: nothing was computed, so nothing is known to have failed.
- An XLSX error cell is found by the bytes `t="e"` or `t='e'` (what every writer emits);
  `t = "e"` with spaces is not looked for.
- `formats` holds the wanted cells that have a `<c>` element; cells absent from the XML
  (styled by their row or column only) are left out rather than guessed.
- ODS: `formats` stays empty; `shown` maps each wanted cell to the text it displays.
"""

from __future__ import annotations

import bisect
import html
import io
import os
import posixpath
import re
import zipfile
import zlib
from collections.abc import Collection
from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

Cell = tuple[int, int]  # (row, col), 0-based: A1 is (0, 0)

_CHUNK = 1 << 22
_XLSX_MARKS = (b't="e"', b"t='e'")
_XLSX_MARK = re.compile(rb"""t=["']e["']""")
_ODS_MARKS = (b'value-type="error"', b"value-type='error'")
_MAX_REPEAT = 1 << 20  # an error cell repeated over more cells than this is no real sheet
_ATTR = re.compile(rb"""([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_REF = re.compile(rb"([A-Za-z]{1,3})([0-9]+)")
_SHEET_DATA = re.compile(rb"<([\w.-]+:)?sheetData(?=[\s/>])[^>]*?(/?)>")
_NS = {"table": b"urn:oasis:names:tc:opendocument:xmlns:table:1.0",
       "text": b"urn:oasis:names:tc:opendocument:xmlns:text:1.0",
       "office": b"urn:oasis:names:tc:opendocument:xmlns:office:1.0"}


@dataclass(frozen=True)
class CellScan:
    errors: dict[Cell, str] = field(default_factory=dict)  # cell -> "#N/A", "Err:502"...
    formats: dict[Cell, str] = field(default_factory=dict)  # XLSX: wanted cell -> "0.00"...
    shown: dict[Cell, str] = field(default_factory=dict)  # ODS: wanted cell -> its text


def scan_workbook(source: str | os.PathLike[str] | bytes, fmt: str, sheet_name: str,
                  wanted: Collection[Cell] = ()) -> CellScan:
    """The error cells of sheet `sheet_name` and the number format of each `wanted` cell.

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


def _read(archive: zipfile.ZipFile, name: str, marks: tuple[bytes, ...] | None) -> bytes:
    """The part's bytes, or b"" when `marks` are given and none occurs (read in chunks)."""
    if marks is None:
        return archive.read(name)
    with archive.open(name) as part:
        chunks: list[bytes] = []
        while chunk := part.read(_CHUNK):
            window = chunks[-1][-32:] + chunk if chunks else chunk
            chunks.append(chunk)
            if any(mark in window for mark in marks):
                return b"".join([*chunks, part.read()])
    return b""


def _attrs(raw: bytes) -> dict[bytes, bytes]:
    return {m[1]: m[2] if m[2] is not None else m[3] for m in _ATTR.finditer(raw)}


def _text(raw: bytes) -> str:
    text = raw.decode("utf-8")
    return html.unescape(text) if "&" in text else text  # XML's five entities and &#..;


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


def _xlsx_parts(archive: zipfile.ZipFile, sheet_name: str) -> tuple[str, str | None]:
    """The paths of the sheet's part and of the styles part."""
    rid = next((value for el in _xml(archive, "xl/workbook.xml").iter()
                if _local(el.tag) == "sheet" and el.get("name") == sheet_name
                for key, value in el.attrib.items() if key.endswith("relationships}id")), None)
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
    return targets[rid], targets.get("styles")


def _scan_xlsx(archive: zipfile.ZipFile, sheet_name: str, wanted: set[Cell]) -> CellScan:
    part, styles_part = _xlsx_parts(archive, sheet_name)
    data = _read(archive, part, None if wanted else _XLSX_MARKS)
    head = _SHEET_DATA.search(data)
    if head is None or head[2]:  # no error mark, or no cells at all
        return CellScan()
    prefix, start = head[1] or b"", head.end()
    end = data.find(b"</" + prefix + b"sheetData>", start)
    if end < 0:
        raise ValueError(f"{part} is truncated")
    p = re.escape(prefix)
    cells = re.compile(rb"<" + p + rb"c(?=[\s/>])([^>]*?)(/?)>")
    value = re.compile(rb"<" + p + rb"v(?:\s[^>]*)?>([^<]*)</" + p + rb"v>")
    close = b"</" + prefix + b"c>"
    errors: dict[Cell, str] = {}

    def error(m: re.Match[bytes], attrs: dict[bytes, bytes], cell: Cell) -> None:
        if attrs.get(b"t") == b"e" and not m[2]:
            closed = data.find(close, m.end(), end)
            if closed < 0:
                raise ValueError(f"{part}: a cell is not closed")
            cached = value.search(data, m.end(), closed)
            if cached is not None and cached[1].strip():
                errors[cell] = _text(cached[1].strip())

    # The marks inside a <c> tag (not in an inline string's text).
    tags = [m for at in _XLSX_MARK.finditer(data, start, end)
            if (m := cells.match(data, data.rfind(b"<", start, at.start())))
            and m.end() > at.start()]
    if not wanted and all(b"r" in _attrs(m[1]) for m in tags):  # every error cell says where it is
        for m in tags:
            attrs = _attrs(m[1])
            error(m, attrs, _ref(attrs[b"r"]))
        return CellScan(errors)
    # Rows and cells may omit `r` (then they follow the previous one): walk every row tag,
    # and read the cells of those rows holding an error mark or a wanted cell.
    rows = re.compile(rb"<" + p + rb"""row(?=[\s/>])(?:[^>]*?\sr\s*=\s*["']([^"']*))?[^>]*>""")
    starts: list[int] = []
    spans: list[tuple[int, int]] = []  # (row index, end of the row tag)
    for m in rows.finditer(data, start, end):
        spans.append((_int(m[1], 0) - 1 if m[1] is not None else
                      spans[-1][0] + 1 if spans else 0, m.end()))
        starts.append(m.start())
    marked = {bisect.bisect_right(starts, m.start()) - 1 for m in tags}
    wanted_rows = {row for row, _ in wanted}
    styles: dict[Cell, int] = {}
    for i, (row, tag_end) in enumerate(spans):
        if i in marked or row in wanted_rows:
            col = -1
            for m in cells.finditer(data, tag_end, starts[i + 1] if i + 1 < len(starts) else end):
                attrs = _attrs(m[1])
                cell = _ref(attrs[b"r"]) if b"r" in attrs else (row, col + 1)
                col = cell[1]
                error(m, attrs, cell)
                if cell in wanted:
                    styles[cell] = _int(attrs.get(b"s"), 0)
    codes = _number_formats(archive, styles_part) if styles else []
    if any(style >= max(len(codes), 1) for style in styles.values()):
        raise ValueError("a cell's style is not in the styles part")
    return CellScan(errors, {cell: codes[style] if codes else "General"
                             for cell, style in styles.items()})


def _ref(ref: bytes) -> Cell:
    m = _REF.fullmatch(ref)
    if m is None:
        raise ValueError(f"bad cell reference {ref!r}")
    col = 0
    for letter in m[1].upper():
        col = col * 26 + letter - 64
    return int(m[2]) - 1, col - 1


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
    return [custom[i] if i in custom else builtin.get(_int(i.encode(), 0), "General")
            for i in ids]


# ----------------------------------------------------------------------------- ODS

def _prefix(data: bytes, name: str) -> bytes:
    """The prefix, colon included, that the document binds to ODF namespace `name`."""
    m = re.compile(rb"""xmlns(?::([\w.-]+))?\s*=\s*["']""" + re.escape(_NS[name])
                   ).search(data, 0, 1 << 16)  # declared on the root element
    return name.encode() + b":" if m is None else m[1] + b":" if m[1] else b""


def _scan_ods(archive: zipfile.ZipFile, sheet_name: str, wanted: set[Cell]) -> CellScan:
    data = _read(archive, "content.xml", None if wanted else _ODS_MARKS)
    if not data:
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
    depth, row, rows_repeat, col, first_col, opened = 0, 0, 1, 0, 0, 0
    here: list[Cell] = []  # the wanted cells the open table:table-cell stands for
    is_error = False
    for m in tokens.finditer(data, table.start()):
        close, kind, raw, empty = m[1], m[2], m[3], m[4]
        if kind == b"table":
            depth += -1 if close else 0 if empty else 1
            if depth == 0:
                return CellScan(errors, {}, shown)
        elif depth != 1:
            continue  # a table nested in a cell
        elif kind == b"table-row":
            if not close:
                rows_repeat, col = _int(_attrs(raw).get(t + b"number-rows-repeated"), 1), 0
            if close or empty:
                row += rows_repeat
        elif close and (is_error or here):
            text = _ods_text(data[opened:m.start()], x, o)
            if is_error:
                if rows_repeat * (col - first_col) > _MAX_REPEAT:
                    raise ValueError("an error cell repeated over implausibly many cells")
                errors.update(dict.fromkeys(((r, c) for r in range(row, row + rows_repeat)
                                             for c in range(first_col, col)), text))
            shown.update(dict.fromkeys(here, text))
        elif not close:  # a cell, or a covered cell (merged away), which counts too
            attrs = _attrs(raw)
            first_col, col = col, col + _int(attrs.get(t + b"number-columns-repeated"), 1)
            rows_here = wanted_rows[bisect.bisect_left(wanted_rows, row):
                                    bisect.bisect_left(wanted_rows, row + rows_repeat)]
            here = [(r, c) for r in rows_here for c in by_row[r] if first_col <= c < col]
            is_error = any(key.endswith(b"value-type") and value == b"error"
                           for key, value in attrs.items()) and not empty
            opened = m.end()
            shown.update(dict.fromkeys(here if empty else (), ""))
    raise ValueError(f"sheet {sheet_name!r} is not closed")


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
