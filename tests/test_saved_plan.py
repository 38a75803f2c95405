"""A saved plan binds what was reviewed: `apply --plan` sends exactly those forms, with the
options the plan was made with, or refuses, naming what differs."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import apply, results, sheet, titles

from bulkedit.sandbox.store import video_id


def plan(run_cli, sandbox, path: Path, *extra: str):
    return run_cli("plan", str(path), "--api-base", sandbox.base_url, "--rate", "0", *extra)


def local_dates(tmp_path: Path) -> Path:
    return sheet(tmp_path, [{"video_id": video_id(1), "publish_date": "2027-03-01 09:00"},
                            {"video_id": video_id(2), "publish_date": "2027-03-02 18:30"}])


TOKYO = {video_id(1): datetime(2027, 3, 1, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo")),
         video_id(2): datetime(2027, 3, 2, 18, 30, tzinfo=ZoneInfo("Asia/Tokyo"))}


def test_apply_plan_sends_the_dates_as_reviewed_in_the_plans_time_zone(run_cli, api,
                                                                        tmp_path):
    sandbox = api()
    path, saved = local_dates(tmp_path), tmp_path / "p.json"
    assert plan(run_cli, sandbox, path, "--timezone", "Asia/Tokyo", "--save",
                str(saved)).code == 0
    result = apply(run_cli, sandbox, path, "--plan", str(saved))  # no --timezone
    assert result.code == 0, result.out + result.err
    for video, moment in TOKYO.items():
        assert sandbox.video(video)["publish_date"] == int(moment.timestamp())


@pytest.mark.parametrize("flag,value,shown", [
    ("--timezone", "UTC", "--timezone UTC contradicts the plan"),
    ("--timezone", "Europe/Paris", "--timezone Europe/Paris contradicts the plan"),
    ("--date-order", "dmy", "--date-order dmy contradicts the plan"),
    ("--allow-past-expiry", None, "--allow-past-expiry (on) contradicts the plan"),
    ("--skip-invalid", None, "--skip-invalid (on) contradicts the plan"),
    ("--sheet", "Other", "--sheet Other contradicts the plan"),
    ("--encoding", "cp1251", "--encoding cp1251 contradicts the plan"),
])
def test_an_option_that_contradicts_the_plan_is_refused(run_cli, api, tmp_path, flag, value,
                                                        shown):
    sandbox = api()
    path, saved = local_dates(tmp_path), tmp_path / "p.json"
    assert plan(run_cli, sandbox, path, "--timezone", "Asia/Tokyo", "--save",
                str(saved)).code == 0
    result = apply(run_cli, sandbox, path, "--plan", str(saved),
                   *([flag] if value is None else [flag, value]))
    assert result.code == 2
    assert shown in result.err and "which was reviewed with" in result.err
    assert sum(sandbox.counters.writes.values()) == 0
    assert sandbox.counters.requests["list_videos"] == 1  # the plan's read only


def test_the_same_option_as_the_plan_is_no_contradiction(run_cli, api, tmp_path):
    sandbox = api()
    path, saved = local_dates(tmp_path), tmp_path / "p.json"
    assert plan(run_cli, sandbox, path, "--timezone", "Asia/Tokyo", "--save",
                str(saved)).code == 0
    result = apply(run_cli, sandbox, path, "--plan", str(saved), "--timezone", "Asia/Tokyo")
    assert result.code == 0


def test_a_settings_file_that_contradicts_the_plan_is_refused(run_cli, api, tmp_path,
                                                             monkeypatch):
    sandbox = api()
    path, saved = local_dates(tmp_path), tmp_path / "p.json"
    assert plan(run_cli, sandbox, path, "--timezone", "Asia/Tokyo", "--save",
                str(saved)).code == 0
    config = tmp_path / "bulkedit.toml"
    config.write_text('[run]\ntimezone = "Europe/Paris"\n', encoding="utf-8")
    config.chmod(0o600)
    result = apply(run_cli, sandbox, path, "--plan", str(saved), "--config", str(config))
    assert result.code == 2
    assert f"--timezone Europe/Paris (from {config}) contradicts the plan" in result.err
    assert sum(sandbox.counters.writes.values()) == 0


def test_forced_drift_is_sent_only_when_it_sends_what_was_reviewed(run_cli, api, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, [{"video_id": video_id(1), "title": "Reviewed title"},
                            {"video_id": video_id(2), "tags": "+reviewed"}])
    saved = tmp_path / "p.json"
    assert plan(run_cli, sandbox, path, "--save", str(saved)).code == 0
    sandbox.store.update(video_id(1), {"title": "Edited in Studio"})
    sandbox.store.update(video_id(2), {"tags": ["edited", "in", "studio"]})
    result = apply(run_cli, sandbox, path, "--plan", str(saved), "--force")
    assert result.code == 1
    rows = results(tmp_path / "edits.results.csv")
    assert rows[0]["#status"] == "updated"  # the same title as reviewed: --force sends it
    assert sandbox.video(video_id(1))["title"] == "Reviewed title"
    assert (rows[1]["#status"], rows[1]["#error"]) == (
        "conflict", "would send other values than the plan reviewed (tags); plan again and "
        "review it")
    assert sandbox.video(video_id(2))["tags"] == ["edited", "in", "studio"]


def test_a_row_the_review_never_saw_is_not_sent(run_cli, api, tmp_path):
    sandbox = api()
    path, saved = sheet(tmp_path, titles(3)), tmp_path / "p.json"
    assert plan(run_cli, sandbox, path, "--save", str(saved)).code == 0
    payload = json.loads(saved.read_text())
    del payload["rows"]["3"]  # as a plan whose dry run stopped before that row
    saved.write_text(json.dumps(payload), encoding="utf-8")
    result = apply(run_cli, sandbox, path, "--plan", str(saved))
    assert result.code == 1
    assert [r["#status"] for r in results(tmp_path / "edits.results.csv")] == [
        "updated", "conflict", "updated"]
    assert sandbox.counters.writes[video_id(1)] == 0


def test_a_plan_of_the_older_format_is_refused(run_cli, api, tmp_path):
    sandbox = api()
    path, saved = sheet(tmp_path, titles(2)), tmp_path / "p.json"
    assert plan(run_cli, sandbox, path, "--save", str(saved)).code == 0
    payload = json.loads(saved.read_text())
    payload["format"] = "bulkedit-plan/1"
    saved.write_text(json.dumps(payload), encoding="utf-8")
    result = apply(run_cli, sandbox, path, "--plan", str(saved))
    assert result.code == 2 and "saved by an older bulkedit" in result.err
    assert sum(sandbox.counters.writes.values()) == 0


def test_a_saved_plan_keeps_the_options_and_forms_but_never_a_password(run_cli, api,
                                                                      tmp_path):
    sandbox = api()
    path = sheet(tmp_path, [{"video_id": video_id(1), "title": "T", "password": "hunter2-x"}])
    saved = tmp_path / "p.json"
    assert plan(run_cli, sandbox, path, "--timezone", "Asia/Tokyo", "--date-order", "dmy",
                "--save", str(saved)).code == 0
    text = saved.read_text()
    assert "hunter2-x" not in text
    payload = json.loads(text)
    assert payload["options"] == {
        "sheet_name": None, "timezone": "Asia/Tokyo", "date_order": "dmy", "encoding": None,
        "allow_irreversible": False, "allow_live_fields": False, "allow_past_expiry": False,
        "skip_invalid": False, "hidden": "refuse", "spread_merged": False,
        "strip_apostrophes": False, "decimal_separator": None, "split_lists": False}
    assert payload["rows"]["2"]["form"] == {"title": "T", "password": "***"}
    result = apply(run_cli, sandbox, path, "--plan", str(saved))
    assert result.code == 0  # the password row is sent: its form is bound by the sheet
