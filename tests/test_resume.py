"""Lose nothing: SIGKILL and resume, the run lock, SIGTERM, the journal commands."""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import KEY, apply, results, sheet, titles

from bulkedit.run.lock import RunLock, SheetLock
from bulkedit.sandbox import SandboxConfig, running_sandbox
from bulkedit.sandbox.store import video_id

ROWS = 120


def spawn(path: Path, base: str, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "DAILYMOTION_API_KEY": KEY.key, "DAILYMOTION_API_SECRET": KEY.secret}
    return subprocess.Popen(
        [sys.executable, "-m", "bulkedit", "apply", str(path), "--api-base", base, "--yes",
         "--rate", "0", "--concurrency", "4", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def done_rows(folder: Path) -> set[str]:
    """Video ids whose write the journal has confirmed (done, or written and waiting to be
    read back), read straight from SQLite."""
    with sqlite3.connect(folder / "state" / "journal.sqlite") as db:
        return {r[0] for r in db.execute("SELECT video_id FROM rows WHERE state IN "
                                         "('done', 'written')")}


def test_sigkill_three_times_then_resume_loses_nothing_and_resends_nothing(tmp_path):
    state = tmp_path / "sandbox.sqlite"
    wanted = {video_id(i): f"Renamed {i}" for i in range(ROWS)}
    path = sheet(tmp_path, [{"video_id": v, "title": t, "tags": "+night"}
                            for v, t in wanted.items()])
    kills = []
    # Enough latency that a kill always lands well before the run could finish.
    with running_sandbox(SandboxConfig(videos=ROWS, keys=(KEY,), state_file=str(state),
                                       latency=0.03)) as sandbox:
        before = {v: sandbox.video(v) for v in wanted}
        for stop_after in (5, 40, 80):  # edits seen by the sandbox before each kill
            reached = threading.Event()
            hook = (lambda limit, event: lambda _v: event.set()
                    if sum(sandbox.counters.writes.values()) >= limit else None)(
                stop_after, reached)
            sandbox.app.after_edit.append(hook)
            process = spawn(path, sandbox.base_url)
            assert reached.wait(60), process.communicate()
            process.send_signal(signal.SIGKILL)
            process.wait()
            sandbox.app.after_edit.remove(hook)
            confirmed = done_rows(tmp_path)
            kills.append((confirmed, dict(sandbox.counters.writes)))
        process = spawn(path, sandbox.base_url)
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, out + err
        assert "Resuming run" in err
        for vid, title in wanted.items():  # every video is as the sheet says
            now = sandbox.video(vid)
            assert now["title"] == title and "night" in now["tags"]
            assert set(before[vid]["tags"]) <= set(now["tags"])
        final = sandbox.counters.writes
        for confirmed, writes in kills:  # no confirmed edit was sent again
            assert confirmed, "each kill came after some rows were confirmed"
            for vid in confirmed:
                assert final[vid] == writes[vid] == 1
        assert sum(final.values()) <= ROWS + 3 * 4  # at most the in-flight rows, again
    rows = results(tmp_path / "edits.results.csv")
    assert [r["video_id"] for r in rows] == list(wanted)  # every row exactly once
    assert {r["#status"] for r in rows} == {"updated"}
    with (tmp_path / "edits.rollback.csv").open(encoding="utf-8-sig") as handle:
        rollback = list(csv.DictReader(handle))
    assert [r["video_id"] for r in rollback] == list(wanted)
    assert all(r["title"] == before[r["video_id"]]["title"] for r in rollback)


def test_sigterm_finishes_in_flight_requests_and_resumes(api, tmp_path):
    sandbox = api(latency=0.05, videos=200)
    path = sheet(tmp_path, titles(200))
    reached = threading.Event()
    sandbox.app.after_edit.append(
        lambda _v: reached.set() if sum(sandbox.counters.writes.values()) >= 10 else None)
    process = spawn(path, sandbox.base_url)
    assert reached.wait(60)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, out + err
    sent = sum(sandbox.counters.writes.values())
    assert len(done_rows(tmp_path)) == sent  # every confirmed edit is in the journal
    again = spawn(path, sandbox.base_url)
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0 and "Resuming run" in err
    assert sum(sandbox.counters.writes.values()) == 200
    assert max(sandbox.counters.writes.values()) == 1


def test_a_second_run_on_the_same_sheet_is_refused(run_cli, api, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, titles(3))
    holder = SheetLock(str(path.resolve()), str(path), path)
    with holder:
        result = apply(run_cli, sandbox, path)
    assert result.code == 3
    assert f"{path} is already being processed by process {os.getpid()} on " in result.err
    assert sum(sandbox.counters.requests.values()) == 0
    assert apply(run_cli, sandbox, path).code == 0  # the lock is free again


def test_the_lock_of_a_killed_process_is_taken_over(api, tmp_path):
    sandbox = api(latency=0.05)
    path = sheet(tmp_path, titles(60))
    reached = threading.Event()
    sandbox.app.after_edit.append(lambda _v: reached.set())
    process = spawn(path, sandbox.base_url)
    assert reached.wait(60)
    process.send_signal(signal.SIGKILL)
    process.wait()
    again = spawn(path, sandbox.base_url)
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, out + err


def test_fresh_starts_over_and_runs_lists_the_runs(run_cli, api, tmp_path, monkeypatch):
    sandbox = api()
    path = sheet(tmp_path, titles(4))
    assert apply(run_cli, sandbox, path).code == 0
    assert apply(run_cli, sandbox, path, "--fresh").code == 0
    monkeypatch.chdir(tmp_path)
    listing = run_cli("runs")
    assert listing.code == 0
    lines = listing.out.splitlines()
    assert lines[0].split() == ["run", "state", "started", "rows", "sheet", "rollback"]
    assert len(lines) == 4 and "finished" in lines[2] and "4 updated" in lines[2]
    assert "4 unchanged" in lines[3]
    run_id = lines[2].split()[0]
    (tmp_path / "edits.results.csv").unlink()
    report = run_cli("report", run_id)
    assert report.code == 0 and f"Run {run_id}: 4 updated" in report.out
    assert [r["#status"] for r in results(tmp_path / "edits.results.csv")] == ["updated"] * 4
    assert "no run nope" in run_cli("report", "nope").err


def test_runs_lists_what_apply_did_from_any_folder(run_cli, api, tmp_path, monkeypatch):
    sandbox = api()
    (tmp_path / "sheets").mkdir()
    path = sheet(tmp_path / "sheets", titles(2))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert apply(run_cli, sandbox, path).code == 0
    monkeypatch.chdir(tmp_path)
    listing = run_cli("runs")
    assert listing.code == 0 and "2 updated" in listing.out
    assert f"sheets/{path.name}" in listing.out  # a long path keeps its end
    assert not (tmp_path / "sheets" / ".bulkedit").exists()


def test_runs_without_a_journal(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BULKEDIT_STATE_DIR", str(tmp_path / "empty"))
    result = run_cli("runs")
    assert result.code == 2 and "no run journal in" in result.err


def test_a_refused_run_names_a_holder_that_has_not_written_itself_yet(tmp_path, monkeypatch):
    """The holder takes the lock, then writes who it is: the refused run waits for that."""
    import fcntl
    import json as json_module

    from bulkedit.core.errors import RunAborted
    from bulkedit.run import lock as lock_module

    path = tmp_path / "locks" / "x.lock"
    path.parent.mkdir()
    holder = path.open("a+", encoding="utf-8")
    fcntl.flock(holder.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # locked, nothing written

    def holder_writes_meanwhile(_seconds: float) -> None:
        holder.write(json_module.dumps({"pid": 4242, "host": "night", "started": "t0"}))
        holder.flush()

    monkeypatch.setattr(lock_module.time, "sleep", holder_writes_meanwhile)
    with pytest.raises(RunAborted, match="by process 4242 on night"):
        RunLock(path, "the sheet").acquire()
    holder.close()
