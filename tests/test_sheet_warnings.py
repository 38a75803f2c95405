"""Every warning is shown where the user is (issue 25, point 8): `plan` and `apply` print
the sheet's warnings, and which sheet was read, before any read of the API, prompt or
write; the results sheet carries each row's, the summary JSON all of them."""

from __future__ import annotations

import asyncio
import json

from conftest import apply, results
from openpyxl import Workbook

from bulkedit.client.transport import Credentials
from bulkedit.run.options import run_options
from bulkedit.run.runner import SheetRun
from bulkedit.sandbox.store import video_id

ZERO_WIDTH = "\u200b"


def warned_sheet(tmp_path):
    path = tmp_path / "edits.csv"
    path.write_text(f"video_id,title\n{video_id(1)},Fine\n{video_id(2)},Plain{ZERO_WIDTH}\n",
                    encoding="utf-8")
    return path


def test_apply_prints_the_sheets_warnings_and_the_results_and_summary_keep_them(
        api, run_cli, tmp_path):
    sandbox = api()
    path = warned_sheet(tmp_path)
    summary = tmp_path / "s.json"
    result = apply(run_cli, sandbox, path, "--summary-json", str(summary))
    assert result.code == 0, result.out + result.err
    lines = result.out.splitlines()
    assert lines[0] == f"Reading {path} (header on row 1)"
    assert "1 warning about how the sheet was read" in lines[1]
    warning_line = next(line for line in lines if line.startswith("3 "))
    assert "title" in warning_line and "warning:" in warning_line
    assert lines.index(warning_line) < next(i for i, line in enumerate(lines)
                                            if line.startswith("API calls"))
    rows = results(tmp_path / "edits.results.csv")
    assert [r["#status"] for r in rows] == ["updated", "updated"]
    assert rows[0]["#error"] == ""
    assert rows[1]["#error"].startswith("warning: title: ")
    found = json.loads(summary.read_text())
    assert [(w["row"], w["column"], w["code"]) for w in found["warnings"]] == [
        (3, "title", "invisible_char")]
    assert found["sheet_name"] is None  # a CSV has no tabs
    assert sandbox.video(video_id(2))["title"] == "Plain"


def test_plan_prints_them_too(api, run_cli, tmp_path):
    sandbox = api()
    path = warned_sheet(tmp_path)
    result = run_cli("plan", str(path), "--api-base", sandbox.base_url)
    assert result.code == 0, result.out + result.err
    assert "1 warning about how the sheet was read" in result.out
    assert "warning:" in result.out


def test_an_unchanged_row_keeps_its_warning_in_the_results(api, run_cli, tmp_path):
    sandbox = api()
    path = warned_sheet(tmp_path)
    assert apply(run_cli, sandbox, path).code == 0
    assert apply(run_cli, sandbox, path, "--fresh").code == 0
    rows = results(tmp_path / "edits.results.csv")
    assert [r["#status"] for r in rows] == ["unchanged", "unchanged"]
    assert rows[1]["#error"].startswith("warning: title: ")


def test_the_warnings_are_told_before_anything_is_read_or_sent(api, tmp_path):
    """The engine tells its front end of the sheet before the first request to the API."""
    sandbox = api()
    path = warned_sheet(tmp_path)
    seen: list[tuple[int, int, list[str]]] = []

    def told(sheet, validation):
        seen.append((sum(sandbox.counters.requests.values()),
                     len(validation.warnings), [w.code for w in validation.warnings]))

    options = run_options(sheet=path, api_base=sandbox.base_url, rate=0)
    result = asyncio.run(SheetRun(options, Credentials(*sandbox.key), on_loaded=told).run())
    assert result.exit_code == 0
    assert seen == [(0, 1, ["invisible_char"])]
    assert sandbox.counters.requests["edit_video"] == 2


def test_a_workbook_names_the_sheet_it_read(api, run_cli, tmp_path):
    sandbox = api()
    path = tmp_path / "edits.xlsx"
    book = Workbook()
    book.active.title = "Week 49"
    book.active.append(["video_id", "title"])
    book.active.append([video_id(1), "From the workbook"])
    book.save(path)
    summary = tmp_path / "s.json"
    result = apply(run_cli, sandbox, path, "--summary-json", str(summary))
    assert result.code == 0, result.out + result.err
    assert result.out.splitlines()[0] == f"Reading sheet 'Week 49' of {path} (header on row 1)"
    assert json.loads(summary.read_text())["sheet_name"] == "Week 49"
    assert run_cli("validate", str(path)).out.startswith(f"sheet 'Week 49' of {path}: 1 rows")


def test_the_results_sheet_names_the_sheet_and_keeps_the_sheets_own_warnings(
        api, run_cli, tmp_path):
    """A warning that belongs to no row (the encoding found) is in the results too: in
    the first row's #sheet_notes cell, under the line naming the sheet read."""
    sandbox = api()
    path = tmp_path / "edits.csv"
    path.write_bytes(f"video_id,title\n{video_id(1)},Caf\u00e9 cr\u00e8me\n"
                     f"{video_id(2)},D\u00e9j\u00e0 vu\n".encode("cp1252"))
    result = apply(run_cli, sandbox, path)
    assert result.code == 0, result.out + result.err
    rows = results(tmp_path / "edits.results.csv")
    notes = rows[0]["#sheet_notes"].splitlines()
    assert notes[0] == f"read from {path}, header on row 1"
    assert len(notes) == 2 and notes[1].startswith(
        "warning (encoding) row 1: the file is not UTF-8: read as Windows-1252")
    assert rows[1]["#sheet_notes"] == ""
    assert sandbox.video(video_id(1))["title"] == "Caf\u00e9 cr\u00e8me"
    # The results sheet read again: its notes column is replaced, not repeated.
    again = apply(run_cli, sandbox, tmp_path / "edits.results.csv",
                  "--results", str(tmp_path / "again.csv"))
    assert again.code == 0, again.out + again.err
    header = (tmp_path / "again.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.count("#sheet_notes") == 1
