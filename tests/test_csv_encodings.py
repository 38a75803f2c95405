"""A CSV in a DOS code page (Excel's "CSV (MS-DOS)": cp850, cp437) or in Mac Roman (Excel for
Mac's "CSV (Macintosh)") is read as what it is, with a warning naming the encoding, when the
bytes say so; when they could be two things it is refused with --encoding as the fix; it is
never read as Windows-1252 with its accents garbled (issue 25, point 7)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from conftest import apply

from bulkedit.core.errors import LoadError
from bulkedit.sheets.load import load_sheet

CSV = Path(__file__).parent / "data" / "csv"
TITLES = ["Crème brûlée à l'été", "Größe und Übermaß"]


def _titles(sheet) -> list[str]:
    return [sheet.row(i)["title"] for i in range(len(sheet))]


@pytest.mark.parametrize("name, encoding, shown", [
    ("excel-ms-dos-cp850.csv", "cp850", "DOS code page 850"),
    # cp437 and cp850 give these letters the same bytes: either reading is the text.
    ("excel-ms-dos-cp437.csv", "cp850", "DOS code page 850"),
    ("excel-macintosh.csv", "mac-roman", "Mac Roman"),
])
def test_dos_and_mac_code_pages_are_read_as_what_they_are(name, encoding, shown):
    sheet = load_sheet(CSV / name)
    assert (sheet.encoding, _titles(sheet)) == (encoding, TITLES)
    [note] = sheet.issues
    assert (note.code, note.severity.value) == ("encoding", "warning")
    assert note.message.startswith(f"the file is not UTF-8: read as {shown}")
    assert "Crème" in note.message


@pytest.mark.parametrize("encoding", ["cp850", "cp437", "mac-roman"])
@pytest.mark.parametrize("title", [
    "Ça coûte très cher : déjà vu", "São Paulo não é ação", "Größe und Übermaß",
    "¿Qué tal, señor?", "Crème brûlée à l'été"])
def test_western_text_in_every_code_page_reads_back(encoding, title):
    try:
        data = f"video_id;title\r\nx800001;{title}\r\n".encode(encoding)
    except UnicodeEncodeError:
        pytest.skip(f"{encoding} has no {title}")
    sheet = load_sheet(io.BytesIO(data), name="x.csv")  # once refused, or garbled
    assert _titles(sheet) == [title]
    # cp437 shares these letters' bytes with cp850: the same text either way.
    assert sheet.encoding == ("cp850" if encoding == "cp437" else encoding)


def test_dos_accents_were_read_as_windows_1252_punctuation():
    # Crème brûlée: è, û and é are 0x8A, 0x96 and 0x82, which Windows-1252 reads as
    # Š, – and ‚: a title that looked fine to the checks and was written garbled.
    data = "video_id,title\nx800001,Café brûlé\n".encode("cp850")
    sheet = load_sheet(io.BytesIO(data), name="x.csv")
    assert (sheet.encoding, _titles(sheet)) == ("cp850", ["Café brûlé"])
    # Windows-1252 still wins what it reads as Western text.
    for title in ["Crème brûlée à l'été – ½ prix", "It’s raining “cats” – 10 000 €",
                  "élan", "Größe und Übermaß"]:
        data = f"video_id,title\nx800001,{title}\n".encode("cp1252")
        sheet = load_sheet(io.BytesIO(data), name="x.csv")
        assert (sheet.encoding, _titles(sheet)) == ("cp1252", [title])


@pytest.mark.parametrize("title, encoding", [
    ("Crème", "cp850"),  # Crème in DOS 850, Cräme in Mac Roman: the bytes do not say
    ("Voilà", "cp850"),  # Voilà in DOS 850, Voil… in Windows-1252
])
def test_bytes_that_read_as_two_texts_are_refused(title, encoding):
    data = f"video_id,title\nx800001,{title}\n".encode(encoding)
    with pytest.raises(LoadError, match="reads as Western text in more than one code page") \
            as refused:
        load_sheet(io.BytesIO(data), name="x.csv")
    assert "--encoding" in str(refused.value) and title in str(refused.value)
    sheet = load_sheet(io.BytesIO(data), name="x.csv", encoding=encoding)
    assert _titles(sheet) == [title] and sheet.issues == ()


def test_a_cp850_title_reaches_the_api_with_its_accents(run_cli, api, tmp_path):
    sandbox = api()
    path = tmp_path / "dos.csv"
    path.write_bytes((CSV / "excel-ms-dos-cp850.csv").read_bytes())
    result = apply(run_cli, sandbox, path)
    assert result.code == 0, result.out + result.err
    assert sandbox.video("x800001")["title"] == "Crème brûlée à l'été"
    assert sandbox.video("x800002")["title"] == "Größe und Übermaß"


def test_a_mac_roman_title_reaches_the_api_with_its_accents(run_cli, api, tmp_path):
    sandbox = api()
    path = tmp_path / "mac.csv"
    path.write_bytes((CSV / "excel-macintosh.csv").read_bytes())
    result = apply(run_cli, sandbox, path)
    assert result.code == 0, result.out + result.err
    assert sandbox.video("x800001")["title"] == "Crème brûlée à l'été"
