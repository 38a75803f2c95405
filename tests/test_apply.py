"""`bulkedit apply` against the sandbox: everything a real API does, end to end."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import openpyxl
import pytest
from conftest import SECRET, apply, results, sheet, titles

from bulkedit.sandbox.store import video_id

ROOT = Path(__file__).resolve().parent.parent


# ----------------------------------------------------------------------------- happy path

def test_all_rows_succeed_and_the_results_sheet_says_so(run_cli, api, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, titles(30))
    summary = tmp_path / "summary.json"
    result = apply(run_cli, sandbox, path, "--summary-json", str(summary))
    assert result.code == 0, result.out + result.err
    assert all(sandbox.video(video_id(i))["title"] == f"New title {i}" for i in range(30))
    rows = results(tmp_path / "edits.results.csv")
    assert [r["#status"] for r in rows] == ["updated"] * 30
    assert rows[0]["#changed_fields"] == "title" and rows[0]["#attempts"] == "1"
    facts = json.loads(summary.read_text())
    assert facts["counts"] == {"updated": 30} and facts["exit_code"] == 0
    assert facts["api_calls"] == {"reads": 2, "writes": 30}  # the plan's read, the read-back
    assert sandbox.counters.requests["list_videos"] == 2  # ceil(30/100) reads, twice
    assert "30 updated" in result.out


def test_an_applied_sheet_sends_nothing_the_second_time(run_cli, api, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, [*titles(10), {"video_id": video_id(10), "tags": "+extra"}])
    assert apply(run_cli, sandbox, path).code == 0
    writes = sum(sandbox.counters.writes.values())
    again = apply(run_cli, sandbox, path)
    assert again.code == 0 and sum(sandbox.counters.writes.values()) == writes
    assert {r["#status"] for r in results(tmp_path / "edits.results.csv")} == {"unchanged"}


def test_patches_and_clears_reach_the_api(run_cli, api, tmp_path):
    sandbox = api()
    before = sandbox.video(video_id(3))
    path = sheet(tmp_path, [{"video_id": video_id(3), "tags": "+fresh, -" + (
        before["tags"][0] if before["tags"] else "none"), "description": "[]",
        "geoblocking": "deny, us"}])
    assert apply(run_cli, sandbox, path).code == 0
    after = sandbox.video(video_id(3))
    assert set(after["tags"]) == (set(before["tags"]) - set(before["tags"][:1])) | {"fresh"}
    assert after["description"] == "" and after["geoblocking"] == ["deny", "us"]


# ----------------------------------------------------------------------------- the API misbehaves

@pytest.mark.parametrize("limits", [
    {"rate": 20},
    {"rate": 20, "retry_after_header": False},
    {"rate": 20, "rate_limit_status": 403},
])
def test_rate_limit_storms(run_cli, api, tmp_path, limits):
    sandbox = api(**limits)
    path = sheet(tmp_path, titles(60))
    result = apply(run_cli, sandbox, path, "--concurrency", "16", "--max-attempts", "12",
                   "--backoff", "0.1")
    assert result.code == 0, result.out
    assert sandbox.counters.rate_limited > 0
    assert all(r["#status"] == "updated" for r in results(tmp_path / "edits.results.csv"))


def test_the_rate_limiter_keeps_the_api_happy(run_cli, api, tmp_path):
    sandbox = api(rate=20)
    path = sheet(tmp_path, titles(40))
    result = run_cli("apply", str(path), "--api-base", sandbox.base_url, "--yes", "--rate",
                     "20", "--concurrency", "16")
    assert result.code == 0
    assert sandbox.counters.rate_limited == 0 and sandbox.counters.max_per_second <= 20


def test_server_errors_timeouts_and_drops_are_retried(run_cli, api, tmp_path):
    sandbox = api(fail_rate=0.15, timeout_rate=0.05, drop_rate=0.05, hold_seconds=3)
    path = sheet(tmp_path, titles(50))
    result = apply(run_cli, sandbox, path, "--timeout", "0.5", "--max-attempts", "10",
                   "--backoff", "0.05")
    assert result.code == 0, result.out
    faults = sandbox.counters.faults
    assert faults["fail"] and faults["timeout"] and faults["drop"]
    assert all(sandbox.video(video_id(i))["title"] == f"New title {i}" for i in range(50))
    rows = results(tmp_path / "edits.results.csv")
    assert {r["#status"] for r in rows} == {"updated"}
    assert max(int(r["#attempts"]) for r in rows) > 1


def test_token_expiry_mid_run_is_renewed_once(run_cli, api, tmp_path):
    sandbox = api()
    writes = []

    def expire_after_ten(_video: str) -> None:
        writes.append(_video)
        if len(writes) == 10:
            sandbox.app.expire_all_tokens()

    sandbox.app.after_edit.append(expire_after_ten)
    result = apply(run_cli, sandbox, sheet(tmp_path, titles(40)), "--concurrency", "4")
    assert result.code == 0
    assert sandbox.counters.statuses[401] >= 1 and sandbox.counters.tokens_issued == 2


def test_short_token_lifetime_is_renewed_before_it_expires(run_cli, api, tmp_path):
    sandbox = api(token_lifetime=0.5, latency=0.05)
    result = run_cli("apply", str(sheet(tmp_path, titles(40))), "--api-base",
                     sandbox.base_url, "--yes", "--rate", "40", "--concurrency", "2")
    assert result.code == 0
    assert sandbox.counters.tokens_issued >= 2


def test_revoked_credentials_stop_the_run(run_cli, api, tmp_path):
    sandbox = api()
    writes = []

    def revoke_after_five(_video: str) -> None:
        writes.append(_video)
        if len(writes) == 5:
            sandbox.app.keys.clear()  # the key was deleted in Studio
            sandbox.app.revoke_all_tokens()

    sandbox.app.after_edit.append(revoke_after_five)
    result = apply(run_cli, sandbox, sheet(tmp_path, titles(60)), "--concurrency", "2")
    assert result.code == 3
    assert "Stopped early: the API refused the credentials" in result.out
    rows = results(tmp_path / "edits.results.csv")
    statuses = [r["#status"] for r in rows]
    # Written, but never read back: the credentials were gone before the read-back.
    assert statuses.count("sent") >= 5 and "skipped" in statuses
    assert "updated" not in statuses
    assert sum(sandbox.counters.writes.values()) < 10


def test_unknown_ids_and_refused_values_are_reported_on_their_row(run_cli, api, tmp_path):
    sandbox = api(accept_doubtful_channels=False)
    path = sheet(tmp_path, [
        {"video_id": video_id(1), "title": "Fine", "channel": ""},
        {"video_id": "xdoesnotexist", "title": "Gone", "channel": ""},
        {"video_id": video_id(2), "title": "", "channel": "kids"},
    ])
    result = apply(run_cli, sandbox, path)
    assert result.code == 1
    rows = results(tmp_path / "edits.results.csv")
    assert [r["#status"] for r in rows] == ["updated", "failed", "failed"]
    assert rows[1]["#http_status"] == "404" and "not found" in rows[1]["#error"]
    assert rows[2]["#http_status"] == "400" and rows[2]["#error"].startswith("channel: ")
    assert rows[2]["#error_class"] == "permanent"


def test_invalid_sheet_sends_nothing_unless_asked(run_cli, api, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, [*titles(3), {"video_id": video_id(9), "title": "", "private": "maybe"}])
    refused = apply(run_cli, sandbox, path)
    assert refused.code == 2 and "Nothing was sent" in refused.out
    assert sum(sandbox.counters.requests.values()) == 0
    skipped = apply(run_cli, sandbox, path, "--skip-invalid")
    assert skipped.code == 1
    assert [r["#status"] for r in results(tmp_path / "edits.results.csv")] == [
        "updated", "updated", "updated", "invalid"]


def test_xlsx_results_sheet_is_a_valid_input(run_cli, api, tmp_path):
    sandbox = api()
    source = ROOT / "samples" / "edits.xlsx"
    path = tmp_path / "edits.xlsx"
    path.write_bytes(source.read_bytes())
    out = tmp_path / "out.xlsx"
    assert apply(run_cli, sandbox, path, "--results", str(out)).code == 0
    book = openpyxl.load_workbook(out)
    header = [c.value for c in book.active[1]]
    assert header[-7:] == ["#status", "#error_class", "#error", "#http_status",
                           "#changed_fields", "#attempts", "#sheet_notes"]
    # The results name the sheet read, in the first row's #sheet_notes cell.
    notes = book.active.cell(row=2, column=len(header)).value
    assert "read from sheet 'Edits' of " in notes and "header on row 1" in notes
    assert run_cli("validate", str(out)).code == 0
    again = apply(run_cli, sandbox, out, "--results", str(tmp_path / "again.xlsx"))
    assert again.code == 0 and "60 unchanged" in again.out


def test_no_secret_or_token_in_any_output(run_cli, api, tmp_path):
    sandbox = api(fail_rate=0.2, token_lifetime=0.3)
    path = sheet(tmp_path, [*titles(30), {"video_id": "xgone", "title": "x"}])
    summary = tmp_path / "summary.json"
    result = apply(run_cli, sandbox, path, "--summary-json", str(summary), "--max-attempts",
                   "10", "--backoff", "0.05")
    assert result.code == 1
    tokens = list(sandbox.app.tokens)
    assert sandbox.counters.tokens_issued >= 2 and tokens
    artefacts = [result.out, result.err, summary.read_text(),
                 (tmp_path / "edits.results.csv").read_text(encoding="utf-8-sig")]
    for text in artefacts:
        assert SECRET not in text
        assert not any(token in text for token in tokens)


# ----------------------------------------------------------------------------- users

def test_main_job_with_the_sandbox_flag_needs_no_credentials(tmp_path):
    path = tmp_path / "edits.xlsx"
    path.write_bytes((ROOT / "samples" / "edits.xlsx").read_bytes())
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYMOTION_")}
    done = subprocess.run([sys.executable, "-m", "bulkedit", "apply", str(path), "--sandbox",
                           "--rate", "100"], capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "60 updated" in done.stdout and (tmp_path / "edits.results.xlsx").exists()
    assert "Read back: 60 of 60 written rows read back as sent" in done.stdout


def test_missing_credentials_are_a_usage_error(run_cli, tmp_path, monkeypatch):
    monkeypatch.delenv("DAILYMOTION_API_KEY", raising=False)
    monkeypatch.delenv("DAILYMOTION_API_SECRET", raising=False)
    result = run_cli("apply", str(sheet(tmp_path, titles(1))), "--yes")
    assert result.code == 2
    assert "set DAILYMOTION_API_KEY and DAILYMOTION_API_SECRET" in result.err


def test_ctrl_c_lets_requests_in_flight_finish_and_exits_130(api, tmp_path):
    sandbox = api(latency=0.05)
    enough = threading.Event()
    sandbox.app.after_edit.append(
        lambda _v: enough.set() if sum(sandbox.counters.writes.values()) >= 5 else None)
    path = sheet(tmp_path, titles(150))
    process = subprocess.Popen(
        [sys.executable, "-m", "bulkedit", "apply", str(path), "--api-base", sandbox.base_url,
         "--yes", "--rate", "20", "--concurrency", "4"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert enough.wait(60)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, out + err
    assert "Interrupted" in out
    rows = results(tmp_path / "edits.results.csv")
    written = [r for r in rows if r["#status"] == "sent"]  # read back when it resumes
    assert 5 <= len(written) < 150 and len(rows) == 150
    assert len(written) == sum(sandbox.counters.writes.values())  # nothing lost in flight
    assert all(r["#error"] == "not sent: the run was interrupted" for r in rows
               if r["#status"] == "skipped")


def test_rate_limits_slow_the_client_down(run_cli, api, tmp_path):
    sandbox = api(rate=20)
    summary = tmp_path / "summary.json"
    result = run_cli("apply", str(sheet(tmp_path, titles(60))), "--api-base", sandbox.base_url,
                     "--yes", "--rate", "60", "--concurrency", "8", "--backoff", "0.1",
                     "--max-attempts", "12", "--summary-json", str(summary))
    assert result.code == 0
    facts = json.loads(summary.read_text())
    assert facts["rate_limited"] > 0 and facts["rate_cuts"] >= 1
    assert facts["rate_limited"] == sandbox.counters.rate_limited
    # How the rate was set, and how often it was cut, is in the summary's rate too.
    assert facts["rate"] == {"mode": "fixed", "per_second": 60.0, "cuts": facts["rate_cuts"]}


def test_a_dead_api_trips_the_circuit_breaker(run_cli, api, tmp_path):
    sandbox = api(fail_rate=1.0)
    result = apply(run_cli, sandbox, sheet(tmp_path, titles(40)), "--concurrency", "1",
                   "--max-attempts", "2", "--backoff", "0.01", "--batch-size", "4")
    assert result.code == 3
    assert "Stopped early: 5 calls in a row failed" in result.out
    rows = results(tmp_path / "edits.results.csv")
    # Five batches of four were tried and failed; the other rows were never sent.
    assert [r["#status"] for r in rows] == ["failed"] * 20 + ["skipped"] * 20
    assert rows[0]["#error"].startswith("could not read the video's current values")
    assert rows[-1]["#error"].startswith("not sent: 5 calls in a row failed")
    assert sandbox.counters.requests["list_videos"] == 10
    assert sandbox.counters.requests["edit_video"] == 0


def test_plain_log_lines_when_not_a_terminal(run_cli, api, tmp_path):
    sandbox = api()
    result = apply(run_cli, sandbox, sheet(tmp_path, titles(30)))
    assert "write: 30/30 (100%), 0 failed" in result.err
    assert "\r" not in result.err


def test_confirmation_on_a_terminal(api, tmp_path, monkeypatch):
    import io

    from bulkedit.cli import commands as cli_apply
    from bulkedit.cli.main import main

    sandbox = api()
    monkeypatch.setattr(cli_apply, "_interactive", lambda: True)
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    out = io.StringIO()
    path = sheet(tmp_path, titles(3))
    code = main(["apply", str(path), "--api-base", sandbox.base_url], out=out,
                err=io.StringIO())
    assert code == 0
    assert "3 videos will change (title 3). Send these changes? [y/N]" in out.getvalue()
    assert "Cancelled: nothing was sent." in out.getvalue()
    assert sandbox.counters.requests["edit_video"] == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    assert main(["apply", str(path), "--api-base", sandbox.base_url], out=io.StringIO(),
                err=io.StringIO()) == 0
    assert sandbox.counters.requests["edit_video"] == 3


# ----------------------------------------------------------------------------- --rate auto

def test_rate_auto_finds_a_hidden_limit_and_the_summary_records_it(run_cli, api, tmp_path):
    sandbox = api(rate=15)  # never told to the client
    path = sheet(tmp_path, titles(90))
    summary = tmp_path / "summary.json"
    result = apply(run_cli, sandbox, path, "--rate", "auto", "--max-rate", "40",
                   "--summary-json", str(summary))
    assert result.code == 0, result.out + result.err
    assert all(sandbox.video(video_id(i))["title"] == f"New title {i}" for i in range(90))
    facts = json.loads(summary.read_text())
    rate = facts["rate"]
    assert rate["mode"] == "auto" and rate["max_per_second"] == 40
    assert 8 <= rate["found_per_second"] <= 16.5
    assert sandbox.counters.rate_limited <= 3  # the search cost a refusal or two
    assert f"Rate found by --rate auto: {rate['found_per_second']:g}/s" in result.out
    assert "/s (--rate auto)" in result.err  # the progress shows the rate as it goes


def test_a_rate_that_is_not_a_number_or_auto_is_a_usage_error(run_cli, api, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, titles(3))
    result = apply(run_cli, sandbox, path, "--rate", "fast")
    assert result.code == 2 and "auto" in result.err and "Traceback" not in result.err
    assert sum(sandbox.counters.requests.values()) == 0
