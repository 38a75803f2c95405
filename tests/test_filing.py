"""Filing is one journaled step (issue 26, point 4): a night killed at any instant of a
filing leaves a record, and the next night completes it first — the true results filed,
nothing stranded, nothing run twice, and the night says so."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import KEY, results, sheet, titles

from bulkedit.run import filing
from bulkedit.sandbox.store import video_id

ROWS = 12
# Every instant a kill can land at, in order: the run ended, nothing filed yet; the record
# written; the user's file taken
# aside; the applied bytes in done/ but not the outputs (the audit's first window); every
# file moved; the user's file dealt with; the record marked filed.
STEPS = ("applied", "recorded", "held", "sheet_filed", "outputs_filed", "original_settled", "filed")


def _night(inbox: Path, base: str, log: Path, kill_at: str | None = None
           ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DAILYMOTION_API_KEY": KEY.key, "DAILYMOTION_API_SECRET": KEY.secret}
    env.pop(filing.KILL_AT, None)
    if kill_at is not None:
        env[filing.KILL_AT] = kill_at
    return subprocess.run([sys.executable, "-m", "bulkedit", "batch", str(inbox),
                           "--api-base", base, "--rate", "0", "--log", str(log)],
                          capture_output=True, text=True, env=env, timeout=120)


def _events(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("step", STEPS)
def test_a_night_killed_while_filing_is_completed_by_the_next(api, tmp_path, step):
    sandbox = api()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    path = sheet(inbox, titles(ROWS, prefix="Night"), "night.csv")
    applied = hashlib.sha256(path.read_bytes()).hexdigest()
    killed = _night(inbox, sandbox.base_url, tmp_path / "first.jsonl", kill_at=step)
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    assert sum(sandbox.counters.writes.values()) == ROWS  # the run itself was complete

    second = _night(inbox, sandbox.base_url, tmp_path / "second.jsonl")
    assert second.returncode == 0, second.stdout + second.stderr
    assert sum(sandbox.counters.writes.values()) == ROWS  # nothing run, nothing sent again
    done = inbox / "done"
    assert sorted(p.name for p in done.iterdir()) == [
        "night.csv", "night.results.csv", "night.rollback.csv", "night.summary.json"]
    assert hashlib.sha256((done / "night.csv").read_bytes()).hexdigest() == applied
    # The true results: the first night's run updated every row (not a rerun's "unchanged").
    assert [r["#status"] for r in results(done / "night.results.csv")] == ["updated"] * ROWS
    assert json.loads((done / "night.summary.json").read_text())["counts"] == {
        "updated": ROWS}
    # Nothing left behind: not in the inbox, not in the work folder, no record.
    assert [p.name for p in inbox.iterdir() if not p.is_dir()] == []  # nor .night.csv.filing
    assert not list((inbox / "failed").iterdir())
    work = inbox / ".bulkedit" / "work"
    assert not work.exists() or not list(work.iterdir())
    assert not list((inbox / ".bulkedit" / "filing").iterdir())
    events = _events(tmp_path / "second.jsonl")
    assert "sheet_start" not in {e["event"] for e in events}  # not run again
    completed = [e for e in events if e["event"] == "filing_completed"]
    nights = sorted((inbox / "summaries").iterdir())
    if step == "filed":  # everything was filed; only the record was left to go
        assert completed == []
        return
    assert len(completed) == 1 and completed[0]["sheet"] == "night.csv"
    assert "(the sheet is not run again)" in completed[0]["note"]
    summary = json.loads(nights[-1].read_text())
    assert [(s["sheet"], s["completed_filing"], s["exit_code"]) for s in summary["sheets"]
            ] == [("night.csv", True, 0)]


def test_a_sheet_saved_again_before_a_killed_filing_goes_back_to_the_inbox(api, tmp_path):
    """Killed with the user's file still in the inbox, which a user then saves again: the
    next night files the bytes applied, and the new version is a sheet of its own."""
    sandbox = api()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    path = sheet(inbox, titles(ROWS, prefix="Night"), "night.csv")
    applied = path.read_bytes()
    killed = _night(inbox, sandbox.base_url, tmp_path / "first.jsonl", kill_at="recorded")
    assert killed.returncode == -signal.SIGKILL
    sheet(inbox, titles(ROWS, prefix="Later"), "night.csv")  # saved again meanwhile
    second = _night(inbox, sandbox.base_url, tmp_path / "second.jsonl")
    assert second.returncode == 1, second.stdout + second.stderr  # said, not silent
    assert (inbox / "done" / "night.csv").read_bytes() == applied
    events = _events(tmp_path / "second.jsonl")
    assert {"filing_completed", "sheet_saved_again"} <= {e["event"] for e in events}
    # Then applied that night, from the inbox, as a run of its own, and filed beside.
    assert [e["sheet"] for e in events if e["event"] == "sheet_start"] == ["night.csv"]
    later = [p for p in (inbox / "done").glob("night.*.csv") if ".results" not in p.name
             and ".rollback" not in p.name]
    assert len(later) == 1 and "Later 0" in later[0].read_text()
    assert sandbox.video(video_id(0))["title"] == "Later 0"


def test_carrying_out_a_filing_twice_moves_nothing_twice(tmp_path):
    inbox, done, work = tmp_path / "inbox", tmp_path / "done", tmp_path / "work"
    for folder in (inbox, done, work):
        folder.mkdir()
    original = inbox / "a.csv"
    original.write_text("video_id\nx1\n")
    digest = hashlib.sha256(original.read_bytes()).hexdigest()
    staged = filing.stage(original, digest, work, "a.csv")
    (work / "a.results.csv").write_text("r")
    records = tmp_path / "records"
    planned = filing.plan(original, done, [staged, work / "a.results.csv"], digest, work,
                          {"sheet": "a.csv", "exit_code": 0})
    filing.record(records, planned)
    first = filing.carry_out(planned, records, lambda _step: None)
    again = filing.carry_out(filing.Filing(**{**planned.__dict__, "state": "intent"}),
                             records, lambda _step: None)
    assert first.moved == again.moved == [done / "a.csv", done / "a.results.csv"]
    assert again.missing == [] and not first.saved_again
    assert sorted(p.name for p in done.iterdir()) == ["a.csv", "a.results.csv"]
    assert not original.exists() and not list(records.iterdir())


def test_a_writer_still_appending_never_reaches_the_filed_sheet(api, run_cli, tmp_path):
    """cp or SMB writing on into the same file (the same inode) during the run: the file
    filed is a copy of the bytes applied, so what the writer adds later cannot reach done/;
    the user's file, still open for writing, stays in the inbox for the next night."""
    sandbox = api()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    path = sheet(inbox, titles(ROWS, prefix="Night"), "night.csv")
    applied = path.read_bytes()
    handles = []

    def append_in_place(_video: str) -> None:  # the writer has it open, and pauses
        if not handles:
            handles.append(path.open("ab"))

    sandbox.app.after_edit.append(append_in_place)
    try:
        night = run_cli("batch", str(inbox), "--api-base", sandbox.base_url, "--rate", "0",
                        "--concurrency", "1")
        filed = inbox / "done" / "night.csv"
        assert night.code == 1, night.out + night.err  # said: it is still being written
        assert "was still open for writing (still being copied in?)" in night.out
        assert filed.read_bytes() == applied
        handles[0].write(f"{video_id(51)},Later still\n".encode())
        handles[0].flush()
        assert filed.read_bytes() == applied  # the writer's file is not the filed one
    finally:
        for handle in handles:
            handle.close()
    assert b"Later still" in path.read_bytes()  # in the inbox, for the next night


def test_a_filing_that_cannot_be_completed_is_said_and_kept_for_the_next_night(
        api, run_cli, tmp_path):
    sandbox = api()
    inbox = tmp_path / "inbox"
    work = inbox / ".bulkedit" / "work" / "gone.csv"
    work.mkdir(parents=True)
    (work / "gone.results.csv").write_text("r")
    records = inbox / ".bulkedit" / "filing"
    planned = filing.plan(inbox / "gone.csv", tmp_path / "no" / "such" / "folder",
                          [work / "gone.results.csv"], None, work,
                          {"sheet": "gone.csv", "exit_code": 0})
    filing.record(records, planned)
    night = run_cli("batch", str(inbox), "--api-base", sandbox.base_url, "--rate", "0")
    assert night.code == 3, night.out + night.err
    assert "filing_not_completed sheet=gone.csv" in night.out
    assert "the next night tries again from its record" in night.out
    assert [r.id for r in filing.pending(records)] == [planned.id]
    assert (work / "gone.results.csv").exists()  # nothing lost
