"""A CSV cell keeps its characters (issue 25, point 6). A leading apostrophe is the user's
text in a CSV (only an XLSX has Excel's quote prefix): kept, with a warning where it stands
before a formula character, or stripped with SheetReading(strip_apostrophes=True). Excel's
="007" is read as its text, with a warning. bulkedit's own CSVs (results, rollback, problems
report, export) still read back as exactly the values written, with no warning."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC
from pathlib import Path

from conftest import apply, results
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bulkedit.core.cells import EXCEL_ERROR_CELL
from bulkedit.core.schema import FIELDS
from bulkedit.core.sheet import SheetReading
from bulkedit.sheets.export_sheet import SheetWriter
from bulkedit.sheets.load import load_sheet
from bulkedit.sheets.report import OWN_MARK, write_table

CSV = Path(__file__).parent / "data" / "csv"


def _column(sheet, name: str) -> list[str]:
    return [sheet.row(i)[name] for i in range(len(sheet))]


def _codes(sheet) -> list[tuple[int, str, str, str]]:
    return [(i.row, i.column, i.value, i.code) for i in sheet.issues]


def _user_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(
    # A cell that is exactly a spreadsheet error literal (#A?, like #WERT!) is refused, not
    # read as text (test_an_error_literal_in_a_csv_is_refused_not_read_as_text).
    st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=20)
    .filter(lambda v: not re.match(EXCEL_ERROR_CELL, v)),
    st.sampled_from(["'+summer", "'=1+2", "'-80s", "'@me", "'#N/A", "''=x", "'\tx", "=1+2",
                     '="007"', '=""', '="a""b"', "'Allo 'Allo!", "+a, -b"])),
    min_size=1, max_size=8))
@example(["'+summer", "'=1+2", '="007"', "=1+2"])
def test_a_users_csv_cells_keep_their_characters(values):
    data = _user_csv([["video_id", "title"], *([f"x{i:06d}", v] for i, v in enumerate(values))])
    sheet = load_sheet(io.BytesIO(data), name="user.csv")
    # ="…", the whole cell, is the text Excel shows; every other cell is as written.
    expected = [v[2:-1].replace('""', '"') if v.startswith('="') and v.endswith('"')
                and len(v) > 2 and '"' not in v[2:-1].replace('""', "") else v for v in values]
    assert _column(sheet, "title") == expected


def test_leading_apostrophes_are_kept_and_named_once_per_column():
    sheet = load_sheet(CSV / "apostrophes.csv")
    assert _column(sheet, "title") == ["'Allo 'Allo!", "'=not a formula", "Plain"]
    assert _column(sheet, "tags") == ["'+summer", "'-80s", "rock"]
    # 'Allo guards nothing: no warning. One warning per column, at its first cell.
    assert _codes(sheet) == [(3, "title", "'=not a formula", "csv_apostrophe"),
                             (2, "tags", "'+summer", "csv_apostrophe")]
    tags = sheet.issues[1]
    assert tags.severity.value == "warning"
    assert tags.message.startswith("2 cells in this column start with an apostrophe before")
    assert "'+summer" in tags.message and "--strip-apostrophes" in tags.message


def test_strip_apostrophes_removes_the_exporters_escape():
    sheet = load_sheet(CSV / "apostrophes.csv", reading=SheetReading(strip_apostrophes=True))
    assert _column(sheet, "title") == ["'Allo 'Allo!", "=not a formula", "Plain"]
    assert _column(sheet, "tags") == ["+summer", "-80s", "rock"]
    assert sheet.issues == ()


def test_excels_text_formula_is_read_as_its_text():
    sheet = load_sheet(CSV / "excel-text-formula.csv")
    assert _column(sheet, "title") == ["007", "=1+2"]  # =1+2 stays text, as it always did
    assert _column(sheet, "description") == ['He said "hi"', '="0042" & "x"']
    assert _codes(sheet) == [(2, "title", '="007"', "excel_text_formula"),
                             (2, "description", '="He said ""hi"""', "excel_text_formula")]
    assert sheet.issues[0].message.startswith("row 2 holds Excel's text formula")
    assert '="007" is read as 007' in sheet.issues[0].message


def test_text_formulas_are_named_by_row():
    rows = [["video_id", "title"], *([f"x{i:06d}", f'="{i:03d}"'] for i in range(8))]
    sheet = load_sheet(io.BytesIO(_user_csv(rows)), name="ids.csv")
    assert _column(sheet, "title")[:2] == ["000", "001"]
    [issue] = sheet.issues
    assert issue.message.startswith("rows 2, 3, 4, 5, 6 and 3 more hold Excel's text formula")
    # An apostrophe before it, stripped, sends the formula's characters as typed.
    quoted = load_sheet(io.BytesIO(_user_csv([["video_id", "title"], ["x1", "'=\"007\""]])),
                        name="q.csv", reading=SheetReading(strip_apostrophes=True))
    assert _column(quoted, "title") == ['="007"'] and quoted.issues == ()


def test_a_results_sheet_and_its_excel_filtered_copy_read_back_exactly(tmp_path):
    # The results sheet of a user's CSV whose cell was '+summer (kept as the user's text):
    # written ''+summer, read back '+summer, no warning; so is the copy Excel saves.
    path = tmp_path / "edits.results.csv"
    write_table(path, ["video_id", "title", "#status", "#error"],
                [["x000001", "'+summer", "failed", "=bad"], ["x000002", "=1+2", "updated", ""],
                 ["x000003", '="007"', "failed", ""]])
    sheet = load_sheet(path)
    assert _column(sheet, "title") == ["'+summer", "=1+2", '="007"'] and sheet.issues == ()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        kept = [r for r in csv.reader(handle) if r[2] != "updated"]  # filtered to failed
    filtered = tmp_path / "failed.csv"
    filtered.write_bytes(_user_csv(kept).replace(b"\n", b"\r\n"))  # Excel: no BOM, CRLF
    again = load_sheet(filtered)
    assert _column(again, "title") == ["'+summer", '="007"'] and again.issues == ()


def test_rollback_and_export_csvs_carry_the_mark_only_where_it_matters(tmp_path):
    from types import SimpleNamespace

    from bulkedit.core.planning import FieldDiff
    from bulkedit.sheets.report import write_rollback

    plain, risky = tmp_path / "plain.rollback.csv", tmp_path / "risky.rollback.csv"
    write_rollback(plain, [SimpleNamespace(video_id="x1", diffs=[FieldDiff("title", "Old",
                                                                           "New")])])
    assert plain.read_text(encoding="utf-8-sig").splitlines()[0] == "video_id,title"
    write_rollback(risky, [SimpleNamespace(video_id="x1", diffs=[FieldDiff("title", "=1+2",
                                                                           "New")])])
    assert risky.read_text(encoding="utf-8-sig").splitlines() == [
        f"video_id,title,{OWN_MARK}", "x1,'=1+2,"]
    assert _column(load_sheet(risky), "title") == ["=1+2"]
    export = tmp_path / "export.csv"
    writer = SheetWriter(export, [FIELDS["title"]], UTC)
    for i, title in enumerate(["=HYPERLINK(1)", "'+x", "-80s", "plain"]):
        writer.write({"id": f"x{i:06d}", "title": title})
    writer.close()
    sheet = load_sheet(export)
    assert _column(sheet, "title") == ["=HYPERLINK(1)", "'+x", "-80s", "plain"]
    assert sheet.issues == ()


def test_apply_sends_what_the_user_meant(run_cli, api, tmp_path):
    sandbox = api()
    path = tmp_path / "edits.csv"
    path.write_bytes(b'video_id,title,description\r\n'
                     b'x800001,"=""007""",\'Allo \'Allo!\r\n'
                     b"x800002,'=not a formula,plain\r\n")
    result = apply(run_cli, sandbox, path)
    assert result.code == 0, result.out + result.err
    assert sandbox.video("x800001")["title"] == "007"
    assert sandbox.video("x800001")["description"] == "'Allo 'Allo!"
    assert sandbox.video("x800002")["title"] == "'=not a formula"
    checked = run_cli("validate", str(path))
    assert checked.code == 0 and "2 warnings" in checked.out
    assert "Excel's text formula" in checked.out and "apostrophe" in checked.out
    # The results sheet is bulkedit's own: applied again it changes nothing.
    assert {r["#status"] for r in results(tmp_path / "edits.results.csv")} == {"updated"}
    again = apply(run_cli, sandbox, tmp_path / "edits.results.csv")
    assert again.code == 0, again.out + again.err
    assert {r["#status"] for r in results(tmp_path / "edits.results.results.csv")} == {
        "unchanged"}


def test_an_error_literal_in_a_csv_is_refused_not_read_as_text():
    # Excel writes a failed formula's error to a CSV as its text, in the user's language
    # (#N/A, #WERT!, #NOM?): any #WORD! or #WORD? is one, and the value it stood for is
    # unknown. In a CSV the apostrophe is the user's text, so the fix is Excel's ="…".
    from bulkedit.core.validation import validate

    data = _user_csv([["video_id", "title"], ["x000001", "#A?"], ["x000002", "#WERT!"],
                      ["x000003", '="#A?"'], ["x000004", "#hashtag"]])
    result = validate(load_sheet(io.BytesIO(data), name="user.csv"))
    assert [(i.row, i.code) for i in result.errors] == [(2, "excel_error"), (3, "excel_error")]
    assert result.errors[0].message.endswith(
        'To send the text #A? itself, write ="#A?" (Excel\'s text formula)')
    sent = {row.row: row.changes["title"].value for row in result.rows()}
    assert sent == {4: "#A?", 5: "#hashtag"}
