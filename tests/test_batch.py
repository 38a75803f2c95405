"""The nightly batch: a folder of sheets, no prompts, a lock, logs, the worst exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import KEY, sheet, titles

from bulkedit.core.errors import UsageError
from bulkedit.run.config import load_settings
from bulkedit.sandbox.store import video_id

ROOT = Path(__file__).resolve().parent.parent


def inbox_with(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    first = sheet(inbox, titles(20), "a-first.csv")
    second = sheet(inbox, [{"video_id": video_id(30), "title": "ok"},
                           {"video_id": "xgone", "title": "missing"}], "b-second.csv")
    broken = sheet(inbox, [{"video_id": "X1", "title": ""}], "c-broken.csv")
    for age, path in enumerate((first, second, broken)):
        os.utime(path, (1_000_000 + age, 1_000_000 + age))  # oldest first: a, b, c
    (inbox / "~$open-in-excel.xlsx").write_bytes(b"lock")
    return inbox


def test_batch_processes_the_inbox_oldest_first(run_cli, api, tmp_path):
    sandbox = api()
    inbox = inbox_with(tmp_path)
    log = tmp_path / "night.jsonl"
    result = run_cli("batch", str(inbox), "--api-base", sandbox.base_url, "--rate", "0",
                     "--log", str(log))
    assert result.code == 2  # the worst sheet: an invalid one
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["event"] for e in events] == [
        "batch_start", "sheet_start", "sheet_done", "sheet_start", "sheet_failed",
        "sheet_start", "sheet_invalid", "batch_done"]
    assert [e["sheet"] for e in events if e["event"] == "sheet_start"] == [
        "a-first.csv", "b-second.csv", "c-broken.csv"]
    assert events[2]["exit_code"] == 0 and events[4]["exit_code"] == 1
    done = sorted(p.name for p in (inbox / "done").iterdir())
    assert done == ["a-first.csv", "a-first.results.csv", "a-first.rollback.csv",
                    "a-first.summary.json"]
    failed = sorted(p.name for p in (inbox / "failed").iterdir())
    assert failed == ["b-second.csv", "b-second.results.csv", "b-second.rollback.csv",
                      "b-second.summary.json", "c-broken.csv", "c-broken.problems.csv"]
    assert [p.name for p in inbox.iterdir() if p.is_file()] == ["~$open-in-excel.xlsx"]
    night = json.loads(next((inbox / "summaries").iterdir()).read_text())
    assert [s["exit_code"] for s in night["sheets"]] == [0, 1, 2] and night["exit_code"] == 2
    assert sum(sandbox.counters.writes.values()) == 21


@pytest.mark.parametrize("state", ["shared", "one each"])
def test_two_batches_at_once_never_apply_twice(api, tmp_path, state):
    """The lock lives in the inbox: two nights with different state folders (so different
    journals) still never both apply a sheet."""
    sandbox = api(latency=0.2)  # the first batch holds the inbox for seconds
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for n in range(3):
        sheet(inbox, titles(15, start=n * 15, prefix=f"Night {n}"), f"s{n}.csv")
    env = {**os.environ, "DAILYMOTION_API_KEY": KEY.key, "DAILYMOTION_API_SECRET": KEY.secret}
    command = [sys.executable, "-m", "bulkedit", "batch", str(inbox), "--api-base",
               sandbox.base_url, "--rate", "0", "--concurrency", "4"]
    own = (["--state-dir", str(tmp_path / "state-a")], ["--state-dir", str(tmp_path / "state-b")])
    first = subprocess.Popen(command + (own[0] if state == "one each" else []),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    second = subprocess.Popen(command + (own[1] if state == "one each" else []),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    outputs = [p.communicate(timeout=120) for p in (first, second)]
    codes = sorted(p.returncode for p in (first, second))
    assert codes == [0, 3], outputs  # the later one is refused
    refused = next(o for p, o in zip((first, second), outputs, strict=True)
                   if p.returncode == 3)
    assert "is already being processed by process" in refused[1]
    assert sum(sandbox.counters.writes.values()) == 45
    assert max(sandbox.counters.writes.values()) == 1
    assert len(list((inbox / "done").glob("s?.csv"))) == 3


def test_settings_file(tmp_path, monkeypatch):
    path = tmp_path / "bulkedit.toml"
    path.write_text('[api]\nrate = 3\nkey_env = "MY_KEY"\nsecret_env = "MY_SECRET"\n'
                    '[batch]\ninbox = "in"\nverify = true\n', encoding="utf-8")
    settings = load_settings(path)
    assert (settings.rate, settings.inbox, settings.verify) == (3.0, tmp_path / "in", True)
    assert settings.credentials({"MY_KEY": "k", "MY_SECRET": "s"}).api_key == "k"
    with pytest.raises(UsageError, match="set MY_KEY and MY_SECRET"):
        settings.credentials({})
    path.write_text('[api]\napi_secret = "oops"\n', encoding="utf-8")
    with pytest.raises(UsageError, match="credentials never go in the configuration file"):
        load_settings(path)
    path.write_text('[api]\nspeed = 3\n', encoding="utf-8")
    with pytest.raises(UsageError, match="has no setting 'speed'"):
        load_settings(path)
    path.write_text('[api]\nrate = "fast"\n', encoding="utf-8")
    with pytest.raises(UsageError, match=r"\[api\] rate 'fast': give requests per second .*"
                                         r"or \"auto\""):
        load_settings(path)


def test_the_sample_settings_file_is_valid():
    settings = load_settings(ROOT / "samples" / "nightly" / "bulkedit.toml")
    assert settings.rate == 5 and settings.inbox == Path("/srv/bulkedit/inbox")


def test_batch_uses_the_settings_file(run_cli, api, tmp_path, monkeypatch):
    sandbox = api()
    inbox = tmp_path / "drop"
    inbox.mkdir()
    sheet(inbox, titles(3), "x.csv")
    monkeypatch.setenv("NIGHT_KEY", KEY.key)
    monkeypatch.setenv("NIGHT_SECRET", KEY.secret)
    config = tmp_path / "bulkedit.toml"
    config.write_text(f'[api]\nbase = "{sandbox.base_url}"\nkey_env = "NIGHT_KEY"\n'
                      'secret_env = "NIGHT_SECRET"\nrate = 0\n[batch]\ninbox = "drop"\n'
                      'done = "archive"\n', encoding="utf-8")
    monkeypatch.delenv("DAILYMOTION_API_BASE", raising=False)
    result = run_cli("batch", "--config", str(config))
    assert result.code == 0, result.out + result.err
    assert (tmp_path / "archive" / "x.results.csv").exists()


def test_the_log_never_holds_a_raw_control_or_bidi_character(run_cli, api, tmp_path):
    sandbox = api()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    name = "evil\u202e\u009b2J\U000e0041.csv"  # a tag character: beyond the BMP
    sheet(inbox, [{"video_id": video_id(1), "title": "T\u202eitle"}], name)
    log = tmp_path / "night.jsonl"
    result = run_cli("batch", str(inbox), "--api-base", sandbox.base_url, "--rate", "0",
                     "--log", str(log))
    assert result.code == 0, result.out + result.err
    text = log.read_text(encoding="utf-8")
    assert "\u202e" not in text and "\u009b" not in text and "\\u202e" in text
    assert "\U000e0041" not in text and "\\udb40\\udc41" in text  # JSON's surrogate pair
    assert json.loads(text.splitlines()[1])["sheet"] == name  # the same value, escaped
    assert "\u202e" not in result.out and "\\u202e" in result.out


def test_sheet_switches_in_the_toml(tmp_path):
    config = tmp_path / "bulkedit.toml"
    config.write_text('[batch]\ndate_order = "dmy"\nencoding = "cp1251"\n'
                      "allow_past_expiry = true\n", encoding="utf-8")
    settings = load_settings(config)
    assert (settings.date_order, settings.encoding, settings.allow_past_expiry) == (
        "dmy", "cp1251", True)
    config.write_text('[batch]\ndate_order = "ymd"\n', encoding="utf-8")
    with pytest.raises(UsageError, match="dmy"):
        load_settings(config)
