"""A nightly log people can read and parse (issue 29, point 8): the terminal gets one
logfmt line per event (`key=value`, quoted where needed, never a Python repr), the --log
file one JSON object per line; a sheet's event says where it went (sheet_done: done/,
sheet_failed: failed/); every path in the summaries points where the file is once filed;
no rate is reported over a run too short for one to mean anything."""

from __future__ import annotations

import fnmatch
import json
import os
import re
from pathlib import Path

from conftest import sheet, titles

from bulkedit.core.outcomes import RunResult
from bulkedit.sandbox.store import video_id

ROOT = Path(__file__).resolve().parent.parent
IGNORED = [line.strip() for line in (ROOT / ".gitignore").read_text().splitlines()
           if line.strip() and not line.startswith("#")]
PAIR = re.compile(r'([A-Za-z0-9_.\-]+)=("(?:[^"\\]|\\.)*"|[^\s"]*)(?:\s|$)')


def logfmt(line: str) -> dict[str, str]:
    """A logfmt line parsed as a logfmt reader would: it must be nothing else."""
    pairs = PAIR.findall(line)
    assert " ".join(f"{k}={v}" for k, v in pairs) == line, line
    return {key: json.loads(value) if value.startswith('"') else value
            for key, value in pairs}


def night(run_cli, sandbox, inbox: Path, log: Path):
    return run_cli("batch", str(inbox), "--api-base", sandbox.base_url, "--rate", "0",
                   "--log", str(log))


def inbox_of(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    good = sheet(inbox, titles(2), "a good=sheet.csv")  # a name that needs quoting
    bad = sheet(inbox, [{"video_id": video_id(5), "title": "ok"},
                        {"video_id": "xgone", "title": "missing"}], "b-failing.csv")
    for age, path in enumerate((good, bad)):
        os.utime(path, (1_000_000 + age, 1_000_000 + age))
    return inbox


def test_the_terminal_gets_logfmt_lines_never_python_reprs(api, run_cli, tmp_path):
    sandbox = api()
    inbox = inbox_of(tmp_path)
    result = night(run_cli, sandbox, inbox, tmp_path / "night.jsonl")
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines and not any("{'" in line or "':" in line for line in lines)
    events = [logfmt(line) for line in lines]
    assert [e["event"] for e in events] == ["batch_start", "sheet_start", "sheet_done",
                                            "sheet_start", "sheet_failed", "batch_done"]
    assert all(list(e)[:2] == ["time", "event"] for e in events)
    done = events[2]
    assert done["sheet"] == "a good=sheet.csv" and done["counts.updated"] == "2"
    assert done["exit_code"] == "0" and re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{6}", done["run"])
    assert '"a good=sheet.csv"' in lines[2]
    failed = events[4]
    assert (failed["counts.updated"], failed["counts.failed"]) == ("1", "1")


def test_each_sheet_is_logged_for_where_it_went(api, run_cli, tmp_path):
    sandbox = api()
    inbox = inbox_of(tmp_path)
    log = tmp_path / "night.jsonl"
    night(run_cli, sandbox, inbox, log)
    events = [json.loads(line) for line in log.read_text().splitlines()]
    filed = {e["sheet"]: e for e in events if e["event"] in ("sheet_done", "sheet_failed")}
    assert filed["a good=sheet.csv"]["event"] == "sheet_done"
    assert filed["a good=sheet.csv"]["moved_to"] == str(inbox / "done")
    assert filed["b-failing.csv"]["event"] == "sheet_failed"
    assert filed["b-failing.csv"]["moved_to"] == str(inbox / "failed")
    assert (inbox / "failed" / "b-failing.csv").exists()


def test_every_summary_path_points_where_the_file_is_once_filed(api, run_cli, tmp_path):
    sandbox = api()
    inbox = inbox_of(tmp_path)
    log = tmp_path / "night.jsonl"
    night(run_cli, sandbox, inbox, log)
    assert not (inbox / ".bulkedit" / "work").exists() or not any(
        (inbox / ".bulkedit" / "work").iterdir())  # the work folder is empty once filed
    events = [json.loads(line) for line in log.read_text().splitlines()]
    for event in (e for e in events if e["event"] in ("sheet_done", "sheet_failed")):
        facts = event["summary"]
        for key in ("results", "rollback", "summary_file", "sheet_filed"):
            assert Path(facts[key]).is_file(), (key, facts[key])
            assert Path(facts[key]).parent == Path(event["moved_to"])
        assert (event["results"], event["rollback"]) == (facts["results"], facts["rollback"])
        on_disk = json.loads(Path(facts["summary_file"]).read_text())
        assert (on_disk["results"], on_disk["rollback"]) == (facts["results"],
                                                             facts["rollback"])
    nightly = json.loads(next((inbox / "summaries").iterdir()).read_text())
    for entry in nightly["sheets"]:
        assert Path(entry["summary"]["results"]).is_file()
        assert Path(entry["summary"]["rollback"]).is_file()


def test_a_sheet_filed_again_is_named_by_its_run(api, run_cli, tmp_path):
    sandbox = api()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    log = tmp_path / "night.jsonl"
    for number in range(2):  # the same sheet name, two nights
        sheet(inbox, titles(2, prefix=f"Night {number}"), "daily.csv")
        assert night(run_cli, sandbox, inbox, log).code == 0
    events = [json.loads(line) for line in log.read_text().splitlines()]
    second = [e for e in events if e["event"] == "sheet_done"][1]
    run = second["run"]
    names = sorted(p.name for p in (inbox / "done").iterdir())
    assert names == sorted(["daily.csv", "daily.results.csv", "daily.rollback.csv",
                            "daily.summary.json", f"daily.{run}.csv",
                            f"daily.{run}.results.csv", f"daily.{run}.rollback.csv",
                            f"daily.{run}.summary.json"])
    for name in (f"daily.{run}.results.csv", f"daily.{run}.rollback.csv"):
        assert any(fnmatch.fnmatch(name, pattern) for pattern in IGNORED), name
    listed = run_cli("runs", "--state-dir", str(inbox / ".bulkedit"), "--json")
    rollbacks = [Path(r["rollback"]) for r in json.loads(listed.out)["runs"]]
    assert rollbacks == [(inbox / "done" / "daily.rollback.csv").resolve(),
                         (inbox / "done" / f"daily.{run}.rollback.csv").resolve()]


def test_a_short_run_reports_no_rate_and_says_why(api, run_cli, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, titles(2))
    summary = tmp_path / "summary.json"
    result = run_cli("apply", str(path), "--api-base", sandbox.base_url, "--yes",
                     "--summary-json", str(summary))
    assert result.code == 0
    facts = json.loads(summary.read_text())
    assert facts["achieved_rate_per_second"] is None
    calls = facts["api_calls"]["reads"] + facts["api_calls"]["writes"]
    assert facts["achieved_rate_note"].startswith(f"not measured: {calls} API calls in ")
    assert "API calls: " in result.out and "(too short a run to measure a rate)" in result.out


def test_a_long_enough_run_reports_its_rate_over_its_span():
    from bulkedit.core.outcomes import MIN_RATE_SECONDS

    # The rate is arithmetic on the run's span: no sheet is needed to check it.
    long = RunResult(None, None, [], started=100.0,  # type: ignore[arg-type]
                     finished=100.0 + 2 * MIN_RATE_SECONDS, reads=2, writes=98)
    assert long.achieved_rate() == {
        "achieved_rate_per_second": 10.0,
        "achieved_rate_note": f"100 API calls over the run's {2 * MIN_RATE_SECONDS:.1f} s"}
    short = RunResult(None, None, [], started=100.0,  # type: ignore[arg-type]
                      finished=100.08, reads=1, writes=1)
    assert short.achieved_rate()["achieved_rate_per_second"] is None
