"""A nightly job pointed at something that is not the Dailymotion API (issue 29, point 3)
says so once, before any row is tried, and leaves every sheet in the inbox untouched:
before, each sheet was filed in failed/ with the same line, and had to be moved back."""

from __future__ import annotations

import json

from conftest import sheet, titles
from test_apibase import _web_server


def test_a_wrong_api_base_stops_the_night_once_and_files_nothing(run_cli, api, tmp_path):
    api()  # the credentials
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    names = ["a.csv", "b.csv", "c.csv"]
    for name in names:
        sheet(inbox, titles(3), name)
    log = tmp_path / "night.jsonl"
    with _web_server() as base:
        result = run_cli("batch", str(inbox), "--api-base", base, "--rate", "0",
                         "--log", str(log))
    assert result.code == 2, result.out + result.err
    events = [json.loads(line) for line in log.read_text().splitlines()]
    wrong = [e for e in events if e["event"] == "api_base_wrong"]
    assert len(wrong) == 1 and "does not answer like the Dailymotion API" in wrong[0]["error"]
    assert sorted(wrong[0]["left_in_inbox"]) == names
    assert [e["sheet"] for e in events if e["event"] == "sheet_start"] == ["a.csv"]
    assert not any(e["event"] in ("sheet_failed", "sheet_error") for e in events)
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == names
    assert not (inbox / "failed").exists() or not any((inbox / "failed").iterdir())
    night = json.loads(next((inbox / "summaries").iterdir()).read_text())
    assert night["exit_code"] == 2 and all(s["left_in_inbox"] for s in night["sheets"])
