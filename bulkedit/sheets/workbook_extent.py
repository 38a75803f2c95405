"""How big a workbook really is, found streaming before anything reads it densely (issue 26).

The native reader (python-calamine) makes a dense grid of the used range: one cell at
XFD1048576 is 17 billion cells, and it aborts the process. This module inflates every XML
part of the archive itself, a block at a time from the compressed bytes (the sizes the zip
claims are not trusted), and measures what it finds against `ReadLimits`:

- each part's inflated size and ratio, and the workbook's in all (zip bombs);
- XLSX: the `<dimension ref>` a sheet claims, and the farthest row and column its cells
  reach (their `r` references; a cell or row without one is the next after the previous,
  so such a sheet is walked tag by tag); the cells it holds; the shared strings the
  workbook claims (the reader reserves room for them all at once);
- ODS: the rows and columns of each table up to its last cell with content, repeats
  counted (LibreOffice pads every table with empty repeated rows; they do not count).

Sheets are measured from A1, as bulkedit's grid is built. Nothing is parsed: regular
expressions over blocks of at most `_BLOCK` bytes, so memory stays a few blocks whatever
the file holds.
"""

from __future__ import annotations

import functools
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from bulkedit.core.errors import LoadError
from bulkedit.sheets.limits import LIMITS, ReadLimits, SheetRefused, count

_BLOCK = 1 << 22  # inflated bytes handled at once
_CARRY = 1 << 16  # a tag cut by a block's end is carried to the next when it is this short
_SMALL_PART = 1 << 24  # workbook.xml, its rels: read whole, at most this big

_CELL_COL = re.compile(rb"""<(?:[\w.-]+:)?c(?=\s)[^>]*?\sr\s*=\s*["']\$?([A-Za-z]+)""")
_CELL_ROW = re.compile(rb"""<(?:[\w.-]+:)?c(?=\s)[^>]*?\sr\s*=\s*["']\$?[A-Za-z]+\$?([0-9]+)""")
_CELL_TAG = re.compile(rb"<(?:[\w.-]+:)?c(?=[\s/>])")
_NO_REF = re.compile(rb"""<(?:[\w.-]+:)?(?:c|row)(?=[\s/>])(?![^>]*?\sr\s*=)""")
_DIMENSION = re.compile(rb"""<(?:[\w.-]+:)?dimension(?=\s)[^>]*?\sref\s*=\s*["']([^"']*)""")
_LAST_REF = re.compile(rb'\sr="([A-Za-z]+)([0-9]+)"')
_TOKEN = re.compile(rb"<(?:[\w.-]+:)?(row|c)(?=[\s/>])([^>]*)>")
_R = re.compile(rb"""\sr\s*=\s*["']\$?([A-Za-z]*)\$?([0-9]*)""")
_REF = re.compile(rb"\$?([A-Za-z]{1,7})\$?([0-9]{1,10})")
_STRINGS = re.compile(rb"""<(?:[\w.-]+:)?sst(?=\s)[^>]*?\s(?:uniqueCount|count)\s*=\s*["']"""
                      rb"""\s*([0-9]+)""")
_SHEET = re.compile(rb"<(?:[\w.-]+:)?sheet(?=\s)([^>]*)>")
_REL = re.compile(rb"<(?:[\w.-]+:)?Relationship(?=\s)([^>]*)>")
_ATTR = re.compile(rb"""([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_ODS_TOKEN = re.compile(rb"<(/?)(?:[\w.-]+:)?(table|table-row|table-cell|covered-table-cell)"
                        rb"(?=[\s/>])([^>]*?)(/?)>")


@dataclass(frozen=True)
class Extent:
    """What one sheet reaches: rows and columns counted from A1, the cells it holds."""

    sheet: str
    rows: int = 0
    columns: int = 0
    cells: int = 0
    claimed: str = ""  # XLSX: the <dimension ref>, as written


def check_workbook(handle: BinaryIO, label: str, fmt: str, sheet: str | None = None,
                   limits: ReadLimits = LIMITS) -> list[Extent]:
    """Refuse (SheetRefused) a workbook bigger than `limits`: inflated, or a sheet that
    would be read (`sheet`, else every visible one) beyond its rows, columns or cells.
    Returns the extents measured."""
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise _damaged(label) from None
    with archive:
        if fmt == "xlsx":
            wanted = _xlsx_sheets(archive, label, sheet, limits)
        else:
            wanted = {"content.xml": ""}
        extents: list[Extent] = []
        total = 0
        for info in archive.infolist():
            if not info.filename.endswith((".xml", ".rels")) and info.filename != "mimetype":
                total += info.file_size  # never read by the reader: as the zip says
                _check_size(label, info, info.file_size, total, limits)
                continue
            size = 0
            scanner: _Scanner | None = None
            if info.filename in wanted:
                scanner = (_XlsxScanner(wanted[info.filename]) if fmt == "xlsx"
                           else _OdsScanner(sheet))
            elif fmt == "xlsx" and info.filename.endswith("sharedStrings.xml"):
                scanner = _StringsScanner()
            for block in _inflate(handle, archive, info, label):
                size += len(block)
                _check_size(label, info, size, total + size, limits)
                if scanner is not None:
                    scanner.feed(block, label, limits)
            total += size
            if scanner is not None:
                scanner.feed(b"", label, limits)
                if isinstance(scanner, _XlsxScanner) and scanner.restart:
                    scanner = _XlsxScanner(wanted[info.filename], walk=True)
                    for block in _inflate(handle, archive, info, label):
                        scanner.feed(block, label, limits)
                    scanner.feed(b"", label, limits)
                extents.extend(scanner.extents())
        for extent in extents:
            _check_extent(label, extent, limits)
        return extents


def _damaged(label: str) -> LoadError:
    return LoadError(label, "the workbook is damaged or incomplete (not a valid zip)",
                     "Open it in Excel; if it opens, save it again, else get a new copy")


def _bomb(label: str, what: str) -> SheetRefused:
    return SheetRefused(label, "zip_bomb", f"the workbook inflates to an implausible size "
                                           f"({what}): a zip bomb, not a spreadsheet",
                        "Export the sheet again from Excel")


def _check_size(label: str, info: zipfile.ZipInfo, size: int, total: int,
                limits: ReadLimits) -> None:
    if total > limits.expanded_bytes:
        raise _bomb(label, f"more than {count(limits.expanded_bytes)} bytes")
    if size > limits.ratio_floor and size > limits.ratio * max(info.compress_size, 1):
        raise _bomb(label, f"its part {info.filename} is {count(info.compress_size)} bytes "
                           f"that inflate past {count(size)}, more than "
                           f"{limits.ratio} times")


def _check_extent(label: str, extent: Extent, limits: ReadLimits) -> None:
    where = f"sheet '{extent.sheet}'" if extent.sheet else "the sheet"
    far = f"{_letters(extent.columns - 1)}{extent.rows}" if extent.rows and extent.columns \
        else ""
    fix = (f"Delete the rows and columns past your data (the farthest cell is {far}: select "
           "the empty rows and columns after it and delete them, then save), or split the "
           "sheet")
    if extent.columns > limits.columns:
        raise SheetRefused(label, "sheet_too_large", (
            f"{where} reaches column {_letters(extent.columns - 1)} ({count(extent.columns)} "
            f"columns); bulkedit reads at most {count(limits.columns)}"), fix)
    if extent.rows > limits.rows:
        raise SheetRefused(label, "sheet_too_large", (
            f"{where} reaches row {count(extent.rows)}; bulkedit reads at most "
            f"{count(limits.rows)} rows"), fix)
    area = extent.rows * extent.columns
    if area > limits.cells or extent.cells > limits.cells:
        shown = (f"{count(extent.rows)} rows x {count(extent.columns)} columns = "
                 f"{count(area)} cells" if area > limits.cells
                 else f"{count(extent.cells)} cells")
        raise SheetRefused(label, "sheet_too_large", (
            f"{where} spans A1:{far} ({shown}); bulkedit reads at most {count(limits.cells)} "
            "cells (rows x columns)"), fix)
    if extent.claimed:
        claimed = _claimed(extent.claimed)
        if claimed is not None and (claimed[0] > limits.rows or claimed[1] > limits.columns
                                    or claimed[0] * claimed[1] > limits.cells):
            raise SheetRefused(label, "sheet_too_large", (
                f"{where} claims the range {extent.claimed.upper()} ({count(claimed[0])} rows "
                f"x {count(claimed[1])} columns = {count(claimed[0] * claimed[1])} cells); "
                f"bulkedit reads at most {count(limits.rows)} rows, {count(limits.columns)} "
                f"columns and {count(limits.cells)} cells"),
                "Open it in Excel, delete the rows and columns past your data and save it "
                "again, or split the sheet")


def _claimed(ref: str) -> tuple[int, int] | None:
    """(rows, columns) from A1 to the far corner of a dimension ref like "A1:D20"."""
    last = ref.strip().rpartition(":")[2]
    m = _REF.fullmatch(last.encode())
    if m is None:
        return None
    return int(m[2]), _col(m[1]) + 1


def _col(letters: bytes) -> int:
    col = 0
    for letter in letters.upper():
        col = col * 26 + letter - 64
    return col - 1


def _letters(col: int) -> str:
    letters = ""
    col += 1
    while col > 0:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# ----------------------------------------------------------------------------- the zip

def _inflate(handle: BinaryIO, archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str
             ) -> Iterator[bytes]:
    """The member's bytes, inflated from its compressed data a block at a time, whatever
    size the zip claims."""
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or info.flag_bits & 1:
        # Another method, or encrypted: Python's reader, which stops at the claimed size.
        try:
            with archive.open(info) as part:
                while block := part.read(_BLOCK):
                    yield block
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError,
                zlib.error, ValueError):
            raise _damaged(label) from None
        return
    try:
        handle.seek(info.header_offset)
        header = handle.read(30)
        if len(header) < 30 or header[:4] != b"PK\x03\x04":
            raise _damaged(label)
        name, extra = struct.unpack("<HH", header[26:30])
        handle.seek(info.header_offset + 30 + name + extra)
        left = info.compress_size
        inflater = None if info.compress_type == zipfile.ZIP_STORED else zlib.decompressobj(-15)
        while left > 0:
            raw = handle.read(min(left, 1 << 20))
            if not raw:
                raise _damaged(label)
            left -= len(raw)
            if inflater is None:
                yield raw
                continue
            while raw:
                block = inflater.decompress(raw, _BLOCK)
                raw = inflater.unconsumed_tail
                if block:
                    yield block
                if inflater.eof:
                    return
    except (OSError, zlib.error, struct.error, ValueError):
        raise _damaged(label) from None


def _attrs(raw: bytes) -> dict[bytes, bytes]:
    return {m[1]: m[2] if m[2] is not None else m[3] for m in _ATTR.finditer(raw)}


def _small(archive: zipfile.ZipFile, name: str, label: str) -> bytes:
    try:
        info = archive.getinfo(name)
        if info.file_size > _SMALL_PART:
            raise _bomb(label, f"its part {name} claims {count(info.file_size)} bytes")
        with archive.open(info) as part:
            data = part.read(_SMALL_PART + 1)
    except KeyError:
        return b""
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError,
            zlib.error, ValueError):
        raise _damaged(label) from None
    if len(data) > _SMALL_PART:
        raise _bomb(label, f"its part {name} is bigger than {count(_SMALL_PART)} bytes")
    return data


def _xlsx_sheets(archive: zipfile.ZipFile, label: str, sheet: str | None,
                 limits: ReadLimits) -> dict[str, str]:
    """The sheet parts the reader would load (sheet `sheet`, else every visible
    worksheet) -> the sheet's name."""
    import html
    import posixpath

    targets: dict[bytes, str] = {}
    for m in _REL.finditer(_small(archive, "xl/_rels/workbook.xml.rels", label)):
        attrs = _attrs(m[1])
        target = html.unescape(attrs.get(b"Target", b"").decode("utf-8", "replace"))
        targets[attrs.get(b"Id", b"")] = posixpath.normpath(
            target[1:] if target.startswith("/") else posixpath.join("xl", target))
    wanted: dict[str, str] = {}
    for m in _SHEET.finditer(_small(archive, "xl/workbook.xml", label)):
        attrs = _attrs(m[1])
        name = html.unescape(attrs.get(b"name", b"").decode("utf-8", "replace"))
        rid = next((v for k, v in attrs.items() if k.endswith(b":id") or k == b"id"), b"")
        visible = attrs.get(b"state", b"visible") == b"visible"
        if rid in targets and (name == sheet if sheet is not None else visible):
            wanted[targets[rid]] = name
    return wanted


# ----------------------------------------------------------------------------- scanners

class _Scanner:
    def __init__(self) -> None:
        self.carry = b""

    def feed(self, block: bytes, label: str, limits: ReadLimits) -> None:
        """Take the next block (b"" at the end): tags cut by a block's end are carried."""
        data = self.carry + block
        if block:
            cut = data.rfind(b"<", max(len(data) - _CARRY, 0))
            if cut < 0 or data.find(b">", cut) >= 0:
                cut = len(data)
            self.carry, data = data[cut:], data[:cut]
        else:
            self.carry = b""
        if data:
            self.scan(data, label, limits)

    def scan(self, data: bytes, label: str, limits: ReadLimits) -> None:
        raise NotImplementedError

    def extents(self) -> list[Extent]:
        return []


class _StringsScanner(_Scanner):
    """The shared strings the workbook claims: the reader makes room for them at once."""

    def __init__(self) -> None:
        super().__init__()
        self.seen = False

    def scan(self, data: bytes, label: str, limits: ReadLimits) -> None:
        if self.seen:
            return
        m = _STRINGS.search(data)
        if m is None:
            return
        self.seen = True
        for claim in re.finditer(rb"""\s(?:uniqueCount|count)\s*=\s*["']\s*([0-9]+)""",
                                 data[m.start():data.find(b">", m.start())]):
            if int(claim[1]) > limits.cells:
                raise SheetRefused(label, "sheet_too_large", (
                    f"the workbook claims {count(int(claim[1]))} shared strings, more than "
                    f"the {count(limits.cells)} cells bulkedit reads"),
                    "Open it in Excel and save it again")


class _XlsxScanner(_Scanner):
    """A sheet part's claimed range and farthest cell; `walk`: tag by tag, for a sheet
    whose cells or rows do not all carry their reference."""

    def __init__(self, sheet: str, walk: bool = False) -> None:
        super().__init__()
        self.sheet, self.walk, self.restart = sheet, walk, False
        self.rows = self.columns = self.cells = 0
        self.claimed = ""
        self.row = self.col = -1  # the walk's position, 0-based

    def scan(self, data: bytes, label: str, limits: ReadLimits) -> None:
        if self.restart:
            return
        if not self.claimed and self.cells == 0:
            m = _DIMENSION.search(data)
            if m is not None:
                self.claimed = m[1].decode("ascii", "replace")
        if self.walk:
            self._walk(data)
        else:
            cells = data.count(b"<c ") + data.count(b"<c>") + data.count(b"<c/")
            rows = data.count(b"<row ") + data.count(b"<row>")
            # Every row and cell carries its reference (what Excel and most writers
            # write) when the references are as many as the tags; else look closer.
            plain = data.count(b' r="') == cells + rows
            if not plain and _NO_REF.search(data) is not None:
                self.restart = True  # walked again, from the start
                return
            self.cells += cells if plain else sum(1 for _ in _CELL_TAG.finditer(data))
            self._farthest(data, plain)
        if self.cells > limits.cells or self.columns > limits.columns \
                or self.rows > limits.rows:
            _check_extent(label, self.extent(), limits)

    def _farthest(self, data: bytes, plain: bool) -> None:
        """The farthest row and column the block's cells reach. Cells come in order, so
        the last one's row and the widest column seen so far are guesses that one search
        each confirms; only a block that breaks them lists every reference."""
        last = _LAST_REF.search(data, max(0, data.rfind(b' r="', 0, len(data)) - 1))
        guess_row = int(last[2]) if last else 0
        if plain and self.columns and guess_row and \
                _above(self.columns, guess_row).search(data) is None:
            self.rows = max(self.rows, guess_row)
            return
        cols = _CELL_COL.findall(data)
        if cols:
            width = max(map(len, cols))
            widest = max(c.upper() for c in cols if len(c) == width)
            self.columns = max(self.columns, _col(widest) + 1)
            self.rows = max(self.rows, max(map(int, _CELL_ROW.findall(data)), default=0))

    def _walk(self, data: bytes) -> None:
        for m in _TOKEN.finditer(data):
            ref = _R.search(m[2])
            if m[1] == b"row":
                self.row = int(ref[2]) - 1 if ref and ref[2] else self.row + 1
                self.col = -1
                continue
            self.cells += 1
            if ref and ref[1] and ref[2]:
                row, self.col = int(ref[2]) - 1, _col(ref[1].upper())
            else:
                row, self.col = self.row, self.col + 1
            self.rows = max(self.rows, row + 1)
            self.columns = max(self.columns, self.col + 1)

    def extent(self) -> Extent:
        return Extent(self.sheet, self.rows, self.columns, self.cells, self.claimed)

    def extents(self) -> list[Extent]:
        return [] if self.restart else [self.extent()]


class _OdsScanner(_Scanner):
    """Each table's rows and columns up to its last cell with content, repeats counted."""

    def __init__(self, sheet: str | None) -> None:
        super().__init__()
        self.sheet = sheet
        self.found: list[Extent] = []
        self.depth = 0
        self.name = ""
        self.row = self.row_repeat = self.col = 0
        self.row_width = 0  # the farthest column with content in the open row
        self.rows = self.columns = self.cells = 0

    def scan(self, data: bytes, label: str, limits: ReadLimits) -> None:
        for m in _ODS_TOKEN.finditer(data):
            close, kind, raw, empty = m[1], m[2], m[3], m[4]
            if kind == b"table":
                if close:
                    self.depth -= 1
                    if self.depth == 0:
                        self._end_table(label, limits)
                elif not empty:
                    self.depth += 1
                    if self.depth == 1:
                        import html

                        self.name = html.unescape(_attrs(raw).get(
                            b"table:name", b"").decode("utf-8", "replace"))
                        self.row = self.rows = self.columns = self.cells = 0
                continue
            if self.depth != 1:
                continue
            if kind == b"table-row":
                if not close:
                    self.row_repeat = _repeat(raw, b"number-rows-repeated")
                    self.col = self.row_width = 0
                if close or empty:
                    if self.row_width:
                        self.rows = self.row + self.row_repeat
                        self.columns = max(self.columns, self.row_width)
                    self.row += self.row_repeat
                    if self.rows > limits.rows or self.columns > limits.columns \
                            or self.rows * self.columns > limits.cells:
                        self._end_table(label, limits)
            elif not close:
                repeat = _repeat(raw, b"number-columns-repeated")
                self.col += repeat
                if not empty or b"value-type" in raw or b"formula" in raw:
                    self.row_width = self.col
                    self.cells += repeat * self.row_repeat
                if self.col > 1 << 24:  # no row is this wide: measure it as it stands
                    self.row_width = self.col
                    self.rows = max(self.rows, self.row + 1)
                    self.columns = max(self.columns, self.col)
                    self._end_table(label, limits)

    def _end_table(self, label: str, limits: ReadLimits) -> None:
        extent = Extent(self.name, self.rows, self.columns, self.cells)
        if self.sheet is None or self.name == self.sheet:
            _check_extent(label, extent, limits)
            self.found.append(extent)

    def extents(self) -> list[Extent]:
        return self.found


@functools.lru_cache(maxsize=64)
def _above(columns: int, row: int) -> re.Pattern[bytes]:
    """A cell reference past column `columns` (a count) or past row `row`, or one that is
    not plain upper-case letters and digits (then the block is read reference by
    reference). A row's reference (digits only) is not one. Only for blocks whose every
    reference is written ` r="…"` (what the tag counts say)."""
    letters = _letters(columns - 1).encode()
    digits = str(row).encode()
    return re.compile(rb' r="(?:[^A-Z0-9"]|(?:' + _greater(letters, b"A", b"Z")
                      + rb')[0-9]|[A-Z]+(?:[^0-9"]|(?:' + _greater(digits, b"0", b"9")
                      + rb')"))')


def _greater(text: bytes, low: bytes, high: bytes) -> bytes:
    """A pattern for the strings over [low-high] (as numbers, without leading `low`) that
    are greater than `text`: longer, or as long and greater at some position."""
    span = b"[" + low + b"-" + high + b"]"
    first = b"[" + bytes([low[0] + 1]) + b"-" + high + b"]" if low == b"0" else span
    options = [first + span + b"{" + str(len(text)).encode() + b",}"]
    for i, ch in enumerate(text):
        if ch < high[0]:
            options.append(re.escape(text[:i]) + b"[" + bytes([ch + 1]) + b"-" + high + b"]"
                           + span + b"{" + str(len(text) - i - 1).encode() + b"}")
    return b"|".join(options)


def _repeat(raw: bytes, name: bytes) -> int:
    at = raw.find(name)
    if at < 0:
        return 1
    m = re.match(rb"""\s*=\s*["']\s*([0-9]{1,12})""", raw[at + len(name):])
    return max(int(m[1]), 1) if m else 1
