"""A CSV reads the same whatever its line ends (LF, CRLF, classic Mac CR, mixed, line breaks
inside quoted cells, with or without a BOM, UTF-16), with the row numbers Excel shows; and no
CSV shape, however broken, is an internal error (exit 70) (issue 25, point 7)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from conftest import apply
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bulkedit.core.errors import LoadError, UsageError
from bulkedit.sheets.load import load_sheet

CSV = Path(__file__).parent / "data" / "csv"
ROWS = [["video_id", "title", "description"],
        ["x800001", "Crème brûlée", "one line"],
        ["x800002", "Größe", "two\nlines"],  # a quoted line break: still row 3
        ["x800003", "last", "row"]]


def _csv(line_end: str, inner: str = "\n") -> str:
    lines = []
    for row in ROWS:
        cells = [f'"{c.replace(chr(10), inner)}"' if "\n" in c else c for c in row]
        lines.append(",".join(cells))
    return line_end.join(lines) + line_end


def _cells(sheet):
    return [sheet.row(i) for i in range(len(sheet))]


@pytest.mark.parametrize("line_end", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("inner", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("encoding, bom", [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"),
                                           ("utf-16", b"")])
def test_every_line_end_reads_the_same_rows(line_end, inner, encoding, bom):
    text = _csv(line_end, inner)
    if encoding == "utf-16":
        text = text.replace(",", "\t")  # Excel's "Unicode Text"
    sheet = load_sheet(io.BytesIO(bom + text.encode(encoding)), name="x.csv")
    assert sheet.row_numbers == (2, 3, 4)
    assert [r["title"] for r in _cells(sheet)] == ["Crème brûlée", "Größe", "last"]
    assert _cells(sheet)[1]["description"] == f"two{inner}lines"  # as the cell holds it


def test_cr_only_utf8_from_a_classic_mac():
    sheet = load_sheet(CSV / "utf8-cr-only.csv")
    assert (sheet.encoding, sheet.row_numbers) == ("utf-8", (2, 3))
    assert _cells(sheet)[1] == {"video_id": "x800002", "title": "Größe und Übermaß"}
    assert sheet.issues == ()


def test_mixed_line_ends_with_a_bom_and_line_breaks_in_cells():
    sheet = load_sheet(CSV / "utf8-mixed-line-ends.csv")
    assert sheet.row_numbers == (2, 3, 4)
    assert [r["description"] for r in _cells(sheet)] == ["two\rlines", "and\r\nthree\nlines",
                                                         "row"]


def test_a_cr_only_sep_line_and_a_wide_first_line():
    data = b"sep=;\rvideo_id;title\rx800001;A\rx800002;B\r"
    sheet = load_sheet(io.BytesIO(data), name="x.csv")
    assert (sheet.delimiter, sheet.row_numbers) == (";", (2, 3))  # Excel hides sep=
    # The column limit counts the first line, not the whole CR-only file.
    many = b"video_id,title\r" + b"x800001,A\r" * 20000
    assert len(load_sheet(io.BytesIO(many), name="x.csv")) == 20000


@pytest.mark.parametrize("command", ["validate", "plan", "apply"])
def test_cr_only_csv_goes_through_every_command(command, run_cli, api, tmp_path):
    sandbox = api()
    path = tmp_path / "mac.csv"
    path.write_bytes((CSV / "utf8-cr-only.csv").read_bytes())
    if command == "apply":
        result = apply(run_cli, sandbox, path)
        assert result.code == 0, result.out + result.err
        assert sandbox.video("x800002")["title"] == "Größe und Übermaß"
        return
    extra = ("--api-base", sandbox.base_url) if command == "plan" else ()
    result = run_cli(command, str(path), *extra)
    assert result.code == 0, result.out + result.err


# ----------------------------------------------------------------------------- no exit 70

PIECES = st.sampled_from([
    b",", b";", b"\t", b"|", b'"', b"'", b"\r", b"\n", b"\r\n", b"\xef\xbb\xbf", b"\xff\xfe",
    b"\xfe\xff", b"\x00", b"\x85", b"\x82", b"\x8f", b"\x81", b"\xe9", b"\xc3\xa9", b"\xe2\x80",
    b"sep=;", b"sep=,\r", b"video_id", b"title", b"tags", b"x8abc12", b"=", b'="007"', b"'=x",
    b"'", b"#N/A", b"#status", b" ", b"a"])
BYTES = st.lists(st.one_of(PIECES, st.binary(max_size=4)), max_size=40).map(b"".join)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(BYTES)
@example(b"\xff\xfetitle")  # UTF-16 cut in the middle of a character: once a traceback
@example(b"video_id,title\rx8abc12,a\r")  # CR only: once a traceback (_csv.Error)
@example(b'sep=;\r"')
def test_any_csv_bytes_load_or_are_refused(data):
    try:
        sheet = load_sheet(io.BytesIO(data), name="fuzz.csv")
    except (LoadError, UsageError):
        return
    assert len(sheet.row_numbers) == len(sheet)


NASTY = {
    "cr-only": b"video_id,title\rx800001,A\rx800002,\"B\rC\"\r",
    "utf16-odd": b"\xff\xfev\x00i\x00d\x00",
    "utf16-be-cut": b"\xfe\xff\x00v\x00i\x00d",
    "open-quote-cr": b"video_id,title\rx800001,\"never closed\r",
    "nul-bytes": b"video_id,title\r\nx800001,a\x00b\r\n",
    "sep-only": b"sep=;\r",
    "bom-cr": b"\xef\xbb\xbf\r\r\rvideo_id\rx800001\r",
    "dos-bytes-cr": b"video_id,title\rx800001,Cr\x8ame br\x96l\x82e\r",
}


@pytest.mark.parametrize("name", sorted(NASTY))
def test_nasty_csv_shapes_never_exit_70(name, run_cli, tmp_path):
    path = tmp_path / f"{name}.csv"
    path.write_bytes(NASTY[name])
    result = run_cli("validate", str(path))
    assert result.code in (0, 1, 2), result.out + result.err
    assert "Traceback" not in result.err
