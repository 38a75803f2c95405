"""Rows hidden by hand or filtered out by an autofilter, and hidden columns, are never read
silently (issue 25, point 1): refused by default, skipped or included when the user says."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from conftest import apply, ods_row, results, write_ods_tables

from bulkedit.core.errors import LoadError
from bulkedit.core.outcomes import initial_outcomes
from bulkedit.core.sheet import SheetReading
from bulkedit.core.validation import validate
from bulkedit.sandbox.store import video_id
from bulkedit.sheets.load import load_sheet

SKIP = SheetReading(hidden="skip")
INCLUDE = SheetReading(hidden="include")


def filtered_book(path: Path, *, autofilter: bool = True, ids: list[str] | None = None
                  ) -> Path:
    """Rows 2-15 of edits, filtered (or hidden by hand) down to all but rows 5-9 and 14;
    column C is a hidden comment, column D a hidden description with one value."""
    ids = ids or [f"x8abc{i:02d}" for i in range(2, 16)]
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Edits"
    ws.append(["video_id", "title", "#note", "description"])
    for row, vid in enumerate(ids, start=2):
        ws.append([vid, f"Title {row}", "note", "Draft text" if row == 6 else None])
    if autofilter:
        ws.auto_filter.ref = f"A1:D{len(ids) + 1}"
    for row in (5, 6, 7, 8, 9, 14):
        ws.row_dimensions[row].hidden = True
    ws.column_dimensions["C"].hidden = True
    book.save(path)
    return path


def test_rows_filtered_out_by_the_autofilter_are_refused_with_both_ways_out(tmp_path):
    with pytest.raises(LoadError) as refused:
        load_sheet(filtered_book(tmp_path / "f.xlsx"))
    assert refused.value.problem == ("rows 5-9, 14 are filtered out by the autofilter, so "
                                     "what Excel shows is not all that would be sent")
    assert "--skip-hidden to send only the visible rows" in refused.value.fix
    assert "--include-hidden to read them as if they were visible" in refused.value.fix


def test_rows_and_columns_hidden_by_hand_are_refused_naming_them(tmp_path):
    path = filtered_book(tmp_path / "h.xlsx", autofilter=False)
    book = openpyxl.load_workbook(path)
    book.active.column_dimensions["D"].hidden = True
    book.save(path)
    with pytest.raises(LoadError, match=r"rows 5-9, 14 are hidden; column D \(description\) "
                                        r"is hidden, so what Excel shows"):
        load_sheet(path)


def test_hidden_blank_rows_empty_columns_and_comments_are_harmless(tmp_path):
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["video_id", "title", "#note", "description"])
    ws.append(["x8abc12", "A", "n", None])
    ws.append([None, None, None, None])
    ws.append(["x8abc13", "B", "n", None])
    ws.row_dimensions[3].hidden = True  # blank
    ws.column_dimensions["C"].hidden = True  # a comment
    ws.column_dimensions["D"].hidden = True  # no values
    ws.column_dimensions["F"].hidden = True  # beyond the data
    book.save(tmp_path / "ok.xlsx")
    for reading in (None, SKIP):
        sheet = load_sheet(tmp_path / "ok.xlsx", reading=reading)
        assert sheet.row_numbers == (2, 4) and not sheet.hidden_rows and not sheet.issues
        assert [c.header for c in sheet.columns] == ["video_id", "title", "#note",
                                                     "description"]


def test_skip_keeps_hidden_rows_out_and_says_why_on_each(tmp_path):
    sheet = load_sheet(filtered_book(tmp_path / "f.xlsx"), reading=SKIP)
    assert sheet.hidden_rows == {5, 6, 7, 8, 9, 14}
    assert [c.header for c in sheet.columns] == ["video_id", "title", "#note", "description"]
    result = validate(sheet)
    assert result.ok and result.valid_count == 8
    assert [r.row for r in result.rows()] == [2, 3, 4, 10, 11, 12, 13, 15]
    reasons = {o.row: (o.status.value, o.error) for o in initial_outcomes(sheet, result)}
    assert reasons[5] == ("skipped", "filtered out by the autofilter (--skip-hidden): not sent")
    assert reasons[14][1] == reasons[5][1] and reasons[4] == ("skipped", "not sent")


def test_skip_drops_hidden_columns_with_a_warning(tmp_path):
    path = filtered_book(tmp_path / "h.xlsx", autofilter=False)
    book = openpyxl.load_workbook(path)
    book.active.column_dimensions["D"].hidden = True
    book.save(path)
    sheet = load_sheet(path, reading=SKIP)
    assert [c.header for c in sheet.columns] == ["video_id", "title", "#note"]
    warning = next(i for i in sheet.issues if i.code == "hidden_column")
    assert warning.message == "column D (description) is hidden and ignored (--skip-hidden)"
    outcomes = initial_outcomes(sheet, validate(sheet))
    assert {o.error for o in outcomes if o.row in (5, 9)} == {
        "hidden row (--skip-hidden): not sent"}


def test_a_hidden_draft_neither_blocks_the_sheet_nor_counts_as_a_duplicate(tmp_path):
    ids = [f"x8abc{i:02d}" for i in range(2, 16)]
    ids[3] = ""  # row 5: a draft without an id yet
    ids[4] = ids[0]  # row 6: the same video as row 2, other values
    sheet = load_sheet(filtered_book(tmp_path / "d.xlsx", ids=ids), reading=SKIP)
    result = validate(sheet)
    assert result.ok, result.errors
    assert {i.code for i in result.issues if i.row in (2, 5, 6)} == {"hidden_row"}
    strict = validate(load_sheet(tmp_path / "d.xlsx", reading=INCLUDE))
    assert {i.code for i in strict.errors} == {"required", "duplicate_id"}


def test_include_reads_them_as_visible_with_a_warning(tmp_path):
    path = filtered_book(tmp_path / "f.xlsx")
    book = openpyxl.load_workbook(path)
    book.active.column_dimensions["D"].hidden = True
    book.save(path)
    sheet = load_sheet(path, reading=INCLUDE)
    assert len(sheet) == 14 and not sheet.hidden_rows
    assert [i.message for i in sheet.issues] == [
        "read 6 hidden rows (6 filtered out by the autofilter) and column D (description) "
        "as if visible (--include-hidden)"]
    assert validate(sheet).valid_count == 14


def ods_book(path: Path) -> Path:
    """LibreOffice's way: a filter hides rows 3-4 (one row element, repeated), a hand
    hides row 6, and the third of three repeated columns (C) is collapsed."""
    rows = (ods_row("video_id", "title", "description")
            + ods_row("x8abc12", "A", None)
            + ods_row("x8abc13", "Draft", None,
                      attrs='table:visibility="filter" table:number-rows-repeated="2"')
            + ods_row("x8abc14", "B", None)
            + ods_row("x8abc15", "Old", "Hidden text", attrs='table:visibility="collapse"')
            + ods_row(None, None, None, attrs='table:visibility="collapse" '
                                              'table:number-rows-repeated="1048000"'))
    columns = ('<table:table-column table:number-columns-repeated="2"/>'
               '<table:table-column table:visibility="collapse"/>')
    return write_ods_tables(path, f'<table:table table:name="Edits">{columns}{rows}'
                                  "</table:table>")


def test_ods_filtered_and_collapsed_rows_and_columns(tmp_path):
    path = ods_book(tmp_path / "f.ods")
    with pytest.raises(LoadError, match=r"rows 3-4 are filtered out by the autofilter; row 6 "
                                        r"is hidden; column C \(description\) is hidden"):
        load_sheet(path)
    sheet = load_sheet(path, reading=SKIP)
    assert sheet.hidden_rows == {3, 4, 6} and sheet.row_numbers == (2, 3, 4, 5, 6)
    assert [c.header for c in sheet.columns] == ["video_id", "title"]
    assert [r.row for r in validate(sheet).rows()] == [2, 5]
    assert len(load_sheet(path, reading=INCLUDE)) == 5


def test_validate_refuses_a_filtered_sheet(run_cli, tmp_path):
    result = run_cli("validate", str(filtered_book(tmp_path / "f.xlsx")))
    assert result.code == 2
    assert "rows 5-9, 14 are filtered out by the autofilter" in result.err
    assert "--skip-hidden" in result.err and "--include-hidden" in result.err


def test_apply_with_skip_hidden_never_writes_the_filtered_rows(run_cli, api, tmp_path):
    sandbox = api()
    path = filtered_book(tmp_path / "edits.xlsx", ids=[video_id(i) for i in range(14)])
    before = {i: sandbox.video(video_id(i))["title"] for i in range(14)}
    result = apply(run_cli, sandbox, path, "--skip-hidden", "--results",
                   str(tmp_path / "out.csv"))
    assert result.code == 0, result.out + result.err
    rows = dict(enumerate(results(tmp_path / "out.csv"), start=2))
    for number in (5, 6, 7, 8, 9, 14):
        assert rows[number]["#status"] == "skipped"
        assert "filtered out by the autofilter" in rows[number]["#error"]
        assert sandbox.video(video_id(number - 2))["title"] == before[number - 2]
    assert sandbox.video(video_id(0))["title"] == "Title 2"
