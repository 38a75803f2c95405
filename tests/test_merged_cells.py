"""A merged range over data cells is never read as blank, "keep the live value" (issue 25,
point 2): refused by default, or its value spread to every cell it covers."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from conftest import ods_cells, ods_row, write_ods_tables

from bulkedit.core.errors import LoadError
from bulkedit.core.sheet import SheetReading
from bulkedit.core.validation import validate
from bulkedit.sheets.load import load_sheet

SPREAD = SheetReading(spread_merged=True)


def cells(sheet) -> list[dict[str, str]]:
    return [sheet.row(i) for i in range(len(sheet))]


def merged_book(path: Path, *merges: str, title_row: bool = False) -> Path:
    """Five videos, each with its tags; the title "Summer" in B3, meant for B3:B6. (openpyxl
    empties the cells a merge covers, as Excel does.)"""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Edits"
    if title_row:
        ws.append(["December edits"])
    ws.append(["video_id", "title", "#note", "tags"])
    top = ws.max_row
    for i in range(5):
        ws.append([f"x8abc{i:02d}", "Summer" if i == 1 else ("Own" if i == 0 else None),
                   "n" if i == 0 else None, f"t{i}"])
    for ref in merges:
        ws.merge_cells(ref.format(top=top))
    book.save(path)
    return path


def test_a_title_merged_down_four_rows_is_refused(tmp_path):
    with pytest.raises(LoadError) as refused:
        load_sheet(merged_book(tmp_path / "m.xlsx", "B3:B6"))
    assert refused.value.problem.startswith("the merged cell B3:B6 (column B 'title') spans "
                                            "cells of data")
    assert refused.value.fix == ("Unmerge the cells and fill each row, or pass "
                                 "--spread-merged to give every covered cell the merged value")


def test_spread_gives_every_covered_cell_the_value_with_a_warning(tmp_path):
    sheet = load_sheet(merged_book(tmp_path / "m.xlsx", "B3:B6"), reading=SPREAD)
    assert [r["title"] for r in cells(sheet)] == ["Own", "Summer", "Summer", "Summer",
                                                  "Summer"]
    assert [i.message for i in sheet.issues] == [
        "merged cell B3:B6 spread: every cell a merge covers reads its value (--spread-merged)"]
    assert validate(sheet).ok


def test_merges_across_columns_name_every_column_covered(tmp_path):
    with pytest.raises(LoadError, match=r"the merged cells B3:B4 \(column B 'title'\); "
                                        r"A5:D5 \(columns B 'title', D 'tags'\) span"):
        load_sheet(merged_book(tmp_path / "m.xlsx", "B3:B4", "A5:D5"))
    sheet = load_sheet(tmp_path / "m.xlsx", reading=SPREAD)
    # What Excel shows across the row, in every read column (a comment is never read).
    assert cells(sheet)[3] == {"video_id": "x8abc03", "title": "x8abc03", "#note": "",
                               "tags": "x8abc03"}
    assert cells(sheet)[2]["title"] == "Summer"


def test_merges_in_the_title_header_comments_or_a_single_row_cell_are_harmless(tmp_path):
    # A1:D1 the title above the header; C3:C6 a comment; B2 is only the header.
    path = merged_book(tmp_path / "ok.xlsx", "A1:D1", "C{top}:C6", title_row=True)
    sheet = load_sheet(path)
    assert sheet.header_row == 2 and [r["title"] for r in cells(sheet)] == [
        "Own", "Summer", "", "", ""]
    assert not [i for i in sheet.issues if i.severity.value == "error"]
    spread = load_sheet(path, reading=SPREAD)  # nothing to spread: no word about it
    assert cells(spread) == cells(sheet) and spread.issues == sheet.issues


def test_a_merged_id_column_is_refused_too(tmp_path):
    with pytest.raises(LoadError, match=r"A4:A5 \(column A 'video_id'\)"):
        load_sheet(merged_book(tmp_path / "m.xlsx", "A4:A5"))


def test_a_merge_from_the_header_down_is_refused_even_when_spreading(tmp_path):
    with pytest.raises(LoadError, match="starts in the header row"):
        load_sheet(merged_book(tmp_path / "m.xlsx", "D1:D3"), reading=SPREAD)


def ods_book(path: Path) -> Path:
    spanned = ('<table:table-cell office:value-type="string" table:number-rows-spanned="3">'
               "<text:p>Summer</text:p></table:table-cell>")
    covered = "<table:covered-table-cell/>"
    rows = (ods_row("video_id", "title", "tags")
            + f"<table:table-row>{ods_cells('x8abc12')}{spanned}"
              f"{ods_cells('a')}</table:table-row>"
            + f"<table:table-row>{ods_cells('x8abc13')}{covered}"
              f"{ods_cells('b')}</table:table-row>"
            + f"<table:table-row>{ods_cells('x8abc14')}{covered}"
              f"{ods_cells('c')}</table:table-row>")
    return write_ods_tables(path, f'<table:table table:name="Edits">{rows}</table:table>')


def test_ods_rows_spanned_over_covered_cells(tmp_path):
    path = ods_book(tmp_path / "m.ods")
    with pytest.raises(LoadError, match=r"B2:B4 \(column B 'title'\)"):
        load_sheet(path)
    sheet = load_sheet(path, reading=SPREAD)
    assert [r["title"] for r in cells(sheet)] == ["Summer"] * 3
    assert [r["tags"] for r in cells(sheet)] == ["a", "b", "c"]


def test_validate_refuses_a_merged_sheet(run_cli, tmp_path):
    result = run_cli("validate", str(merged_book(tmp_path / "m.xlsx", "B3:B6")))
    assert result.code == 2
    assert "the merged cell B3:B6 (column B 'title')" in result.err
    assert "--spread-merged" in result.err


def test_validate_with_spread_merged_accepts_it(run_cli, tmp_path):
    result = run_cli("validate", str(merged_book(tmp_path / "m.xlsx", "B3:B6")),
                     "--spread-merged")
    assert result.code == 0, result.out + result.err
    assert "merged cell B3:B6 spread" in result.out + result.err
