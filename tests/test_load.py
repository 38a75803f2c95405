"""The loader on real files: encodings and dialects Excel writes, typed XLSX cells, bad files."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pytest
from conftest import write_csv_bytes, write_ods, write_xlsx

from bulkedit.core.errors import LoadError
from bulkedit.core.sheet import SheetReading
from bulkedit.sheets.load import load_sheet

BAD = Path(__file__).parent / "data" / "bad"


def cells(sheet) -> list[dict[str, str]]:
    return [sheet.row(i) for i in range(len(sheet))]


# ----------------------------------------------------------------------------- CSV

@pytest.mark.parametrize("encoding,bom", [
    ("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("cp1252", b""),
])
def test_csv_encodings(tmp_path, encoding, bom):
    path = tmp_path / "e.csv"
    path.write_bytes(bom + "video_id,title\r\nx8abc12,Café crème – “été”\r\n".encode(encoding))
    sheet = load_sheet(path)
    assert cells(sheet) == [{"video_id": "x8abc12", "title": "Café crème – “été”"}]
    assert sheet.encoding == encoding


def test_csv_utf16_unicode_text_is_tab_separated(tmp_path):
    # Excel's "Unicode Text (*.txt)" export: UTF-16 LE with BOM, tabs, CRLF.
    path = write_csv_bytes(tmp_path / "u.csv", "video_id\ttitle\r\nx8abc12\t東京 ☃ 🎬\r\n",
                           "utf-16")
    sheet = load_sheet(path)
    assert cells(sheet) == [{"video_id": "x8abc12", "title": "東京 ☃ 🎬"}]
    assert (sheet.encoding, sheet.delimiter) == ("utf-16", "\t")


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_delimiter_sniffing(tmp_path, delimiter):
    text = delimiter.join(["video_id", "title", "tags"]) + "\n" + delimiter.join(
        ["x8abc12", "Hello", '"a, b; c"']) + "\n"
    sheet = load_sheet(write_csv_bytes(tmp_path / "d.csv", text))
    assert sheet.delimiter == delimiter
    assert cells(sheet)[0]["tags"] == "a, b; c"


def test_csv_quoted_newlines_crlf_and_excel_row_numbers(tmp_path):
    text = ('video_id,description\r\n'
            'x8abc12,"line one\r\nline two"\r\n'
            '\r\n'
            ',\r\n'
            'x8abc13,"said ""hi"""\r\n')
    sheet = load_sheet(write_csv_bytes(tmp_path / "q.csv", text))
    assert cells(sheet) == [{"video_id": "x8abc12", "description": "line one\r\nline two"},
                            {"video_id": "x8abc13", "description": 'said "hi"'}]
    assert sheet.row_numbers == (2, 5)  # rows 3 and 4 are blank and skipped


def test_csv_ragged_rows_are_padded(tmp_path):
    sheet = load_sheet(write_csv_bytes(tmp_path / "r.csv", "video_id,title,tags\nx8abc12\n"))
    assert cells(sheet) == [{"video_id": "x8abc12", "title": "", "tags": ""}]


def test_csv_values_are_never_typed(tmp_path):
    text = "video_id,title,private,soundtrack_popularity\n00123,007,TRUE,1e3\n"
    sheet = load_sheet(write_csv_bytes(tmp_path / "t.csv", text))
    assert cells(sheet) == [{"video_id": "00123", "title": "007", "private": "TRUE",
                             "soundtrack_popularity": "1e3"}]


def test_csv_apostrophe_is_the_users_text_unless_stripped(tmp_path):
    # Only an XLSX has Excel's quote prefix; in a CSV the apostrophe is a character (issue
    # 25): kept, with a warning, or removed when the user says it is an exporter's escape.
    path = write_csv_bytes(tmp_path / "x.csv", "video_id,title\nx8abc12,'=1+2\n")
    assert cells(load_sheet(path))[0]["title"] == "'=1+2"
    stripped = load_sheet(path, reading=SheetReading(strip_apostrophes=True))
    assert cells(stripped)[0]["title"] == "=1+2" and stripped.issues == ()


def test_header_on_a_later_row_keeps_excel_numbers(tmp_path):
    sheet = load_sheet(write_csv_bytes(tmp_path / "h.csv", "\n,\nvideo_id,title\nx8abc12,T\n"))
    assert sheet.header_row == 3 and sheet.row_numbers == (4,)


def test_file_like_objects(tmp_path):
    sheet = load_sheet(io.BytesIO(b"video_id,title\nx8abc12,Hi\n"), name="upload.csv")
    assert sheet.source == "upload.csv" and cells(sheet) == [{"video_id": "x8abc12", "title": "Hi"}]


# ----------------------------------------------------------------------------- headers

def test_headers_are_aliased_and_normalised(tmp_path):
    text = "Video ID,Is Created For Kids,ALLOW EMBEDDED,# my notes,Titel\nx8abc12,yes,no,hi,T\n"
    sheet = load_sheet(write_csv_bytes(tmp_path / "a.csv", text))
    assert [(c.header, c.field, c.letter) for c in sheet.columns] == [
        ("Video ID", "video_id", "A"), ("Is Created For Kids", "is_created_for_kids", "B"),
        ("ALLOW EMBEDDED", "allow_embed", "C"), ("# my notes", "#", "D"), ("Titel", None, "E")]


def test_url_header_is_the_id_column_only_when_there_is_no_other(tmp_path):
    only = load_sheet(write_csv_bytes(tmp_path / "u1.csv", "url,title\nhttps://dai.ly/x8abc12,T\n"))
    assert only.column("video_id").header == "url"
    both = load_sheet(write_csv_bytes(tmp_path / "u2.csv", "id,url\nx8abc12,https://a.b/c.mp4\n"))
    assert both.column("video_id").header == "id" and both.column("url").header == "url"


def test_duplicate_headers_are_an_error(tmp_path):
    path = write_csv_bytes(tmp_path / "dup.csv", "video_id,Title,tags,title\nx8abc12,a,b,c\n")
    with pytest.raises(LoadError) as caught:
        load_sheet(path)
    assert str(caught.value) == (
        f"{path}: columns B ('Title') and D ('title') both mean title. Keep one of them, or "
        "start the other's header with # to turn it into a comment")


def test_unnamed_column_with_values_is_reported(tmp_path):
    sheet = load_sheet(write_csv_bytes(tmp_path / "n.csv", "video_id,,title\nx8abc12,oops,T\n"))
    assert [(i.row, i.code) for i in sheet.issues] == [(1, "no_header")]
    assert "column B has values but no header" in sheet.issues[0].message


# ----------------------------------------------------------------------------- XLSX

def test_xlsx_typed_cells(tmp_path):
    path = write_xlsx(tmp_path / "t.xlsx", [
        ["video_id", "title", "private", "publish_date", "soundtrack_popularity", "geoloc"],
        ["x8abc12", "Hello", True, dt.datetime(2026, 12, 1, 18, 0), 100, "-9.14, 38.71"],
        ["x8abc13", 2026, False, dt.date(2026, 12, 2), 2.5, None],
    ])
    assert cells(load_sheet(path)) == [
        {"video_id": "x8abc12", "title": "Hello", "private": "TRUE",
         "publish_date": "2026-12-01T18:00:00", "soundtrack_popularity": "100",
         "geoloc": "-9.14, 38.71"},
        {"video_id": "x8abc13", "title": "2026", "private": "FALSE",
         "publish_date": "2026-12-02", "soundtrack_popularity": "2.5", "geoloc": ""},
    ]


def test_xlsx_ids_stay_text(tmp_path):
    # Ids that look like numbers or dates, typed into cells formatted as text.
    path = write_xlsx(tmp_path / "ids.xlsx", [["video_id"], ["00123"], ["1e5"], ["2026-01-02"]],
                      text_cells=[(1, 0), (2, 0), (3, 0)])
    assert [r["video_id"] for r in cells(load_sheet(path))] == ["00123", "1e5", "2026-01-02"]


def test_xlsx_formulas_are_read_as_cached_values(tmp_path):
    path = write_xlsx(tmp_path / "f.xlsx", [["video_id", "title"], ["x8abc12", None]],
                      formulas={"B2": ('="Sum"&"mer"', "Summer")})
    assert cells(load_sheet(path)) == [{"video_id": "x8abc12", "title": "Summer"}]


def test_xlsx_first_visible_sheet_or_named_sheet(tmp_path):
    path = write_xlsx(tmp_path / "s.xlsx", [["video_id", "title"], ["x8abc12", "T"]],
                      sheet="Edits", extra_sheets=[("Hidden", True), ("Notes", False)])
    assert load_sheet(path).sheet_name == "Edits"
    with pytest.raises(LoadError, match="header row but no data rows"):
        load_sheet(path, sheet="Notes")
    with pytest.raises(LoadError, match=re.escape("there is no sheet named 'Nope'. Use one of: "
                                                  "Hidden, Edits, Notes")):
        load_sheet(path, sheet="Nope")


def test_xlsx_data_starting_lower_keeps_row_numbers(tmp_path):
    path = write_xlsx(tmp_path / "low.xlsx", [["video_id", "title"], ["x8abc12", "T"],
                                              [None, None], ["x8abc13", "U"]], first_row=2)
    sheet = load_sheet(path)
    assert sheet.header_row == 3 and sheet.row_numbers == (4, 6)


def test_ods_from_libreoffice(tmp_path):
    path = write_ods(tmp_path / "e.ods", [["video_id", "title"], ["x8abc12", "Olá & <b>"]])
    sheet = load_sheet(path)
    assert (sheet.format, sheet.sheet_name) == ("ods", "Edits")
    assert cells(sheet) == [{"video_id": "x8abc12", "title": "Olá & <b>"}]


def test_xlsx_file_like_object(tmp_path):
    path = write_xlsx(tmp_path / "f.xlsx", [["video_id", "title"], ["x8abc12", "T"]])
    with path.open("rb") as handle:
        sheet = load_sheet(handle)
    assert sheet.source == str(path) and cells(sheet) == [{"video_id": "x8abc12", "title": "T"}]


# ----------------------------------------------------------------------------- bad files

def expect_load_error(source, *fragments: str) -> LoadError:
    with pytest.raises(LoadError) as caught:
        load_sheet(source)
    for fragment in fragments:
        assert fragment in str(caught.value)
    return caught.value


def test_empty_file(tmp_path):
    path = write_csv_bytes(tmp_path / "empty.csv", "")
    error = expect_load_error(path, "the file is empty")
    assert error.source == str(path)
    expect_load_error(write_csv_bytes(tmp_path / "blank.csv", "\r\n ,\r\n"), "empty")


def test_header_only(tmp_path):
    expect_load_error(write_csv_bytes(tmp_path / "h.csv", "video_id,title\n"),
                      "no data rows", "Add one row per video")


def test_binary_garbage_named_csv(tmp_path):
    path = tmp_path / "garbage.csv"
    path.write_bytes(bytes(range(256)) * 40)
    expect_load_error(path, "not a spreadsheet")


def test_legacy_xls():
    expect_load_error(BAD / "legacy.xls", "legacy Excel 97-2003", "save it as .xlsx")


def test_password_protected_xlsx():
    expect_load_error(BAD / "password.xlsx", "password-protected", "remove the password")


def test_truncated_xlsx(tmp_path):
    whole = write_xlsx(tmp_path / "ok.xlsx", [["video_id"], ["x8abc12"]]).read_bytes()
    path = tmp_path / "cut.xlsx"
    path.write_bytes(whole[: len(whole) // 2])
    expect_load_error(path, "damaged or incomplete")


def test_zip_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "z.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hi")
    expect_load_error(path, "not an Excel workbook")


def test_xml_entity_bomb_is_refused(tmp_path):
    source = write_xlsx(tmp_path / "ok.xlsx", [["video_id", "title"], ["x8abc12", "T"]])
    bomb = tmp_path / "bomb.xlsx"
    lol = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
           + "".join(f'<!ENTITY lol{i} "{"&lol{};".format(i - 1 if i else "") * 10}">'
                     for i in range(1, 10)) + "]>")
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(bomb, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/sharedStrings.xml":
                data = lol.encode() + data.split(b"?>", 1)[1]
            dst.writestr(item, data)
    expect_load_error(bomb, "XML entity declarations")


def test_zip_bomb_is_refused(tmp_path):
    source = write_xlsx(tmp_path / "ok.xlsx", [["video_id"], ["x8abc12"]])
    bomb = tmp_path / "zipbomb.xlsx"
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        with dst.open("xl/media/padding.bin", "w", force_zip64=True) as big:
            chunk = b"\0" * (1 << 20)
            for _ in range(300):  # 300 MB of zeros: compresses about 1000x
                big.write(chunk)
    assert bomb.stat().st_size < 2 * 1024**2
    expect_load_error(bomb, "zip bomb")


def test_missing_file_and_folder(tmp_path):
    expect_load_error(tmp_path / "nope.csv", "no such file")
    expect_load_error(tmp_path, "folder")


def test_loading_workbooks_leaves_no_file_open(tmp_path):
    import gc
    import warnings

    paths = [write_xlsx(tmp_path / "ok.xlsx", [["video_id"], ["x8abc12"]]),
             write_ods(tmp_path / "ok.ods", [["video_id"], ["x8abc12"]])]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for path in paths * 3:
            load_sheet(path)
        for path in (BAD / "truncated.xlsx", BAD / "entity-bomb.xlsx"):
            with pytest.raises(LoadError):
                load_sheet(path)
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
