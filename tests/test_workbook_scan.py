"""The raw-XML scan for what python-calamine drops: error cells and number formats."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
import python_calamine
import xlsxwriter

from bulkedit.sheets.workbook_layout import Layout
from bulkedit.sheets.workbook_scan import CellScan, scan_workbook


def calamine_rows(path: Path, sheet: str) -> list[list[object]]:
    return list(python_calamine.CalamineWorkbook.from_path(str(path))
                .get_sheet_by_name(sheet).iter_rows())


# ----------------------------------------------------------------------------- XLSX

def without_full_calc(path: Path) -> Path:
    """A copy of the workbook without fullCalcOnLoad, as Excel or LibreOffice save it."""
    copy = path.with_name("recalculated-" + path.name)
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(copy, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/workbook.xml":
                assert b'fullCalcOnLoad="1"' in data
                data = data.replace(b' fullCalcOnLoad="1"', b"")
            target.writestr(info, data)
    return copy


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
    assert scan_workbook(path, "xlsx", "Edits") == CellScan(errors={(1, 1): "#N/A"},
                                                            uncalculated={(2, 1): "1/0"})
    # openpyxl flags its workbooks stale; without the flag, the empty <v /> still tells.
    assert b'fullCalcOnLoad="1"' in zipfile.ZipFile(path).read("xl/workbook.xml")
    assert scan_workbook(without_full_calc(path), "xlsx", "Edits").uncalculated == {
        (2, 1): "1/0"}


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
    formulas = {(1, 1): "1/0", (3, 1): ""}  # (3, 1) only points at the shared formula
    assert scan_workbook(path, "xlsx", "Data") == CellScan(errors=errors, formulas=formulas)
    wanted = {(1, 1), (1, 2), (3, 2), (8, 3), (2, 0), (0, 1)}
    assert scan_workbook(path, "xlsx", "Data", wanted) == CellScan(errors, {
        (1, 1): '0.000" €"', (1, 2): "0.00%", (3, 2): "General", (8, 3): "General",
        (0, 1): "General"}, formulas=formulas)
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


# ----------------------------------------------------------------------------- formulas

def test_xlsxwriter_formulas_cached_as_zero_are_uncalculated(tmp_path: Path) -> None:
    path = tmp_path / "pandas.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Edits")
    sheet.write_row(0, 0, ["video_id", "title", "is_private", "tags"])
    sheet.write_row(1, 0, ["x1", '=A2&" & more"', '=A2="x1"', "=-museum"])  # all formulas
    sheet.write_row(2, 0, ["x2", "a title", False, "-museum"])
    sheet.write_formula("B4", "=1/0", None, "#DIV/0!")
    sheet.write_array_formula("E1:E3", "{=LEN(A1:A3)}")
    book.close()
    xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    assert b'<c r="B2"><f>A2&amp;" &amp; more"</f><v>0</v></c>' in xml
    assert b'fullCalcOnLoad="1"' in zipfile.ZipFile(path).read("xl/workbook.xml")
    # calamine: the title reads 0, the boolean 0 (false), the tag patch 0.
    assert calamine_rows(path, "Edits")[1][1:4] == [0.0, 0.0, 0.0]
    texts = {(1, 1): 'A2&" & more"', (1, 2): 'A2="x1"', (1, 3): "-museum", (3, 1): "1/0",
             (0, 4): "LEN(A1:A3)", (1, 4): "LEN(A1:A3)", (2, 4): "LEN(A1:A3)"}
    scan = scan_workbook(path, "xlsx", "Edits")
    assert scan == CellScan(errors={(3, 1): "#DIV/0!"}, uncalculated=texts,
                            formulas={(3, 1): "1/0"})
    wanted = {(0, 4), (1, 1), (2, 2), (3, 1)}  # their rows are read cell by cell
    assert scan_workbook(path.read_bytes(), "xlsx", "Edits", wanted) == CellScan(
        scan.errors, dict.fromkeys(wanted, "General"), {}, texts, scan.formulas)
    # Without the stale flag, a cached 0 looks computed: nothing tells it apart.
    assert scan_workbook(without_full_calc(path), "xlsx", "Edits") == CellScan(
        errors={(3, 1): "#DIV/0!"}, formulas={(3, 1): "1/0"})


def excel_like_book(path: Path) -> Path:
    """Formulas with their cached values, and no fullCalcOnLoad: as Excel saves them."""
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Edits")
    sheet.write_row(0, 0, ["video_id", "title", "is_private", "price"])
    for row in range(1, 60):
        sheet.write_string(row, 0, f"x{row}")
        sheet.write_formula(row, 1, f'=A{row + 1}&" title"', None, f"x{row} title")
        sheet.write_formula(row, 2, f'=A{row + 1}="x1"', None, row == 1)
        sheet.write_formula(row, 3, f"={row}*1.5", None, row * 1.5)
    book.close()
    return without_full_calc(path)


def test_formulas_with_cached_values_report_nothing(tmp_path: Path) -> None:
    path = excel_like_book(tmp_path / "excel.xlsx")
    xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    assert b'<c r="B2" t="str"><f>A2&amp;" title"</f><v>x1 title</v></c>' in xml
    assert b'<c r="C2" t="b"><f>A2="x1"</f><v>1</v></c>' in xml
    assert calamine_rows(path, "Edits")[1] == ["x1", "x1 title", True, 1.5]
    assert scan_workbook(path, "xlsx", "Edits") == CellScan()
    assert scan_workbook(path, "xlsx", "Edits", {(5, 1)}) == CellScan(
        formats={(5, 1): "General"})


def test_excel_name_error_keeps_the_formula_typed(tmp_path: Path) -> None:
    # Typing -museum or +us in Excel makes a formula whose value is #NAME?.
    path = tmp_path / "typed.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Edits")
    sheet.write_row(0, 0, ["video_id", "tags", "geoblocking", "title"])
    sheet.write_row(1, 0, ["x1"])
    sheet.write_formula("B2", "=-museum", None, "#NAME?")
    sheet.write_formula("C2", "=+us", None, "#NAME?")
    sheet.write_formula("D2", "=_xlfn.STDEV.S(Z:Z)", None, "#DIV/0!")
    book.close()
    xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    assert b'<c r="B2" t="e"><f>-museum</f><v>#NAME?</v></c>' in xml
    assert calamine_rows(path, "Edits")[1] == ["x1", "", "", ""]
    errors = {(1, 1): "#NAME?", (1, 2): "#NAME?", (1, 3): "#DIV/0!"}
    formulas = {(1, 1): "-museum", (1, 2): "+us", (1, 3): "STDEV.S(Z:Z)"}
    assert scan_workbook(without_full_calc(path), "xlsx", "Edits") == CellScan(
        errors=errors, formulas=formulas)
    # Flagged stale, the cached errors are not known to be current either.
    assert scan_workbook(path, "xlsx", "Edits") == CellScan(
        errors=errors, uncalculated=formulas, formulas=formulas)


SHARED_SHEET = f"""<worksheet xmlns="{NS}"><sheetData>
<row r="1"><c r="A1"><v>1</v></c><c r="B1"><f t="shared" ref="B1:B4" si="0">A1*2</f><v>2</v></c>
<c r="C1" t="str"><f>IF(A1=1,"","x")</f><v></v></c><c t="str" r="D1"><f>""</f><v/></c></row>
<row r="2"><c r="A2"><v>2</v></c><c r="B2"><f t="shared" si="0"/><v>4</v></c>
<c r="C2"><f>""</f><v></v></c><c r="D2" t="str"><f>A1&amp;"x"</f></c></row>
<row r="3"><c r="A3"><v>3</v></c><c r="B3"><f t="shared" si="0"/></c>
<c r="C3" t="b"><f>A3&gt;2</f><v/></c></row>
<row r="4"><c r="B4" t="e"><f t="shared" si="0"/><v>#VALUE!</v></c></row>
</sheetData></worksheet>"""


@pytest.mark.parametrize("stale", [False, True])
def test_shared_formulas_and_empty_cached_values(tmp_path: Path, stale: bool) -> None:
    calc = '<calcPr calcId="191029" fullCalcOnLoad="1"/>' if stale else '<calcPr calcId="1"/>'
    path = hand_xlsx(tmp_path / "shared.xlsx", SHARED_SHEET)
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        b"</sheets>", b"</sheets>" + calc.encode())
    with zipfile.ZipFile(path, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)
    # The empty string a t="str" cell holds is a computed value (C1, D1); an empty <v> in
    # a number or boolean cell (C2, C3), or no <v> at all (B3, D2), is not.
    missing = {(2, 1): "", (1, 2): '""', (1, 3): 'A1&"x"', (2, 2): "A3>2"}
    every = {**missing, (0, 1): "A1*2", (1, 1): "", (0, 2): 'IF(A1=1,"","x")',
             (0, 3): '""', (3, 1): ""}
    expected = CellScan(errors={(3, 1): "#VALUE!"}, uncalculated=every if stale else missing,
                        formulas={(3, 1): ""})
    assert scan_workbook(path, "xlsx", "Data") == expected
    # Wanted cells make their rows be read cell by cell: the same findings.
    scan = scan_workbook(path, "xlsx", "Data", {(0, 3), (1, 0), (2, 1), (3, 0)})
    assert (scan.errors, scan.uncalculated, scan.formulas) == (
        expected.errors, expected.uncalculated, expected.formulas)


def test_formula_cells_without_r_and_with_a_prefix(tmp_path: Path) -> None:
    sheet = f"""<x:worksheet xmlns:x="{NS}"><x:sheetData>
<x:row><x:c><x:v>1</x:v></x:c><x:c><x:f>A1+1</x:f><x:v/></x:c></x:row>
<x:row r="3"><x:c r="A3"><x:v>1</x:v></x:c><x:c s="1"> <x:f>A3 &lt; 2</x:f> </x:c>
<x:c t="str"><x:f>"a"</x:f><x:v></x:v></x:c></x:row>
</x:sheetData></x:worksheet>"""
    path = hand_xlsx(tmp_path / "prefixed.xlsx", sheet)
    assert scan_workbook(path, "xlsx", "Data") == CellScan(
        uncalculated={(0, 1): "A1+1", (2, 1): "A3 < 2"})


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
    formulas = dict.fromkeys(errors, "1/0")
    merged = Layout(merges=((4, 0, 4, 1),))  # A5:B5, in row 5 after the repeated row 2
    assert scan_workbook(path, "ods", "Edits & co") == CellScan(errors=errors,
                                                                formulas=formulas,
                                                                layout=merged)
    wanted = {(0, 1), (2, 0), (3, 0), (3, 1), (4, 0), (4, 1), (4, 2), (9, 500)}
    assert scan_workbook(path, "ods", "Edits & co", wanted) == CellScan(errors, shown={
        (0, 1): "title", (2, 0): "x1", (3, 0): "x1", (3, 1): "", (4, 0): "merged",
        (4, 1): "", (4, 2): "a  b\tcd", (9, 500): ""}, formulas=formulas, layout=merged)
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


def formula_cell(text: str, formula: str, *attrs: str) -> str:
    return cell(text, f'table:formula="{formula}"', *attrs)


def test_ods_legacy_error_text_and_formulas_without_a_value(tmp_path: Path) -> None:
    # Older files mark a failed formula only by the error it shows.
    float0 = ('office:value-type="float"', 'office:value="0"')
    table = ('<table:table table:name="S">' + row(cell("video_id"), cell("tags"), cell("n"))
             + row(cell("x1"), formula_cell("#NAME?", "of:=-museum", *float0),
                   formula_cell("Err:502", "of:=1/0", 'office:value-type="string"',
                                'office:string-value=""'))
             + row(cell("x2"), formula_cell("#NV", "msoxl:=VLOOKUP(A3;Z:Z;2;0)", *float0),
                   formula_cell("#N/A", 'of:=&quot;#N/A&quot;', 'office:value-type="string"',
                                'office:string-value="#N/A"', 'calcext:value-type="string"')
                   .replace("<text:p>", '<text:p text:style-name="P1">'))
             + row(cell("#N/A"), formula_cell("#1 hit", 'of:=&quot;#1 hit&quot;',
                                              'office:value-type="string"'),
                   formula_cell("", "of:=[.A1]"), '<table:table-cell table:formula="of:=2"/>')
             + "</table:table>")
    path = write_ods(tmp_path / "old.ods", table)
    # calamine: #NAME? is 0, Err:502 is "" (cells without a value type it leaves out).
    assert calamine_rows(path, "S")[1] == [0.0, ""]
    errors = {(1, 1): "#NAME?", (1, 2): "Err:502", (2, 1): "#NV", (2, 2): "#N/A"}
    formulas = {(1, 1): "-museum", (1, 2): "1/0", (2, 1): "VLOOKUP(A3;Z:Z;2;0)",
                (2, 2): '"#N/A"'}
    expected = CellScan(errors=errors, uncalculated={(3, 2): "[.A1]", (3, 3): "2"},
                        formulas=formulas)
    assert scan_workbook(path, "ods", "S") == expected
    scan = scan_workbook(path, "ods", "S", {(1, 1), (3, 0)})
    assert scan == CellScan(errors, shown={(1, 1): "#NAME?", (3, 0): "#N/A"},
                            uncalculated=expected.uncalculated, formulas=formulas)


def test_ods_formulas_with_values_report_nothing(tmp_path: Path) -> None:
    # How LibreOffice writes formulas: the value type after the formula.
    table = ('<table:table table:name="S">' + row(cell("video_id"), cell("title"))
             + row(cell("#1 x1"), formula_cell("#1 x1 title", 'of:=[.A2]&amp;&quot; title&quot;',
                                               'office:value-type="string"',
                                               'office:string-value="#1 x1 title"',
                                               'calcext:value-type="string"'),
                   cell("3", 'office:value-type="float"', 'office:value="3"',
                        'table:formula="of:=1+2"'), repeat=3)
             + "</table:table>")
    path = write_ods(tmp_path / "lo.ods", table)
    assert scan_workbook(path, "ods", "S") == CellScan()
    assert scan_workbook(path, "ods", "S", {(1, 1)}) == CellScan(shown={(1, 1): "#1 x1 title"})


ERROR_LITERALS = [
    "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
    "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!",
    "#EXTERNAL!", "#PYTHON!", "#ERROR!", "Err:502", "Err:511", "#NV", "#WERT!", "#BEZUG!",
    "#ZAHL!", "#VALEUR!", "#NOM?", "#NOMBRE!", "#NUL!", "#N/D", "#¡VALOR!", "#¡REF!",
    "#¿NOMBRE?", "#¡NUM!", "#¡NULO!", "#VALORE!", "#RIF!", "#NOME?", "#NULLO!", "#VALOR!",
    "#NÚM!", "#NULO!", "#N/B", "#WAARDE!", "#VERW!", "#DEEL/0!", "#NAAM?", "#GETAL!",
    "#LEEG!",
]


def test_ods_every_error_literal_and_nothing_else(tmp_path: Path) -> None:
    shown = [*ERROR_LITERALS, "#n/a", "#N/A ", "Err:50", "#", "N/A", "#NAME"]
    cells = [formula_cell(text, "of:=X()", 'office:value-type="float"', 'office:value="0"')
             for text in shown]
    path = write_ods(tmp_path / "literals.ods",
                     '<table:table table:name="S">' + row(*cells) + "</table:table>")
    assert scan_workbook(path, "ods", "S") == CellScan(
        errors={(0, col): text for col, text in enumerate(ERROR_LITERALS)},
        formulas={(0, col): "X()" for col in range(len(ERROR_LITERALS))})
