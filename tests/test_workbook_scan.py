"""The raw-XML scan for what python-calamine drops: error cells and number formats."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
import python_calamine
import xlsxwriter

from bulkedit.workbook_scan import CellScan, scan_workbook


def calamine_rows(path: Path, sheet: str) -> list[list[object]]:
    return list(python_calamine.CalamineWorkbook.from_path(str(path))
                .get_sheet_by_name(sheet).iter_rows())


# ----------------------------------------------------------------------------- XLSX

def openpyxl_book(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Edits"
    sheet.append(["video_id", "title", "price"])
    sheet["A2"], sheet["B2"] = "x1", "#N/A"  # openpyxl stores known error strings as t="e"
    sheet["B3"] = "=1/0"  # a formula with no cached value
    sheet["C2"], sheet["C2"].number_format = 12.5, "0.00"
    sheet["C3"], sheet["C3"].number_format = 0.5, "0%"
    sheet["C4"], sheet["C4"].number_format = 3, '#,##0.000 "kg"'
    sheet["C5"] = 7
    sheet["A6"] = 'a title with t="e" in it'  # an inline string: the mark sits in its text
    book.save(path)
    return path


def test_openpyxl_error_cell_and_formula_without_cached_value(tmp_path: Path) -> None:
    path = openpyxl_book(tmp_path / "book.xlsx")
    xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    assert b'<c r="B2" t="e"><v>#N/A</v></c>' in xml
    assert b'<c r="B3"><f>1/0</f><v /></c>' in xml
    assert b'<t>a title with t="e" in it</t>' in xml
    # calamine: the error is an empty string, like the never-computed formula.
    assert calamine_rows(path, "Edits")[1][1] == "" and calamine_rows(path, "Edits")[2][1] == ""
    # The formula never computed is not an error cell: nothing is known to have failed.
    assert scan_workbook(path, "xlsx", "Edits") == CellScan(errors={(1, 1): "#N/A"})


def test_number_formats_builtin_custom_and_default(tmp_path: Path) -> None:
    path = openpyxl_book(tmp_path / "book.xlsx")
    styles = zipfile.ZipFile(path).read("xl/styles.xml")
    assert b'<xf numFmtId="9"' in styles  # "0%" is stored by its built-in id
    assert b'<xf numFmtId="2"' in styles  # so is "0.00"
    assert calamine_rows(path, "Edits")[1][2] == 12.5  # no trace of "0.00"
    wanted = {(1, 2), (2, 2), (3, 2), (4, 2), (0, 0), (9, 9)}
    scan = scan_workbook(path, "xlsx", "Edits", wanted)
    assert scan.formats == {(1, 2): "0.00", (2, 2): "0%", (3, 2): '#,##0.000 "kg"',
                            (4, 2): "General", (0, 0): "General"}  # (9, 9) has no <c>
    assert scan.errors == {(1, 1): "#N/A"}
    assert scan_workbook(path.read_bytes(), "xlsx", "Edits", wanted) == scan


def test_xlsxwriter_cached_error_values_on_a_second_sheet(tmp_path: Path) -> None:
    path = tmp_path / "two.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("Notes").write("A1", "nothing broken here")
    sheet = book.add_worksheet("Edits & more")
    sheet.write_row(0, 0, ["video_id", "title"])
    sheet.write_formula("B3", "=1/0", None, "#DIV/0!")
    sheet.write_formula("B4", "=VLOOKUP(A4,Z:Z,2,0)", None, "#N/A")
    sheet.write_formula("B5", "=1+1")  # xlsxwriter caches 0 when given no value
    sheet.write_string("B6", 't="e" written as text')
    book.close()
    xml = zipfile.ZipFile(path).read("xl/worksheets/sheet2.xml")
    assert b'<c r="B3" t="e"><f>1/0</f><v>#DIV/0!</v></c>' in xml
    assert calamine_rows(path, "Edits & more")[2:5] == [["", ""], ["", ""], ["", 0.0]]
    assert scan_workbook(path, "xlsx", "Edits & more").errors == {(2, 1): "#DIV/0!",
                                                                  (3, 1): "#N/A"}
    assert scan_workbook(path, "xlsx", "Notes") == CellScan()
    with pytest.raises(ValueError, match="no sheet named"):
        scan_workbook(path, "xlsx", "Missing")


def test_no_error_mark_means_no_errors(tmp_path: Path) -> None:
    path = tmp_path / "clean.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Edits")
    for row in range(200):
        sheet.write_row(row, 0, [f"x{row}", "title", row * 1.5])
    book.close()
    assert scan_workbook(path, "xlsx", "Edits") == CellScan()


NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
# Prefixed namespace, no `r` on any row or cell, attributes in any order, a shared formula,
# an inline string whose text looks like an error mark, single-quoted attributes.
HAND_SHEET = f"""<?xml version="1.0" encoding="UTF-8"?>
<x:worksheet xmlns:x="{NS}"><x:sheetData>
<x:row><x:c t="inlineStr"><x:is><x:t>video_id</x:t></x:is></x:c><x:c t="inlineStr"><x:is>
<x:t>t="e" &lt;c t="e"&gt;</x:t></x:is></x:c></x:row>
<x:row><x:c t="inlineStr"><x:is><x:t>x1</x:t></x:is></x:c>
<x:c s="1" t="e"><x:f t="shared" ref="B2:B3" si="0">1/0</x:f><x:v>#DIV/0!</x:v></x:c>
<x:c s="2"><x:v>12.5</x:v></x:c></x:row>
<x:row/>
<x:row><x:c t="inlineStr"><x:is><x:t>x2</x:t></x:is></x:c>
<x:c t='e' s='1'><x:f t="shared" si="0"/><x:v>#REF!</x:v></x:c><x:c/>
<x:c t="e"><x:v>#N/A</x:v></x:c></x:row>
<x:row spans="1:3" r="9"><x:c s="1" r="C9" t="e"><x:v>#VALUE!</x:v></x:c>
<x:c><x:v>1</x:v></x:c></x:row>
</x:sheetData></x:worksheet>"""
HAND_STYLES = f"""<styleSheet xmlns="{NS}"><numFmts count="1">
<numFmt numFmtId="164" formatCode="0.000&quot; €&quot;"/></numFmts>
<dxfs><dxf><numFmt numFmtId="2" formatCode="wrong"/></dxf></dxfs>
<cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="10"/></cellXfs>
</styleSheet>"""


def hand_xlsx(path: Path, sheet_xml: str = HAND_SHEET, workbook_extra: str = "") -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", f'{workbook_extra}<workbook xmlns="{NS}" '
                         f'xmlns:r="{REL}"><sheets><sheet name="Other" sheetId="1" r:id="rId1"/>'
                         '<sheet name="Data" sheetId="2" r:id="rId7"/></sheets></workbook>')
        archive.writestr("xl/_rels/workbook.xml.rels", (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId7" Type="{REL}/worksheet" Target="/xl/worksheets/data.xml"/>'
            f'<Relationship Id="rId9" Type="{REL}/styles" Target="styles.xml"/>'
            "</Relationships>"))
        archive.writestr("xl/worksheets/sheet1.xml", f'<worksheet xmlns="{NS}"><sheetData>'
                         '<row r="1"><c r="A1" t="e"><v>#NAME?</v></c></row>'
                         "</sheetData></worksheet>")
        archive.writestr("xl/worksheets/data.xml", sheet_xml)
        archive.writestr("xl/styles.xml", HAND_STYLES)
    return path


def test_hand_written_xlsx_without_r_and_with_prefixed_namespace(tmp_path: Path) -> None:
    path = hand_xlsx(tmp_path / "hand.xlsx")
    errors = {(1, 1): "#DIV/0!", (3, 1): "#REF!", (3, 3): "#N/A", (8, 2): "#VALUE!"}
    assert scan_workbook(path, "xlsx", "Data") == CellScan(errors=errors)
    wanted = {(1, 1), (1, 2), (3, 2), (8, 3), (2, 0), (0, 1)}
    assert scan_workbook(path, "xlsx", "Data", wanted) == CellScan(errors, {
        (1, 1): '0.000" €"', (1, 2): "0.00%", (3, 2): "General", (8, 3): "General",
        (0, 1): "General"})
    assert scan_workbook(path, "xlsx", "Other").errors == {(0, 0): "#NAME?"}


@pytest.mark.parametrize("mangle", [
    lambda xml: xml.replace("</x:sheetData>", ""),  # truncated
    lambda xml: xml.replace('s="2"', 's="7"'),  # a style the styles part does not have
    lambda xml: xml.replace('<x:c s="1" r="C9"', '<x:c s="1" r="9C"'),  # a bad reference
    lambda xml: xml.replace('s="2"', 's="two"'),  # a style that is not a number
])
def test_malformed_sheet_raises_value_error(tmp_path: Path, mangle: Callable[[str], str]
                                            ) -> None:
    path = hand_xlsx(tmp_path / "bad.xlsx", mangle(HAND_SHEET))
    with pytest.raises(ValueError):
        scan_workbook(path, "xlsx", "Data", {(1, 2)})


def test_not_a_zip_and_entity_declarations_raise_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="malformed workbook"):
        scan_workbook(b"not a zip at all", "xlsx", "Data")
    path = hand_xlsx(tmp_path / "bomb.xlsx", workbook_extra='<!DOCTYPE w [<!ENTITY a "aaaa">]>')
    with pytest.raises(ValueError, match="DOCTYPE"):
        scan_workbook(path, "xlsx", "Data")


# ----------------------------------------------------------------------------- ODS

ODS_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
          'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"')


def cell(text: str, *attrs: str) -> str:
    return f'<table:table-cell {" ".join(attrs)}><text:p>{text}</text:p></table:table-cell>'


def error(text: str, repeat: int = 1, value: str = 'office:value-type="string" '
          'office:string-value=""') -> str:  # how LibreOffice saves a formula that failed
    return cell(text, 'table:formula="of:=1/0"', value, 'calcext:value-type="error"',
                f'table:number-columns-repeated="{repeat}"')


def row(*cells: str, repeat: int = 1) -> str:
    return f'<table:table-row table:number-rows-repeated="{repeat}">{"".join(cells)}' \
           "</table:table-row>"


EMPTY = "<table:table-cell/>"
ODS_EDITS = (
    '<table:table table:name="Edits &amp; co">'
    '<table:table-column table:number-columns-repeated="9"/>'
    "<table:table-header-rows>" + row(cell("video_id"), cell("title"), cell("price")) +
    "</table:table-header-rows><table:table-row-group>" +
    row('<table:table-cell table:number-columns-repeated="3"/>', error("#DIV/0!"),
        error("#N/A", value='office:value-type="float" office:value="0"')) +
    row(cell("x1"), EMPTY, repeat=2) +
    "</table:table-row-group>" +
    row('<table:table-cell table:number-columns-spanned="2"><text:p>merged</text:p>'
        "</table:table-cell>", "<table:covered-table-cell/>",
        cell('a<text:s text:c="2"/>b<text:tab/>c<text:span>d</text:span>'
             "<office:annotation><text:p>a comment</text:p></office:annotation>"),
        error("Err:502", repeat=2)) +
    row(error("#REF!"), repeat=2) +
    '<table:table-row table:number-rows-repeated="1048570"><table:table-cell '
    'table:number-columns-repeated="1024"/></table:table-row></table:table>')


def write_ods(path: Path, tables: str) -> Path:
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODS_NS} '
               f'office:version="1.3"><office:body><office:spreadsheet>{tables}'
               "</office:spreadsheet></office:body></office:document-content>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet",
                         compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", content)
        archive.writestr("META-INF/manifest.xml", (
            '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:'
            'manifest:1.0" manifest:version="1.3"><manifest:file-entry manifest:full-path="/" '
            'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type='
            '"text/xml"/></manifest:manifest>'))
    return path


def test_ods_error_cells_with_repeats_covered_cells_and_row_groups(tmp_path: Path) -> None:
    other = '<table:table table:name="Other">' + row(error("#NAME?")) + "</table:table>"
    path = write_ods(tmp_path / "book.ods", other + ODS_EDITS)
    rows = calamine_rows(path, "Edits & co")
    # calamine: a string-typed error cell is "", a float-typed one is its office:value.
    assert rows[1] == ["", "", "", "", 0.0]
    errors = {(1, 3): "#DIV/0!", (1, 4): "#N/A", (4, 3): "Err:502", (4, 4): "Err:502",
              (5, 0): "#REF!", (6, 0): "#REF!"}
    assert scan_workbook(path, "ods", "Edits & co") == CellScan(errors=errors)
    wanted = {(0, 1), (2, 0), (3, 0), (3, 1), (4, 0), (4, 1), (4, 2), (9, 500)}
    assert scan_workbook(path, "ods", "Edits & co", wanted) == CellScan(errors, shown={
        (0, 1): "title", (2, 0): "x1", (3, 0): "x1", (3, 1): "", (4, 0): "merged",
        (4, 1): "", (4, 2): "a  b\tcd", (9, 500): ""})
    assert scan_workbook(path, "ods", "Other").errors == {(0, 0): "#NAME?"}
    with pytest.raises(ValueError, match="no sheet named"):
        scan_workbook(path, "ods", "Edits")


def test_ods_without_errors_and_malformed_ods(tmp_path: Path) -> None:
    clean = write_ods(tmp_path / "clean.ods", '<table:table table:name="S">'
                      + row(cell("a"), cell("b")) + "</table:table>")
    assert scan_workbook(clean, "ods", "S") == CellScan()
    assert scan_workbook(clean, "ods", "S", {(0, 1)}).shown == {(0, 1): "b"}
    broken = write_ods(tmp_path / "broken.ods", '<table:table table:name="S">'
                       + row(error("#N/A", repeat=0x7FFFFFFF)) + "</table:table>")
    with pytest.raises(ValueError):
        scan_workbook(broken, "ods", "S")
    truncated = write_ods(tmp_path / "cut.ods", '<table:table table:name="S">' + row(error("x")))
    with pytest.raises(ValueError, match="not closed"):
        scan_workbook(truncated, "ods", "S")
