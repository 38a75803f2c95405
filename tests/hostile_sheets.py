"""Hostile sheets (issue 26): small files that claim or hold far more than any real sheet.

Each maker writes one file into a folder and returns its path. The big ones are written
streaming (a 300 MB CSV never sits in memory) and take a size, so that tests make them
only as large as needed to cross a cap they lower.

    python tests/hostile_sheets.py DIR        # writes every one of them into DIR
"""

from __future__ import annotations

import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
         'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
         'http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
         'officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.'
             'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.'
             'openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name='
             '"Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
    'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
    'schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target='
    '"worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.'
    'org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
    '</Relationships>')
_SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
               'openxmlformats.org/spreadsheetml/2006/main">')
_HEADER = ('<row r="1"><c r="A1" t="inlineStr"><is><t>video_id</t></is></c>'
           '<c r="B1" t="inlineStr"><is><t>title</t></is></c></row>'
           '<row r="2"><c r="A2" t="inlineStr"><is><t>x8abc12</t></is></c>'
           '<c r="B2" t="inlineStr"><is><t>New</t></is></c></row>')
_SST_HEAD = ('<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.'
             'openxmlformats.org/spreadsheetml/2006/main"')


def _xlsx(path: Path, sheet: Callable[[], object], *, dimension: str | None = None,
          shared: Callable[[], object] | None = None) -> Path:
    """A one-sheet workbook whose sheet part is written by `sheet` (an iterator of str
    chunks, streamed into the zip), and its sharedStrings part by `shared`."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            part.write(_SHEET_HEAD.encode())
            if dimension is not None:
                part.write(f'<dimension ref="{dimension}"/>'.encode())
            part.write(b"<sheetData>")
            for chunk in sheet():  # type: ignore[attr-defined]
                part.write(chunk.encode())
            part.write(b"</sheetData></worksheet>")
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            if shared is None:
                part.write((_SST_HEAD + ' count="0" uniqueCount="0"/>').encode())
            else:
                for chunk in shared():  # type: ignore[attr-defined]
                    part.write(chunk.encode())
    return path


def far_cell(folder: Path, ref: str = "XFD1048576", name: str | None = None) -> Path:
    """A header, one row, and one cell far away: XFD1048576 (the last cell Excel has), or
    ALL60000 (within 1,000 columns, 60 million cells away)."""
    row = int("".join(ch for ch in ref if ch.isdigit()))
    return _xlsx(folder / (name or f"far-{ref}.xlsx"),
                 lambda: iter([_HEADER, f'<row r="{row}"><c r="{ref}"><v>1</v></c></row>']))


def claimed_extent(folder: Path, dimension: str = "A1:XFD1048576") -> Path:
    """A small sheet whose <dimension ref> claims the whole grid."""
    return _xlsx(folder / "claimed-extent.xlsx", lambda: iter([_HEADER]), dimension=dimension)


def unreferenced_cells(folder: Path, count: int = 10**6) -> Path:
    """`count` cells with no `r` attribute in one row: each one the next column."""
    def sheet():  # type: ignore[no-untyped-def]
        yield _HEADER + '<row r="3">'
        for _ in range(count // 10_000):
            yield "<c><v>1</v></c>" * 10_000
        yield "<c><v>1</v></c>" * (count % 10_000) + "</row>"
    return _xlsx(folder / "unreferenced-cells.xlsx", sheet)


def unreferenced_rows(folder: Path, count: int = 2 * 10**6) -> Path:
    """`count` rows with no `r` attribute, one cell each: more rows than Excel has."""
    def sheet():  # type: ignore[no-untyped-def]
        yield _HEADER
        for _ in range(count // 10_000):
            yield "<row><c><v>1</v></c></row>" * 10_000
        yield "<row><c><v>1</v></c></row>" * (count % 10_000)
    return _xlsx(folder / "unreferenced-rows.xlsx", sheet)


def shared_strings_bomb(folder: Path, megabytes: int = 1024) -> Path:
    """A sharedStrings part that inflates to `megabytes` MB (a zip bomb: ~1,000:1)."""
    def shared():  # type: ignore[no-untyped-def]
        yield _SST_HEAD + ' count="1" uniqueCount="1"><si><t>'
        block = "a" * (1 << 20)
        for _ in range(megabytes):
            yield block
        yield "</t></si></sst>"
    return _xlsx(folder / "shared-strings-bomb.xlsx", lambda: iter([_HEADER]), shared=shared)


def claimed_strings(folder: Path, count: int = 2_000_000_000) -> Path:
    """A sharedStrings part that claims `count` strings and holds one."""
    return _xlsx(folder / "claimed-strings.xlsx", lambda: iter([_HEADER]), shared=lambda: iter(
        [_SST_HEAD + f' count="{count}" uniqueCount="{count}"><si><t>a</t></si></sst>']))


_ODS_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
           'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
           'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')
_ODS_HEADER = ('<table:table-row><table:table-cell office:value-type="string"><text:p>video_id'
               '</text:p></table:table-cell><table:table-cell office:value-type="string">'
               '<text:p>title</text:p></table:table-cell></table:table-row>')


def _ods(path: Path, rows: str) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet",
                         compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", (
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:'
            'oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:'
            'full-path="/" manifest:media-type="application/vnd.oasis.opendocument.'
            'spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:'
            'media-type="text/xml"/></manifest:manifest>'))
        archive.writestr("content.xml", (
            f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODS_NS}>'
            '<office:body><office:spreadsheet><table:table table:name="Sheet1">'
            f'{_ODS_HEADER}{rows}</table:table></office:spreadsheet></office:body>'
            '</office:document-content>'))
    return path


def ods_repeated(folder: Path, columns: int = 16384, rows: int = 1048576) -> Path:
    """An ODS whose last row repeats a cell over `columns` columns and `rows` rows."""
    cell = '<table:table-cell office:value-type="float" office:value="1"><text:p>1</text:p>' \
           '</table:table-cell>'
    return _ods(folder / "ods-repeated.ods", (
        f'<table:table-row table:number-rows-repeated="{rows}">'
        f'<table:table-cell table:number-columns-repeated="{columns - 1}"/>{cell}'
        '</table:table-row>'))


def ods_far_cell(folder: Path, columns: int = 1000, rows: int = 60000) -> Path:
    """An ODS with one cell at column `columns`, row `rows` (ALL60000 by default), reached
    by repeated empty rows and cells."""
    cell = '<table:table-cell office:value-type="float" office:value="1"><text:p>1</text:p>' \
           '</table:table-cell>'
    return _ods(folder / "ods-far-cell.ods", (
        f'<table:table-row table:number-rows-repeated="{rows - 2}"><table:table-cell/>'
        f'</table:table-row><table:table-row><table:table-cell table:number-columns-repeated='
        f'"{columns - 1}"/>{cell}</table:table-row>'))


def one_line_csv(folder: Path, size: int = 300 * 10**6) -> Path:
    """A CSV of `size` bytes on one line (no line break, no delimiter), written streaming."""
    path = folder / "one-line.csv"
    block = b"video_id" * (1 << 17)
    with path.open("wb") as out:
        left = size
        while left > 0:
            out.write(block[:left])
            left -= len(block)
    return path


def huge_field_csv(folder: Path, size: int = 300 * 10**6, *, lines: bool = False) -> Path:
    """A CSV with a header, then one quoted field of `size` bytes, written streaming;
    `lines`: the field holds a line break every 1,024 bytes."""
    path = folder / ("huge-multiline-field.csv" if lines else "huge-field.csv")
    block = (b"a" * 1023 + b"\n" if lines else b"a" * 1024) * 1024
    with path.open("wb") as out:
        out.write(b'video_id,title\r\nx8abc12,"')
        left = size
        while left > 0:
            out.write(block[:left])
            left -= len(block)
        out.write(b'"\r\n')
    return path


MAKERS: dict[str, Callable[[Path], Path]] = {
    "xfd1048576": far_cell,
    "all60000": lambda folder: far_cell(folder, "ALL60000"),
    "claimed_extent": claimed_extent,
    "unreferenced_cells": unreferenced_cells,
    "unreferenced_rows": unreferenced_rows,
    "shared_strings_bomb": shared_strings_bomb,
    "claimed_strings": claimed_strings,
    "ods_repeated": ods_repeated,
    "ods_far_cell": ods_far_cell,
    "one_line_csv": one_line_csv,
    "huge_field_csv": huge_field_csv,
    "huge_multiline_field_csv": lambda folder: huge_field_csv(folder, lines=True),
}


if __name__ == "__main__":
    target = Path(sys.argv[1])
    target.mkdir(parents=True, exist_ok=True)
    for name, make in MAKERS.items():
        print(name, make(target))
