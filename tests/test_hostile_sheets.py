"""Bounded memory and time on every input (issue 26): a hostile sheet is refused with its
numbers (exit 2, a registered problem code), never read until the machine gives out, and
nothing it holds aborts the process (exit 134) or leaves a traceback (exit 70).

The files come from tests/hostile_sheets.py, each made only as big as needed to cross a
cap; the CLI runs in a subprocess, so that an abort would be seen as one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import hostile_sheets as hostile
import pytest
from conftest import KEY, sheet, titles, write_ods, write_xlsx

from bulkedit.core.problems import PROBLEMS
from bulkedit.sheets.limits import LIMITS, MAX_FIELD_BYTES, ReadLimits, SheetRefused
from bulkedit.sheets.load import load_sheet
from bulkedit.sheets.workbook_extent import check_workbook

ROOT = Path(__file__).resolve().parent.parent
JUST_PAST_FIELD = MAX_FIELD_BYTES + (1 << 20)

CASES = {  # maker, the problem code, words of the message
    "xfd1048576": (hostile.far_cell, "sheet_too_large", "reaches column XFD (16,384 columns)"),
    "all60000": (lambda d: hostile.far_cell(d, "ALL60000"), "sheet_too_large",
                 "spans A1:ALL60000 (60,000 rows x 1,000 columns = 60,000,000 cells)"),
    "claimed_extent": (hostile.claimed_extent, "sheet_too_large",
                       "claims the range A1:XFD1048576"),
    "unreferenced_cells": (hostile.unreferenced_cells, "sheet_too_large", "columns); bulkedit "
                                                                          "reads at most 1,000"),
    "unreferenced_rows": (lambda d: hostile.unreferenced_rows(d, 1_100_000), "sheet_too_large",
                          "reads at most 1,048,576 rows"),
    "shared_strings_bomb": (lambda d: hostile.shared_strings_bomb(d, 101), "zip_bomb",
                            "xl/sharedStrings.xml is"),
    "claimed_strings": (hostile.claimed_strings, "sheet_too_large",
                        "claims 2,000,000,000 shared strings"),
    "ods_repeated": (hostile.ods_repeated, "sheet_too_large", "reaches column XFD"),
    "ods_far_cell": (hostile.ods_far_cell, "sheet_too_large", "spans A1:ALL60000"),
    "one_line_csv": (lambda d: hostile.one_line_csv(d, JUST_PAST_FIELD), "cell_too_large",
                     "line 1, with no line break, holds more than 33,554,432 bytes"),
    "huge_field_csv": (lambda d: hostile.huge_field_csv(d, JUST_PAST_FIELD), "cell_too_large",
                       "line 2, with no line break"),
    "huge_multiline_field_csv": (lambda d: hostile.huge_field_csv(d, JUST_PAST_FIELD,
                                                                  lines=True),
                                 "cell_too_large", "holds more than 33,554,432 bytes"),
}


def bulkedit(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bulkedit", *args], capture_output=True,
                          text=True, timeout=300, env={**os.environ, **env})


@pytest.mark.parametrize("name", list(CASES))
def test_a_hostile_sheet_is_refused_with_its_numbers(tmp_path, name):
    make, code, words = CASES[name]
    path = make(tmp_path)
    done = bulkedit("validate", str(path))
    assert done.returncode == 2, done.stderr[-2000:]
    assert str(path) in done.stderr and words in done.stderr
    assert f"(problem {code})" in done.stderr and code in PROBLEMS
    assert "Traceback" not in done.stderr and "panicked" not in done.stderr
    assert "backtrace" not in done.stderr.lower()


def test_the_farthest_cell_is_named_and_the_fix_says_what_to_delete(tmp_path):
    with pytest.raises(SheetRefused) as refused:
        load_sheet(hostile.far_cell(tmp_path, "ALL60000"))
    assert refused.value.code == "sheet_too_large"
    assert "the farthest cell is ALL60000" in refused.value.fix
    assert refused.value.exit_code == 2


# ----------------------------------------------------------------------------- the child

NO_CAPS = ReadLimits(rows=10**12, columns=10**12, cells=10**15, expanded_bytes=10**15,
                     ratio=10**9)


def test_a_native_abort_is_a_refused_sheet_not_a_dead_process(tmp_path):
    """With the scan's caps lifted, calamine meets XFD1048576 and aborts (it asks for
    512 GB): the child dies, this process reads it as a refusal naming the file."""
    path = hostile.far_cell(tmp_path)
    with pytest.raises(SheetRefused) as refused:
        load_sheet(path, limits=NO_CAPS)
    assert refused.value.code == "unsafe_workbook"
    assert str(path) in str(refused.value)
    assert "could not be read safely (the reader aborted: SIGABRT)" in str(refused.value)


def test_a_reader_past_its_memory_is_a_refused_sheet(tmp_path, monkeypatch):
    """The child's address space is limited: a reader asking for 1 GB under a 64 MB limit
    fails in the child (whatever this process has free), and the sheet is refused."""
    from bulkedit.sheets import workbook_child

    def greedy(*args):
        return bytearray(1 << 30)

    path = write_xlsx(tmp_path / "ok.xlsx", [["video_id", "title"], ["x8abc12", "New"]])
    monkeypatch.setattr(workbook_child, "_read", greedy)
    with pytest.raises(SheetRefused) as refused:
        load_sheet(path, limits=ReadLimits(child_memory=64 << 20))
    assert refused.value.code == "unsafe_workbook"
    assert "could not be read safely (reading it needs more than 64 MB of memory)" in str(
        refused.value)


def test_a_reader_past_its_time_is_killed_and_the_sheet_refused(tmp_path):
    path = write_xlsx(tmp_path / "ok.xlsx", [["video_id", "title"], ["x8abc12", "New"]])
    with pytest.raises(SheetRefused) as refused:
        load_sheet(path, limits=ReadLimits(child_seconds=0))
    assert "took longer than 0 s" in str(refused.value)


@pytest.mark.parametrize("kind", ["xlsx", "ods"])
def test_the_child_reads_what_the_process_would(tmp_path, kind):
    from bulkedit.sheets.source import open_source
    from bulkedit.sheets.workbook import read_workbook_sheet

    rows = [["video_id", "title", "tags"], ["x8abc12", "New", "a, b"], ["x8abc13", "", "c"]]
    path = (write_xlsx(tmp_path / "s.xlsx", [*rows, ["x8abc14", 12.5, True]]) if kind == "xlsx"
            else write_ods(tmp_path / "s.ods", rows))
    child = read_workbook_sheet(open_source(path, None), None)
    here = read_workbook_sheet(open_source(path, None), None, in_process=True)
    assert child == here and len(child) >= 2


# ----------------------------------------------------------------------------- the scan

def refusal(path: Path, fmt: str, **caps: int) -> str:
    with pytest.raises(SheetRefused) as refused, path.open("rb") as handle:
        check_workbook(handle, path.name, fmt, None, ReadLimits(**caps))
    return str(refused.value)


def test_rows_columns_and_cells_are_measured_from_the_cells(tmp_path):
    path = write_xlsx(tmp_path / "s.xlsx", [["video_id", "title", "tags"]] +
                      [[f"x8abc{n}", "t", "a"] for n in range(10)])
    with path.open("rb") as handle:
        [extent] = check_workbook(handle, "s.xlsx", "xlsx")
    assert (extent.rows, extent.columns, extent.cells) == (11, 3, 33)
    assert "reaches row 11; bulkedit reads at most 10 rows" in refusal(path, "xlsx", rows=10)
    assert "reaches column C (3 columns); bulkedit reads at most 2" in refusal(
        path, "xlsx", columns=2)
    assert "spans A1:C11 (11 rows x 3 columns = 33 cells)" in refusal(path, "xlsx", cells=32)


def test_cells_without_references_follow_the_previous_one(tmp_path):
    """A writer may leave out `r`: each such cell is the next column, each row the next
    row, as the reader places them."""
    path = hostile.unreferenced_cells(tmp_path, 40)
    with path.open("rb") as handle:
        [extent] = check_workbook(handle, path.name, "xlsx")
    assert (extent.rows, extent.columns) == (3, 40)
    path = hostile.unreferenced_rows(tmp_path, 25)
    with path.open("rb") as handle:
        [extent] = check_workbook(handle, path.name, "xlsx")
    assert (extent.rows, extent.columns) == (27, 2)


def test_libreoffice_padding_rows_do_not_count(tmp_path):
    """LibreOffice ends every table with empty rows repeated to row 1,048,576 and empty
    cells to column AMJ: only cells with content count."""
    path = write_ods(tmp_path / "s.ods", [["video_id", "title"], ["x8abc12", "New"]])
    with zipfile.ZipFile(path) as archive:
        content = archive.read("content.xml").decode()
    padding = ('<table:table-row table:number-rows-repeated="1048574"><table:table-cell '
               'table:number-columns-repeated="1024"/></table:table-row>')
    assert content.count("</table:table>") == 1
    padded = tmp_path / "padded.ods"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(padded, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "content.xml":
                data = content.replace("</table:table>", padding + "</table:table>").encode()
            out.writestr(item, data)
    with padded.open("rb") as handle:
        [extent] = check_workbook(handle, padded.name, "ods")
    assert (extent.rows, extent.columns) == (2, 2)
    assert len(load_sheet(padded)) == 1


def test_an_inflated_part_is_measured_not_taken_from_the_zip(tmp_path):
    """The sizes a zip claims are not trusted: the part is inflated and counted."""
    path = hostile.shared_strings_bomb(tmp_path, 3)
    assert "zip bomb" in refusal(path, "xlsx", ratio_floor=1 << 20, ratio=100)
    assert "more than 2,000,000 bytes" in refusal(path, "xlsx", expanded_bytes=2_000_000)


def test_a_hidden_sheet_is_not_measured_unless_named(tmp_path):
    path = write_xlsx(tmp_path / "s.xlsx", [["video_id", "title"], ["x8abc12", "New"]])
    with path.open("rb") as handle:
        assert [e.sheet for e in check_workbook(handle, "s", "xlsx", "Sheet1")] == ["Sheet1"]
        assert check_workbook(handle, "s", "xlsx", "Other") == []


# ----------------------------------------------------------------------------- CSV

def test_a_long_csv_line_is_refused_before_the_file_is_read(tmp_path):
    from bulkedit.sheets.csv_reader import check_lines
    from bulkedit.sheets.source import open_source

    path = tmp_path / "s.csv"
    path.write_bytes(b"video_id,title\r\nx8abc12," + b"a" * 100 + b"\r\nx8abc13,b\r\n")
    check_lines(open_source(path, None), ReadLimits(field_bytes=120))
    with pytest.raises(SheetRefused) as refused:
        check_lines(open_source(path, None), ReadLimits(field_bytes=100))
    assert "line 2, with no line break, holds more than 100 bytes" in str(refused.value)
    assert refused.value.code == "cell_too_large"
    assert len(load_sheet(path)) == 2  # the default cap reads it


# ----------------------------------------------------------------------------- the night

def test_a_hostile_sheet_in_the_inbox_is_one_sheet_error_and_the_night_goes_on(api, tmp_path):
    sandbox = api()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    bad = hostile.far_cell(inbox, name="a-hostile.xlsx")
    good = sheet(inbox, titles(3), "b-good.csv")
    for age, path in enumerate((bad, good)):
        os.utime(path, (1_000_000 + age, 1_000_000 + age))
    log = tmp_path / "night.jsonl"
    done = bulkedit("batch", str(inbox), "--api-base", sandbox.base_url, "--rate", "0",
                    "--log", str(log), "--state-dir", str(tmp_path / "state"),
                    DAILYMOTION_API_KEY=KEY.key, DAILYMOTION_API_SECRET=KEY.secret)
    assert done.returncode == 2, done.stderr[-2000:]
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["event"], e.get("sheet")) for e in events] == [
        ("batch_start", None), ("sheet_start", "a-hostile.xlsx"),
        ("sheet_error", "a-hostile.xlsx"), ("sheet_start", "b-good.csv"),
        ("sheet_done", "b-good.csv"), ("batch_done", None)]
    assert "(problem sheet_too_large)" in events[2]["error"]
    night = json.loads(next((inbox / "summaries").iterdir()).read_text())
    assert [s["exit_code"] for s in night["sheets"]] == [2, 0]
    assert sum(sandbox.counters.writes.values()) == 3


def test_the_caps_are_the_loaders():
    from bulkedit.sheets import grid

    assert grid.MAX_COLUMNS == LIMITS.columns == 1000
    assert LIMITS.rows == 1_048_576 and LIMITS.cells == 1 << 24
