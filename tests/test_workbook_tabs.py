"""Which tab holds the edits when --sheet does not say (issue 25, point 3): the only
visible sheet with an id column, wherever it stands; two such sheets are refused."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest
from conftest import ods_row, write_ods_tables

from bulkedit.core.errors import LoadError
from bulkedit.sheets.load import load_sheet


def book(path: Path, tabs: list[tuple[str, list[list[str]]]], active: int = 0,
         hidden: tuple[str, ...] = ()) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in tabs:
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
        if name in hidden:
            ws.sheet_state = "hidden"
    wb.active = active
    wb.save(path)
    return path


README = ("README", [["How to fill this workbook"], ["One row per video"], ["Ask Ana"]])
EDITS = [["Week 49 edits"], ["video_id", "title"], ["x8abc12", "This week"]]
OLD = [["video_id", "title"], ["x8abc12", "Last week"]]


def test_the_only_sheet_with_an_id_column_is_read_after_a_readme(tmp_path):
    sheet = load_sheet(book(tmp_path / "b.xlsx", [README, ("Week 49", EDITS)]))
    assert sheet.sheet_name == "Week 49" and sheet.row(0)["title"] == "This week"
    note = next(i for i in sheet.issues if i.code == "sheet_chosen")
    assert note.message == ("read sheet 'Week 49', the only sheet with a video_id column; the "
                            "workbook also has README (pass --sheet NAME to read another)")
    assert note.severity.value == "warning" and note.row == sheet.header_row == 2


def test_two_sheets_with_id_columns_are_refused_naming_the_active_and_the_first(tmp_path):
    path = book(tmp_path / "b.xlsx", [("Week 48", OLD), README, ("Week 49", EDITS)],
                active=2)
    with pytest.raises(LoadError) as refused:
        load_sheet(path)
    assert refused.value.problem == (
        "sheets 'Week 48' and 'Week 49' both have a video_id column, so which one holds the "
        "edits is unclear (the active tab is 'Week 49', the first is 'Week 48')")
    assert refused.value.fix == "Pass --sheet NAME with the sheet to read, like --sheet 'Week 49'"
    assert load_sheet(path, sheet="Week 48").row(0)["title"] == "Last week"


def test_a_hidden_sheet_is_no_candidate(tmp_path):
    path = book(tmp_path / "b.xlsx", [README, ("Week 48", OLD), ("Week 49", EDITS)],
                active=2, hidden=("Week 48",))
    sheet = load_sheet(path)
    assert sheet.sheet_name == "Week 49"
    assert [i.message for i in sheet.issues if i.code == "sheet_chosen"] == [
        "read sheet 'Week 49', the only sheet with a video_id column; the workbook also has "
        "README (pass --sheet NAME to read another)"]


def test_no_sheet_with_an_id_column_lists_the_sheets(tmp_path):
    path = book(tmp_path / "b.xlsx", [README, ("Lookup", [["name", "title"], ["a", "b"]])])
    with pytest.raises(LoadError, match=re.escape(
            "no sheet has a video_id column; the workbook's sheets are 'README', 'Lookup'. "
            "Pass --sheet NAME")):
        load_sheet(path)


def test_an_id_header_lower_than_row_20_is_not_looked_for(tmp_path):
    low = [[f"note {i}"] for i in range(20)] + OLD
    path = book(tmp_path / "b.xlsx", [("Notes", low), ("Week 49", EDITS)])
    assert load_sheet(path).sheet_name == "Week 49"


def test_ods_tabs_and_the_active_table(tmp_path):
    def table(name: str, rows: list[list[str]]) -> str:
        return (f'<table:table table:name="{name}">' + "".join(ods_row(*r) for r in rows)
                + "</table:table>")

    path = write_ods_tables(tmp_path / "b.ods", table("Week 48", OLD) + table(*README)
                            + table("Week 49", EDITS), active="Week 49")
    with pytest.raises(LoadError, match="the active tab is 'Week 49', the first is 'Week 48'"):
        load_sheet(path)
    path = write_ods_tables(tmp_path / "c.ods", table(*README) + table("Week 49", EDITS))
    sheet = load_sheet(path)
    assert (sheet.format, sheet.sheet_name) == ("ods", "Week 49")
    assert any("the only sheet with a video_id column" in i.message for i in sheet.issues)


def test_validate_refuses_two_edit_tabs_and_reads_the_one_named(run_cli, tmp_path):
    path = book(tmp_path / "b.xlsx", [("Week 48", OLD), ("Week 49", EDITS)], active=1)
    result = run_cli("validate", str(path))
    assert result.code == 2
    assert "sheets 'Week 48' and 'Week 49' both have a video_id column" in result.err
    assert "--sheet" in result.err
    assert run_cli("validate", str(path), "--sheet", "Week 49").code == 0


def test_validate_reads_the_edits_after_a_readme(run_cli, tmp_path):
    result = run_cli("validate", str(book(tmp_path / "b.xlsx", [README, ("Week 49", EDITS)])))
    assert result.code == 0, result.out + result.err
    assert "read sheet 'Week 49', the only sheet with a video_id column" in (
        result.out + result.err)
