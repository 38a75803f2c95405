"""`-` as standard output, and `--json` for validate and plan (issue 29, point 4): the data
on stdout, everything else (progress, notices, the human summary) on stderr, so that a
pipe stays clean. Results and rollback sheets stay files."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
from conftest import KEY, apply, results, sheet, titles

from bulkedit.cli.main import main
from bulkedit.core.problems import PROBLEMS
from bulkedit.sandbox.store import video_id
from bulkedit.sheets.report import ISSUE_HEADERS

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


class Terminal(io.StringIO):
    """A stdout that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# ----------------------------------------------------------------------------- validate

def test_validate_json_is_the_counts_and_every_problem_with_its_fix(run_cli):
    result = run_cli("validate", str(SAMPLES / "broken.csv"), "--json")
    assert result.code == 1  # the exit code is unchanged by --json
    payload = json.loads(result.out)  # stdout is the JSON and nothing else
    assert payload["version"] == 1 and payload["command"] == "validate"
    assert payload["ok"] is False and payload["exit_code"] == 1
    assert payload["counts"] == {"rows": 15, "valid": 0, "invalid": 13, "errors": 15,
                                 "warnings": 1, "header_errors": 2}
    first = payload["problems"][0]
    assert set(first) == {"row", "column", "value", "code", "severity", "message", "fix"}
    assert (first["row"], first["column"], first["code"]) == (1, "duration", "read_only")
    assert all(p["fix"] == PROBLEMS[p["code"]].fix for p in payload["problems"])
    # The human summary went to stderr.
    assert "15 rows, 0 valid, 13 invalid" in result.err


def test_validate_json_of_a_valid_sheet_exits_0(run_cli):
    result = run_cli("validate", str(SAMPLES / "edits.csv"), "--json")
    assert result.code == 0
    payload = json.loads(result.out)
    assert payload["ok"] is True and payload["problems"] == []
    assert payload["counts"]["valid"] == 60


def test_validate_report_dash_is_the_problem_csv_on_stdout(run_cli):
    result = run_cli("validate", str(SAMPLES / "broken.csv"), "--report", "-")
    assert result.code == 1
    assert not result.out.startswith("\ufeff")  # no byte-order mark in a pipe
    rows = list(csv.reader(io.StringIO(result.out)))
    assert rows[0] == list(ISSUE_HEADERS)
    assert (rows[1][0], rows[1][1], rows[1][3]) == ("1", "duration", "read_only")
    assert not Path("-").exists()  # no file named "-"
    assert "Fix the problems above" in result.err


def test_two_outputs_cannot_share_stdout(run_cli):
    result = run_cli("validate", str(SAMPLES / "broken.csv"), "--json", "--report", "-")
    assert result.code == 2 and result.out == ""
    assert result.err == ("bulkedit: error: --report - and --json both ask for standard "
                          "output; give one of them a file name\n")


# ----------------------------------------------------------------------------- plan

def _plan(run_cli, sandbox, path: Path, *extra: str):
    return run_cli("plan", str(path), "--api-base", sandbox.base_url, "--rate", "0", *extra)


def test_plan_json_lists_each_row_and_the_counts(run_cli, api, tmp_path):
    sandbox = api()
    rows = [*titles(3), {"video_id": "xgone", "title": "missing"}]
    path = sheet(tmp_path, rows)
    result = _plan(run_cli, sandbox, path, "--json")
    assert result.code == 1  # a video not found: as without --json
    payload = json.loads(result.out)
    assert payload["version"] == 1 and payload["command"] == "plan"
    assert payload["refused"] is False and payload["complete"] is True
    assert payload["counts"] == {"change": 3, "not_found": 1} and payload["rows"] == 4
    would = payload["apply_would_make"]
    assert would["writes"] == 3 and would["read_backs"] == 1  # verify is on
    assert f"an apply will make {would['calls']} API calls" in result.err  # as it says
    first = payload["plan"][0]
    assert first["row"] == 2 and first["video_id"] == video_id(0)
    assert first["status"] == "change"
    assert first["changes"] == [{"field": "title", "live": sandbox.video(video_id(0))["title"],
                                 "new": "New title 0"}]
    assert payload["plan"][3]["status"] == "not_found"
    assert payload["reports"]["xlsx"] == str(tmp_path / "edits.plan.xlsx")
    # Progress and the human summary are on stderr, not in the JSON.
    assert "read: 4/4 (100%)" in result.err and "Nothing was sent." in result.err
    assert sum(sandbox.counters.writes.values()) == 0


def test_plan_json_of_a_refused_sheet_gives_its_problems(run_cli, api, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, [{"video_id": "X1", "title": "upper-case id"}])
    result = _plan(run_cli, sandbox, path, "--json")
    assert result.code == 2
    payload = json.loads(result.out)
    assert payload["refused"] is True and payload["plan"] == []
    assert [(p["row"], p["column"], p["code"]) for p in payload["problems"]] == [
        (2, "video_id", "bad_id")]
    assert "Nothing was sent." in result.err
    assert sandbox.counters.requests["list_videos"] == 0


def test_plan_html_dash_is_the_page_on_stdout(run_cli, api, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, titles(2))
    result = _plan(run_cli, sandbox, path, "--html", "-")
    assert result.code == 0
    assert result.out.startswith("<!doctype html>") and result.out.rstrip().endswith("</html>")
    assert video_id(1) in result.out
    assert (tmp_path / "edits.plan.xlsx").exists()  # the other report: its default file
    assert not (tmp_path / "edits.plan.html").exists()
    assert "Diff report: " in result.err and "standard output" in result.err


def test_plan_xlsx_report_is_refused_on_a_terminal_before_any_read(api, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, titles(2))
    out, err = Terminal(), io.StringIO()
    code = main(["plan", str(path), "--api-base", sandbox.base_url, "--report", "-"],
                out=out, err=err)
    assert code == 2 and out.getvalue() == ""
    assert "--report -: the diff report (XLSX) is a binary file" in err.getvalue()
    assert sandbox.counters.requests["list_videos"] == 0


# ----------------------------------------------------------------------------- apply, report

def test_apply_summary_json_dash_on_stdout_and_the_rest_on_stderr(run_cli, api, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, titles(5))
    result = apply(run_cli, sandbox, path, "--summary-json", "-")
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    assert summary["counts"] == {"updated": 5} and summary["exit_code"] == 0
    assert "write: 5/5 (100%)" in result.err  # progress
    assert "Results: " in result.err and "Rollback: " in result.err
    # The results and rollback sheets stay files.
    assert {r["#status"] for r in results(tmp_path / "edits.results.csv")} == {"updated"}
    assert (tmp_path / "edits.rollback.csv").exists()
    assert not (tmp_path / "-").exists()


def test_results_and_rollback_sheets_are_never_stdout(run_cli, api, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, titles(2))
    for flag in ("--results", "--rollback"):
        result = apply(run_cli, sandbox, path, flag, "-")
        assert result.code == 2 and result.out == ""
        assert f"{flag} -: the results and rollback sheets are kept as files" in result.err
    assert sandbox.counters.requests["list_videos"] == 0
    assert sum(sandbox.counters.writes.values()) == 0


def test_a_saved_plan_and_a_rebuilt_undo_are_never_stdout(run_cli, api, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, titles(2))
    result = _plan(run_cli, sandbox, path, "--save", "-")
    assert result.code == 2 and result.err == (
        "bulkedit: error: --save -: a saved plan is kept as a file, for apply --plan; give a "
        "file name\n")
    assert sandbox.counters.requests["list_videos"] == 0
    summary = tmp_path / "summary.json"
    assert apply(run_cli, sandbox, path, "--summary-json", str(summary)).code == 0
    run_id = json.loads(summary.read_text())["run"]
    for flag in ("--results", "--rollback"):
        result = run_cli("report", run_id, flag, "-")
        assert result.code == 2 and f"{flag} -: the results and rollback sheets" in result.err
    assert not Path("-").exists() and not (tmp_path / "-").exists()


def test_report_summary_json_dash(run_cli, api, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, titles(3))
    summary = tmp_path / "summary.json"
    assert apply(run_cli, sandbox, path, "--summary-json", str(summary)).code == 0
    run_id = json.loads(summary.read_text())["run"]
    result = run_cli("report", run_id, "--summary-json", "-")
    assert result.code == 0, result.err
    assert json.loads(result.out)["counts"] == {"updated": 3}
    assert f"Run {run_id}: 3 updated" in result.err


# ----------------------------------------------------------------------------- export

def _export(run_cli, sandbox, *extra: str):
    return run_cli("export", "--api-base", sandbox.base_url, "--rate", "0", *extra)


def test_export_dash_is_the_csv_on_stdout(run_cli, api, tmp_path):
    sandbox = api()
    ids = sheet(tmp_path, titles(4))
    result = _export(run_cli, sandbox, "--ids", str(ids), "--fields", "title", "-o", "-")
    assert result.code == 0, result.err
    rows = _csv(result.out)
    assert [r["video_id"] for r in rows] == [video_id(i) for i in range(4)]
    assert rows[0]["title"] == sandbox.video(video_id(0))["title"]
    assert "4 videos exported to standard output" in result.err
    assert not (tmp_path / "videos.xlsx").exists() and not Path("videos.xlsx").exists()


def test_export_xlsx_is_refused_on_a_terminal_before_any_call(api, tmp_path):
    sandbox = api()
    ids = sheet(tmp_path, titles(2))
    out, err = Terminal(), io.StringIO()
    code = main(["export", "--api-base", sandbox.base_url, "--ids", str(ids), "-o", "-",
                 "--format", "xlsx"], out=out, err=err)
    assert code == 2 and out.getvalue() == ""
    assert "an XLSX sheet is a binary file, which a terminal cannot show" in err.getvalue()
    assert sum(sandbox.counters.requests.values()) == 0


def test_export_format_must_agree_with_the_file(run_cli, api, tmp_path):
    sandbox = api()
    result = _export(run_cli, sandbox, "--ids", str(sheet(tmp_path, titles(1))), "-o",
                     str(tmp_path / "v.csv"), "--format", "xlsx")
    assert result.code == 2 and "--format xlsx and -o" in result.err


# ----------------------------------------------------------------------------- batch

def test_batch_log_dash_writes_json_lines_on_stdout_not_a_file(run_cli, api, tmp_path,
                                                               monkeypatch):
    sandbox = api()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    sheet(inbox, titles(3), "a.csv")
    monkeypatch.chdir(tmp_path)
    result = run_cli("batch", str(inbox), "--api-base", sandbox.base_url, "--rate", "0",
                     "--log", "-")
    assert result.code == 0, result.err
    events = [json.loads(line) for line in result.out.splitlines()]  # every line is JSON
    assert [e["event"] for e in events] == ["batch_start", "sheet_start", "sheet_done",
                                            "batch_done"]
    assert not (tmp_path / "-").exists()
    # The human lines went to stderr.
    assert any(" event=sheet_done " in line for line in result.err.splitlines())


# ----------------------------------------------------------------------------- real pipes

def _env(sandbox) -> dict[str, str]:
    return {**os.environ, "DAILYMOTION_API_KEY": KEY.key,
            "DAILYMOTION_API_SECRET": KEY.secret, "DAILYMOTION_API_BASE": sandbox.base_url,
            "PYTHONPATH": str(ROOT)}


def _piped(args: list[str], sandbox, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "bulkedit", *args], cwd=cwd,
                          env=_env(sandbox), capture_output=True, check=False, timeout=120)


def test_a_pipe_from_plan_json_stays_clean(api, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, titles(5))
    done = _piped(["plan", str(path), "--rate", "0", "--json"], sandbox, tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["counts"] == {"change": 5}
    assert b"read: 5/5 (100%)" in done.stderr


def test_a_pipe_from_export_carries_the_csv_and_an_xlsx(api, tmp_path):
    sandbox = api()
    ids = sheet(tmp_path, titles(3))
    done = _piped(["export", "--ids", str(ids), "--fields", "title", "-o", "-"], sandbox,
                  tmp_path)
    assert done.returncode == 0, done.stderr
    assert [r["video_id"] for r in _csv(done.stdout.decode("utf-8"))] == [
        video_id(i) for i in range(3)]
    assert b"3 videos exported to standard output" in done.stderr
    done = _piped(["export", "--ids", str(ids), "-o", "-", "--format", "xlsx"], sandbox,
                  tmp_path)
    assert done.returncode == 0, done.stderr
    book = openpyxl.load_workbook(io.BytesIO(done.stdout))
    assert book["Videos"]["A2"].value == video_id(0)


def test_a_pipe_from_plan_carries_the_xlsx_report(api, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, titles(2))
    done = _piped(["plan", str(path), "--rate", "0", "--report", "-"], sandbox, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Plan" in openpyxl.load_workbook(io.BytesIO(done.stdout)).sheetnames
    assert not (tmp_path / "edits.plan.xlsx").exists()


def test_json_on_stdout_keeps_invisible_characters_exact_and_the_terminal_safe(run_cli,
                                                                             tmp_path):
    # A bidi override and a tag character (beyond the BMP): escaped as JSON escapes, so
    # nothing raw reaches a terminal and a reader gets the very value back.
    value = "a\u202eb\U000e0041c\x85"
    path = sheet(tmp_path, [{"video_id": "x8abc12", "channel": value}])  # not a channel
    result = run_cli("validate", str(path), "--json")
    assert "\u202e" not in result.out and "\U000e0041" not in result.out
    assert "\\u202e" in result.out and "\\udb40\\udc41" in result.out
    values = [p["value"] for p in json.loads(result.out)["problems"]]
    assert value in values
