"""Lose nothing, part two (issue 13): a pinned sheet, atomic outputs, an undo that
survives every later run and attempt, output paths checked before anything is sent, and
sheets read from pipes."""

from __future__ import annotations

import csv
import errno
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import KEY, apply, grow_while_read, results, sheet, titles

from bulkedit.core.errors import DiskProblem, LoadError, UsageError
from bulkedit.sandbox.store import video_id
from bulkedit.sheets.files import (
    AtomicFile,
    disk_problem,
    keep_earlier,
    pin_sheet,
    preflight,
)
from bulkedit.sheets.report import write_table


def rollback_rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {row["video_id"]: row for row in csv.DictReader(handle)}


def replace_atomically(path: Path, rows: list[dict[str, str]]) -> None:
    """What Excel and most editors do on save: write a new file, rename it over the old."""
    fresh = sheet(path.parent, rows, name=".saving.csv")
    os.replace(fresh, path)


def save_again_after(sandbox, path: Path, edits: int, rows: list[dict[str, str]]
                     ) -> threading.Event:
    """Save `rows` over the sheet once the sandbox has applied `edits` edits (mid-run);
    the event says it happened."""
    saved_again = threading.Event()

    def save_over(_video: str) -> None:
        if not saved_again.is_set() and sum(sandbox.counters.writes.values()) >= edits:
            replace_atomically(path, rows)
            saved_again.set()

    sandbox.app.after_edit.append(save_over)
    return saved_again


# ----------------------------------------------------------------------------- files.py

def test_an_atomic_file_is_all_or_nothing(tmp_path):
    target = tmp_path / "results.csv"
    target.write_text("earlier\n")
    failing = AtomicFile(target)
    failing.path.write_text("half of it")
    failing.discard()
    assert target.read_text() == "earlier\n"
    done = AtomicFile(target)
    done.path.write_text("all of it\n")
    done.commit()
    assert target.read_text() == "all of it\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.csv"]  # no temp left


def test_a_table_that_fails_midway_leaves_the_earlier_file(tmp_path):
    for name in ("out.csv", "out.xlsx", "out.json"):
        target = tmp_path / name
        write_table(target, ["a"], [["first"]])
        before = target.read_bytes()

        def rows():
            yield ["one"]
            raise RuntimeError("the run broke while writing")

        with pytest.raises(RuntimeError):
            write_table(target, ["a"], rows())
        assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "out.json", "out.xlsx"]


def test_an_existing_output_no_run_is_known_to_have_written_is_named_by_its_time(tmp_path):
    target = tmp_path / "edits.rollback.csv"
    target.write_text("first run\n")
    os.utime(target, (1_764_441_312, 1_764_441_312))  # 2025-11-29T18:35:12Z
    aside = keep_earlier(target)
    assert aside == tmp_path / "edits.20251129-183512.rollback.csv"  # still *.rollback.csv
    assert aside.read_text() == "first run\n" and not target.exists()
    target.write_text("second run\n")
    os.utime(target, (1_764_441_312, 1_764_441_312))  # the same second: never overwritten
    assert keep_earlier(target) == tmp_path / "edits.20251129-183512-2.rollback.csv"
    assert aside.read_text() == "first run\n"
    assert keep_earlier(tmp_path / "nothing.csv") is None
    target.write_text("a run's\n")
    assert keep_earlier(target, "20251130-101010-abcdef") == (
        tmp_path / "edits.20251130-101010-abcdef.rollback.csv")


def test_the_first_rollback_kept_aside_gets_a_stable_name(tmp_path):
    target = tmp_path / "edits.rollback.csv"
    (tmp_path / "edits.v2.rollback.csv").write_text("another sheet's\n")  # not this one's
    target.write_text("the originals\n")
    first = keep_earlier(target, "20251130-101010-abcdef", rollback=True)
    assert first == tmp_path / "edits.first.rollback.csv"
    target.write_text("later\n")
    assert keep_earlier(target, "20251201-101010-abcdef", rollback=True) == (
        tmp_path / "edits.20251201-101010-abcdef.rollback.csv")
    assert first.read_text() == "the originals\n"
    older = tmp_path / "old"  # kept aside by an older bulkedit, under its time
    older.mkdir()
    (older / "edits.rollback.2025-11-29T183512Z.csv").write_text("the originals\n")
    (older / "edits.rollback.csv").write_text("later\n")
    assert keep_earlier(older / "edits.rollback.csv", "20251201-101010-abcdef",
                        rollback=True) == older / "edits.20251201-101010-abcdef.rollback.csv"


def test_preflight_names_the_output_and_the_fix(tmp_path):
    a_file = tmp_path / "plain"
    a_file.write_text("x")
    cases = [(tmp_path / "no" / "r.xlsx", "folder " + str(tmp_path / "no") + " does not exist"),
             (a_file / "r.xlsx", "is a file"),
             (tmp_path, "is a folder")]
    for path, said in cases:
        with pytest.raises(UsageError) as caught:
            preflight([("results sheet", path)])
        assert said in str(caught.value) and "\n" not in str(caught.value)
    preflight([("results sheet", tmp_path / "fine.xlsx"), ("summary", None)])
    assert list(tmp_path.iterdir()) == [a_file]  # the check leaves nothing behind


def test_a_full_disk_is_one_line_naming_the_path(tmp_path):
    problem = disk_problem(OSError(errno.ENOSPC, "No space left on device"),
                           tmp_path / "r.xlsx", needed=5 << 20)
    assert isinstance(problem, DiskProblem) and problem.exit_code == 3
    assert str(tmp_path / "r.xlsx") in str(problem) and "5.0 MB more" in str(problem)
    assert "free" in str(problem) and "\n" not in str(problem)
    assert disk_problem(OSError(errno.EACCES, "Permission denied"), tmp_path) is None


def test_a_pipe_is_pinned_in_one_read(tmp_path):
    fifo = tmp_path / "sheet.fifo"
    os.mkfifo(fifo)
    content = b"video_id,title\nx1,One\nx2,Two\n"
    writer = threading.Thread(target=lambda: fifo.write_bytes(content))
    writer.start()
    pinned = pin_sheet(fifo, tmp_path / "pins")
    writer.join()
    assert pinned.digest == hashlib.sha256(content).hexdigest()
    assert pinned.path.read_bytes() == content
    assert pinned.path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(LoadError, match="no such file"):
        pin_sheet(tmp_path / "missing.csv", tmp_path / "pins")


# ----------------------------------------------------------------------------- the pinned sheet

def test_a_sheet_saved_again_mid_run_never_reaches_the_run(api, run_cli, tmp_path, state_dir):
    sandbox = api()
    path = sheet(tmp_path, titles(30, prefix="Meant"))
    original = path.read_bytes()
    saved_again = save_again_after(sandbox, path, 3, titles(30, prefix="Later"))
    result = apply(run_cli, sandbox, path, "--concurrency", "2")
    assert result.code == 0, result.err
    assert saved_again.is_set()
    assert [sandbox.video(video_id(i))["title"] for i in range(30)] == [
        f"Meant {i}" for i in range(30)]
    assert {r["title"][:5] for r in results(tmp_path / "edits.results.csv")} == {"Meant"}
    with sqlite3.connect(state_dir / "journal.sqlite") as db:
        digest, = db.execute("SELECT sheet_sha256 FROM runs").fetchone()
    assert digest == hashlib.sha256(original).hexdigest()
    assert (state_dir / "sheets" / f"{digest}.csv").read_bytes() == original
    # The version saved mid-run is a new sheet: the next apply sends it, all of it.
    again = apply(run_cli, sandbox, path)
    assert again.code == 0, again.err
    assert sandbox.video(video_id(29))["title"] == "Later 29"


def test_a_plan_reviewed_then_a_sheet_changed_is_refused(api, run_cli, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, titles(3))
    plan = run_cli("plan", str(path), "--api-base", sandbox.base_url, "--save",
                   str(tmp_path / "reviewed.json"))
    assert plan.code == 0, plan.err
    saved = (tmp_path / "reviewed.json").read_text()
    assert hashlib.sha256(path.read_bytes()).hexdigest() in saved
    replace_atomically(path, titles(3, prefix="Other"))
    refused = apply(run_cli, sandbox, path, "--plan", str(tmp_path / "reviewed.json"))
    assert refused.code == 2 and "changed since the plan" in refused.err
    assert sum(sandbox.counters.writes.values()) == 0


# ----------------------------------------------------------------------------- the undo survives

def test_a_second_run_keeps_the_first_runs_undo_and_results(api, run_cli, tmp_path):
    sandbox = api()
    originals = {video_id(i): sandbox.video(video_id(i))["title"] for i in range(3)}
    path = sheet(tmp_path, titles(3, prefix="First"))
    assert apply(run_cli, sandbox, path).code == 0
    first_undo = (tmp_path / "edits.rollback.csv").read_bytes()
    replace_atomically(path, titles(2, prefix="Second"))
    second = apply(run_cli, sandbox, path)
    assert second.code == 0, second.err
    kept = sorted(tmp_path.glob("edits.*.rollback.csv"))
    assert len(kept) == 1 and kept[0].read_bytes() == first_undo
    assert {v: r["title"] for v, r in rollback_rows(kept[0]).items()} == originals
    now = rollback_rows(tmp_path / "edits.rollback.csv")
    assert {v: r["title"] for v, r in now.items()} == {
        video_id(i): f"First {i}" for i in range(2)}
    assert len(sorted(tmp_path.glob("edits.*.results.csv"))) == 1
    assert "kept" in second.out and kept[0].name in second.out


def test_saying_no_at_the_prompt_keeps_the_earlier_results(api, tmp_path):
    from bulkedit.client.transport import Credentials
    from bulkedit.run.runner import RunOptions, SheetRun

    sandbox = api()
    path = sheet(tmp_path, titles(4))
    results_path = tmp_path / "edits.results.csv"
    results_path.write_text("the earlier run's results\n")
    options = RunOptions(sheet=path, api_base=sandbox.base_url, rate=None,
                         results=results_path, rollback=tmp_path / "edits.rollback.csv")
    import asyncio

    run = SheetRun(options, Credentials(KEY.key, KEY.secret), confirm=lambda _plans: False)
    result = asyncio.run(run.run())
    assert result.cancelled and result.results_path is None
    assert results_path.read_text() == "the earlier run's results\n"
    assert sum(sandbox.counters.writes.values()) == 0


def _spawn(path: Path | str, base: str, *extra: str, stdin=None) -> subprocess.Popen[str]:
    env = {**os.environ, "DAILYMOTION_API_KEY": KEY.key, "DAILYMOTION_API_SECRET": KEY.secret}
    return subprocess.Popen(
        [sys.executable, "-m", "bulkedit", "apply", str(path), "--api-base", base, "--yes",
         "--rate", "0", "--concurrency", "2", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, stdin=stdin)


@pytest.mark.parametrize("then", ["fresh", "fixed sheet"])
def test_after_a_crash_the_undo_holds_the_originals(api, tmp_path, then):
    """Crash mid-run, then start over (--fresh, or a corrected sheet): the new rollback
    restores the values from before the crashed attempt's writes, for every video it
    touched, even those the new run leaves alone."""
    sandbox = api(latency=0.02)
    rows = 40
    originals = {video_id(i): sandbox.video(video_id(i))["title"] for i in range(rows)}
    path = sheet(tmp_path, titles(rows, prefix="Crashed"))
    reached = threading.Event()
    def hook(_video: str) -> None:
        if sum(sandbox.counters.writes.values()) >= 12:
            reached.set()

    sandbox.app.after_edit.append(hook)
    process = _spawn(path, sandbox.base_url)
    assert reached.wait(60), process.communicate()
    process.send_signal(signal.SIGKILL)
    process.wait()
    sandbox.app.after_edit.remove(hook)
    written = {v for v, n in sandbox.counters.writes.items() if n}
    assert 12 <= len(written) < rows
    if then == "fresh":
        again = _spawn(path, sandbox.base_url, "--fresh")
    else:  # the first half of the sheet, corrected
        replace_atomically(path, titles(rows // 2, prefix="Fixed"))
        again = _spawn(path, sandbox.base_url)
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, out + err
    undo = rollback_rows(tmp_path / "edits.rollback.csv")
    assert written <= set(undo)  # every video the crashed attempt wrote
    for video, row in undo.items():
        assert row["title"] == originals[video], video  # its value from before any write


# ----------------------------------------------------------------------------- a damaged journal

def _crash(sandbox, path: Path | str, after: int = 12, *extra: str, stdin=None) -> None:
    """Start an apply in its own process and SIGKILL it once `after` edits have landed."""
    reached = threading.Event()

    def hook(_video: str) -> None:
        if sum(sandbox.counters.writes.values()) >= after:
            reached.set()

    sandbox.app.after_edit.append(hook)
    process = _spawn(path, sandbox.base_url, *extra, stdin=stdin)
    assert reached.wait(60), process.communicate()
    process.send_signal(signal.SIGKILL)
    process.wait()
    sandbox.app.after_edit.remove(hook)


def _garble(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for offset in range(32, len(data), 97):  # past the header: every frame's checksum fails
        data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["wal deleted", "wal garbled", "journal emptied"])
def test_a_damaged_journal_is_refused_not_restarted(api, run_cli, tmp_path, state_dir,
                                                     damage):
    sandbox = api(latency=0.02)
    originals = {video_id(i): sandbox.video(video_id(i))["title"] for i in range(40)}
    path = sheet(tmp_path, titles(40, prefix="Crashed"))
    _crash(sandbox, path)
    wal = state_dir / "journal.sqlite-wal"
    assert wal.stat().st_size > 0  # a killed run leaves its last commits in the WAL
    if damage == "wal deleted":
        wal.unlink()
    elif damage == "wal garbled":
        _garble(wal)
    else:
        wal.unlink()
        (state_dir / "journal.sqlite").write_bytes(b"")
    writes = sum(sandbox.counters.writes.values())
    refused = apply(run_cli, sandbox, path)
    assert refused.code == 2, refused.out + refused.err
    said = refused.err
    assert "lost what it recorded" in said and "--fresh" in said
    # `report` is offered only while the run is still in the journal to report from.
    assert ("bulkedit report" in said) == ("is gone" not in said)
    assert sum(sandbox.counters.writes.values()) == writes  # nothing sent
    listed = run_cli("runs")
    assert "Damaged journal" in listed.out
    # The user chooses to start over: the run goes through, and the undo the crashed
    # attempt wrote before its first edit is kept beside, with every original value.
    fresh = apply(run_cli, sandbox, path, "--fresh")
    assert fresh.code == 0, fresh.out + fresh.err
    kept = sorted(tmp_path.glob("edits.*.rollback.csv"))
    assert len(kept) == 1
    assert {v: r["title"] for v, r in rollback_rows(kept[0]).items()} == originals
    assert run_cli("runs").out.count("Damaged journal") == 0


def test_an_unreadable_journal_is_refused_then_set_aside_by_fresh(api, run_cli, tmp_path,
                                                                  state_dir):
    sandbox = api()
    path = sheet(tmp_path, titles(3))
    assert apply(run_cli, sandbox, path).code == 0
    journal = state_dir / "journal.sqlite"
    journal.write_bytes(b"this is not a database at all" * 200)
    refused = apply(run_cli, sandbox, path)
    assert refused.code == 2 and "is damaged" in refused.err
    assert "--state-dir" not in refused.err  # a new folder would silently start over
    fresh = apply(run_cli, sandbox, path, "--fresh")
    assert fresh.code == 0, fresh.err
    assert "damaged run journal was moved to" in fresh.err  # a notice: on stderr
    assert len(list(state_dir.glob("journal.damaged-*.sqlite"))) == 1


def test_a_state_folder_that_is_a_file_is_one_line(api, run_cli, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, titles(2))
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    result = apply(run_cli, sandbox, path, "--state-dir", str(blocker))
    assert result.code == 2 and "is a file" in result.err and "Traceback" not in result.err
    assert sum(sandbox.counters.writes.values()) == 0


def test_runs_shows_a_killed_run_as_interrupted(api, run_cli, tmp_path):
    sandbox = api(latency=0.02)
    path = sheet(tmp_path, titles(40))
    _crash(sandbox, path)
    listed = run_cli("runs")
    assert listed.code == 0
    line = next(t for t in listed.out.splitlines() if "edits.csv" in t)
    assert "interrupted" in line and "running" not in line


# ----------------------------------------------------------------------------- the nightly batch

def _batch(run_cli, sandbox, inbox: Path, *extra: str):
    return run_cli("batch", str(inbox), "--api-base", sandbox.base_url, "--rate", "0",
                   "--log", str(inbox.parent / "night.jsonl"), *extra)


def _events(log: Path) -> list[dict]:
    import json

    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def test_batch_files_the_bytes_it_applied_and_leaves_a_newer_save(api, run_cli, tmp_path):
    sandbox = api()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    path = sheet(inbox, titles(30, prefix="Meant"), "night.csv")
    applied = path.read_bytes()
    saved_again = save_again_after(sandbox, path, 3, titles(30, prefix="Later"))
    night = _batch(run_cli, sandbox, inbox, "--concurrency", "2")
    sandbox.app.after_edit.clear()
    assert saved_again.is_set()
    assert night.code == 1, night.out + night.err  # told, not silent
    assert (inbox / "done" / "night.csv").read_bytes() == applied
    assert "Later 0" in path.read_text()  # the newer save waits in the inbox
    assert [sandbox.video(video_id(i))["title"] for i in range(30)] == [
        f"Meant {i}" for i in range(30)]
    said = [e for e in _events(tmp_path / "night.jsonl") if e["event"] == "sheet_saved_again"]
    assert len(said) == 1 and "stays in the inbox" in said[0]["error"]
    # The next night applies the newer version, all of it, and files it.
    second = _batch(run_cli, sandbox, inbox)
    assert second.code == 0, second.out + second.err
    assert sandbox.video(video_id(29))["title"] == "Later 29"
    filed = [p for p in (inbox / "done").glob("night*.csv")
             if ".results." not in p.name and ".rollback." not in p.name]
    assert sorted("Later 0" in p.read_text() for p in filed) == [False, True]
    assert (inbox / "done" / "night.csv").read_bytes() == applied  # never overwritten
    assert not path.exists()


def test_a_batch_folder_it_cannot_write_stops_the_night_before_any_send(api, run_cli,
                                                                         tmp_path):
    sandbox = api()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    sheet(inbox, titles(3), "night.csv")
    (inbox / "done").write_text("a file where the done folder should be")
    night = _batch(run_cli, sandbox, inbox)
    assert night.code == 2 and "done folder" in night.err and "Traceback" not in night.err
    assert sum(sandbox.counters.writes.values()) == 0
    assert (inbox / "night.csv").exists()


def _unshare_works() -> bool:
    try:
        return subprocess.run(["unshare", "-rm", "true"], capture_output=True,
                              timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.skipif(not _unshare_works(), reason="needs unshare -rm for a small tmpfs")
def test_a_full_disk_stops_the_night_cleanly_and_the_next_night_resumes(api, tmp_path):
    """The state folder on a 192 KB file system (a tmpfs in a mount namespace of the
    batch's own): the journal fills up mid-run. One line, exit 3, the event logged, the
    night's summary written elsewhere; with room again, the next night finishes the
    sheet without sending a confirmed row twice."""
    sandbox = api()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    wanted = {video_id(i): f"Night {i}" for i in range(150)}
    sheet(inbox, [{"video_id": v, "title": t} for v, t in wanted.items()], "night.csv")
    state, saved = tmp_path / "state-small", tmp_path / "state-saved"
    state.mkdir()
    saved.mkdir()
    env = {**os.environ, "DAILYMOTION_API_KEY": KEY.key, "DAILYMOTION_API_SECRET": KEY.secret}
    batch = [sys.executable, "-m", "bulkedit", "batch", str(inbox), "--api-base",
             sandbox.base_url, "--rate", "0", "--concurrency", "2", "--state-dir", str(state),
             "--log", str(tmp_path / "night.jsonl")]
    script = (f"mount -t tmpfs -o size=192k none {state} && {' '.join(batch)}; code=$?; "
              f"cp -a {state}/. {saved}/; exit $code")
    full = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True,
                          text=True, env=env, timeout=120)
    assert full.returncode == 3, full.stdout + full.stderr
    assert "disk is full" in full.stdout + full.stderr
    assert "Traceback" not in full.stdout + full.stderr
    events = _events(tmp_path / "night.jsonl")
    assert [e["event"] for e in events if e["event"] == "disk_problem"] == ["disk_problem"]
    assert events[-1]["event"] == "batch_done" and events[-1]["exit_code"] == 3
    assert events[-1]["summary_file"] and Path(events[-1]["summary_file"]).exists()
    sent_once = dict(sandbox.counters.writes)
    assert 0 < len(sent_once) < len(wanted)  # the disk filled mid-run
    subprocess.run(["cp", "-a", f"{saved}/.", f"{state}/"], check=True)  # room again
    again = subprocess.run(batch, capture_output=True, text=True, env=env, timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    assert {v: sandbox.video(v)["title"] for v in wanted} == wanted
    with sqlite3.connect(state / "journal.sqlite") as db:
        confirmed_before = {r[0] for r in db.execute(
            "SELECT video_id FROM rows WHERE state = 'done' AND run_id = "
            "(SELECT id FROM runs ORDER BY started LIMIT 1)")}
    assert confirmed_before
    for video in confirmed_before & set(sent_once):
        assert sandbox.counters.writes[video] == 1


# ----------------------------------------------------------------------------- outputs first

@pytest.mark.parametrize("flag", ["--results", "--rollback", "--summary-json"])
def test_apply_checks_every_output_before_sending(api, run_cli, tmp_path, flag):
    sandbox = api()
    path = sheet(tmp_path, titles(3))
    suffix = ".json" if flag == "--summary-json" else ".csv"
    result = apply(run_cli, sandbox, path, flag, str(tmp_path / "no" / "such" / f"out{suffix}"))
    assert result.code == 2, result.out + result.err
    assert str(tmp_path / "no" / "such") in result.err and result.err.count("\n") == 1
    assert sum(sandbox.counters.writes.values()) == 0
    assert sandbox.counters.statuses.get(200, 0) == 0 or not sandbox.counters.writes


def test_plan_validate_and_export_check_their_outputs_first(api, run_cli, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, titles(3))
    missing = tmp_path / "missing"
    plan = run_cli("plan", str(path), "--api-base", sandbox.base_url,
                   "--report", str(missing / "plan.xlsx"))
    assert plan.code == 2 and "diff report" in plan.err and "Traceback" not in plan.err
    saved = run_cli("plan", str(path), "--api-base", sandbox.base_url,
                    "--save", str(missing / "plan.json"))
    assert saved.code == 2 and "saved plan" in saved.err
    check = run_cli("validate", str(path), "--report", str(missing / "problems.csv"))
    assert check.code == 2 and "problem report" in check.err
    export = run_cli("export", "--api-base", sandbox.base_url, "--ids", str(path),
                     "-o", str(missing / "videos.csv"))
    assert export.code == 2 and "export" in export.err
    assert sum(sandbox.counters.writes.values()) == 0 and not missing.exists()


def test_an_export_that_fails_keeps_the_earlier_file(api, run_cli, tmp_path):
    sandbox = api()
    ids = sheet(tmp_path, titles(50), "ids.csv")
    target = tmp_path / "videos.csv"
    first = run_cli("export", "--api-base", sandbox.base_url, "--rate", "0", "--ids", str(ids),
                    "-o", str(target))
    assert first.code == 0, first.err
    good = target.read_bytes()
    # A port nothing listens on, on loopback: every read is refused.
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    failed = run_cli("export", "--api-base", closed, "--rate", "0", "--max-attempts", "1",
                     "--ids", str(ids), "-o", str(target))
    assert failed.code == 3, failed.out + failed.err
    assert "was left as it was" in failed.err
    assert target.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "state") == [
        "edits.csv", "ids.csv", "videos.csv"] or "videos.csv" in [p.name for p in
                                                                tmp_path.iterdir()]
    assert not list(tmp_path.glob(".videos.csv.*"))  # no temporary left behind


# ----------------------------------------------------------------------------- pipes

def test_a_sheet_from_standard_input(run_cli, tmp_path, monkeypatch):
    import io

    content = b"video_id,private\nx7zq1a,true\nx7zq1b,maybe\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(content)))
    result = run_cli("validate", "-")
    assert result.code == 1, result.out + result.err  # read, with one invalid row
    assert "stdin" in result.out and "maybe" in result.out


def test_a_sheet_from_a_fifo_and_from_process_substitution(tmp_path):
    """Read once: a pipe cannot be opened twice (the second open used to hang or fail)."""
    bad = "video_id,private\nx7zq1a,true\nx7zq1b,maybe\n"
    fifo = tmp_path / "sheet.csv"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_text(bad))
    writer.start()
    through_fifo = subprocess.run([sys.executable, "-m", "bulkedit", "validate", str(fifo)],
                                  capture_output=True, text=True, timeout=60)
    writer.join()
    assert through_fifo.returncode == 1, through_fifo.stdout + through_fifo.stderr
    assert "maybe" in through_fifo.stdout
    source = tmp_path / "real.csv"
    source.write_text(bad)
    bulkedit = f"{sys.executable} -m bulkedit validate"
    for command in (f"{bulkedit} /dev/stdin < {source}", f"{bulkedit} <(cat {source})",
                    f"cat {source} | {bulkedit} -"):
        done = subprocess.run(["bash", "-c", command], capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 1, (command, done.stdout + done.stderr)
        assert "Traceback" not in done.stderr and "maybe" in done.stdout


def test_a_sheet_still_being_written_is_not_pinned(tmp_path, monkeypatch):
    """A writer appending while the sheet is read (an upload in progress): refused, so a
    half-copied sheet is never taken for a whole one."""
    path = tmp_path / "uploading.csv"
    path.write_bytes(b"video_id,title\n" + b"x7zq1a,One\n" * 300_000)  # several reads
    appended = grow_while_read(monkeypatch, path, b"x7zq1b,Two\n")
    with pytest.raises(LoadError, match="changed while it was being read"):
        pin_sheet(path, tmp_path / "pins")
    assert appended


def test_copies_of_long_finished_runs_are_pruned_unfinished_ones_kept(api, run_cli, tmp_path,
                                                                      state_dir):
    from bulkedit.run.journal import KEEP_DAYS, Journal

    sandbox = api(latency=0.02)
    done = sheet(tmp_path, titles(3), "done.csv")
    assert apply(run_cli, sandbox, done).code == 0
    crashed = sheet(tmp_path, titles(40, start=50), "crashed.csv")
    _crash(sandbox, crashed)
    pins = sorted((state_dir / "sheets").iterdir())
    seals = sorted((state_dir / "seals").iterdir())
    assert len(pins) == 2 and len(seals) == 2
    journal = Journal(state_dir)
    try:
        journal.prune(now=time.time() + 1)  # nothing is old yet
        assert sorted((state_dir / "sheets").iterdir()) == pins
        later = time.time() + (KEEP_DAYS + 1) * 86400
        for pin in pins:  # the copies were made long ago, as far as prune can tell
            os.utime(pin, (later - (KEEP_DAYS + 2) * 86400,) * 2)
        journal.prune(now=later)
    finally:
        journal.close()
    digest = hashlib.sha256(crashed.read_bytes()).hexdigest()
    assert [p.name for p in (state_dir / "sheets").iterdir()] == [f"{digest}.csv"]
    assert len(list((state_dir / "seals").iterdir())) == 1  # the unfinished run's


# ----------------------------------------------------------------------------- review findings

def test_a_resumed_run_still_keeps_another_runs_undo(api, tmp_path):
    """Stopped while reading (before its own rollback), then resumed: the earlier run's
    undo at that path is not this run's to replace."""
    import asyncio

    from bulkedit.client.transport import Credentials
    from bulkedit.run.runner import RunOptions, SheetRun

    sandbox = api()
    path = sheet(tmp_path, titles(4, prefix="First"))
    undo = tmp_path / "edits.rollback.csv"

    def options() -> RunOptions:
        return RunOptions(sheet=path, api_base=sandbox.base_url, rate=None,
                          results=tmp_path / "edits.results.csv", rollback=undo)

    credentials = Credentials(KEY.key, KEY.secret)
    asyncio.run(SheetRun(options(), credentials).run())
    first_undo = undo.read_bytes()
    replace_atomically(path, titles(4, prefix="Second"))
    stopping: list[SheetRun] = []

    def stop_while_reading(phase: str, *_counts: int) -> None:
        if phase == "read":
            stopping[0].stop()

    stopping.append(SheetRun(options(), credentials, stop_while_reading))
    stopped = asyncio.run(stopping[0].run())
    assert stopped.interrupted and sum(sandbox.counters.writes.values()) == 4
    resumed_run = SheetRun(options(), credentials)
    resumed = asyncio.run(resumed_run.run())
    assert resumed_run.resumed is not None and resumed.counts() == {"updated": 4}
    kept = sorted(tmp_path.glob("edits.*.rollback.csv"))
    assert [k.read_bytes() for k in kept] == [first_undo]
    assert {r["title"] for r in rollback_rows(undo).values()} == {f"First {i}" for i in range(4)}


def test_after_two_crashes_the_undo_holds_the_first_attempts_originals(api, tmp_path):
    sandbox = api(latency=0.02)
    rows = 60
    originals = {video_id(i): sandbox.video(video_id(i))["title"] for i in range(rows)}
    path = sheet(tmp_path, titles(rows, prefix="Crashed"))
    _crash(sandbox, path, 10)
    first = {v for v, n in sandbox.counters.writes.items() if n}
    replace_atomically(path, titles(rows, start=0, prefix="Again"))
    _crash(sandbox, path, len(first) + 10)
    last = _spawn(path, sandbox.base_url, "--fresh")
    out, err = last.communicate(timeout=120)
    assert last.returncode == 0, out + err
    undo = rollback_rows(tmp_path / "edits.rollback.csv")
    assert first <= set(undo)
    assert {v: undo[v]["title"] for v in undo} == {v: originals[v] for v in undo}


@pytest.mark.parametrize("collision", ["summary is the sheet", "rollback is the sheet",
                                       "results is the rollback", "results is the sheet",
                                       "summary is not json", "name too long"])
def test_outputs_that_collide_are_refused_before_sending(api, run_cli, tmp_path, collision):
    sandbox = api()
    path = sheet(tmp_path, titles(3))
    before = path.read_bytes()
    extra = {"summary is the sheet": ["--summary-json", str(path)],
             "rollback is the sheet": ["--rollback", str(path)],
             "results is the rollback": ["--results", str(tmp_path / "same.csv"),
                                         "--rollback", str(tmp_path / "same.csv")],
             "results is the sheet": ["--results", str(tmp_path / "." / "edits.csv")],
             "summary is not json": ["--summary-json", str(tmp_path / "summary.csv")],
             "name too long": ["--results", str(tmp_path / ("r" * 234 + ".csv"))]}[collision]
    result = apply(run_cli, sandbox, path, *extra)
    assert result.code == 2, result.out + result.err
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    assert sum(sandbox.counters.writes.values()) == 0
    assert path.read_bytes() == before


def test_plan_and_report_refuse_to_overwrite_the_sheet_or_each_other(api, run_cli, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, titles(3))
    before = path.read_bytes()
    plan = run_cli("plan", str(path), "--api-base", sandbox.base_url, "--save", str(path))
    assert plan.code == 2 and "overwrite the sheet" in plan.err
    assert apply(run_cli, sandbox, path).code == 0
    run_id = next(t.split()[0] for t in run_cli("runs").out.splitlines() if "edits.csv" in t)
    same = tmp_path / "x.csv"
    report = run_cli("report", run_id, "--results", str(same), "--rollback", str(same))
    assert report.code == 2 and "same file" in report.err
    assert path.read_bytes() == before


def test_two_different_sheets_on_standard_input_are_two_sheets(api, tmp_path):
    """A crashed run of one piped sheet is not taken over by the next, different one."""
    sandbox = api(latency=0.02)
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    sheet(tmp_path, titles(60, prefix="A"), "a.csv")
    sheet(tmp_path, titles(3, start=100, prefix="B"), "b.csv")
    with first.open() as stdin:
        _crash(sandbox, "-", 10, "--rollback", str(tmp_path / "a.rollback.csv"),
               stdin=stdin)
    with second.open() as stdin:
        done = _spawn("-", sandbox.base_url, "--rollback", str(tmp_path / "b.rollback.csv"),
                      "--results", str(tmp_path / "b.results.csv"), stdin=stdin)
        out, err = done.communicate(timeout=60)
    assert done.returncode == 0, out + err
    assert set(rollback_rows(tmp_path / "b.rollback.csv")) == {video_id(i)
                                                               for i in range(100, 103)}


def test_batch_files_every_output_of_sheets_whose_names_collide(api, run_cli, tmp_path):
    sandbox = api()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    names = ["a.csv", "a.CSV", "a.Csv", "a.cSv"]
    for number, name in enumerate(names):
        sheet(inbox, [{"video_id": video_id(number), "title": f"T{number}"}], name)
    (inbox / "done").mkdir()
    (inbox / "done" / "a.results.csv").write_text("an earlier night's\n")
    night = _batch(run_cli, sandbox, inbox)
    assert night.code == 0, night.out + night.err
    done = [p.name for p in (inbox / "done").iterdir()]
    assert sum(".results." in n for n in done) == len(names) + 1
    assert sum(".rollback." in n for n in done) == len(names)
    assert (inbox / "done" / "a.results.csv").read_text() == "an earlier night's\n"


def test_batch_applies_a_rollback_sheet_a_user_drops_in(api, run_cli, tmp_path):
    sandbox = api()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    sheet(inbox, [{"video_id": video_id(0), "title": "Undone"}], "jan.rollback.csv")
    night = _batch(run_cli, sandbox, inbox)
    assert night.code == 0, night.out + night.err
    assert sandbox.video(video_id(0))["title"] == "Undone"
    assert (inbox / "done" / "jan.rollback.csv").exists()


def test_a_sheet_a_killed_night_left_half_filed_is_applied_next_night(api, run_cli, tmp_path):
    sandbox = api()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    sheet(inbox, [{"video_id": video_id(0), "title": "Recovered"}], ".night.csv.filing")
    night = _batch(run_cli, sandbox, inbox)
    assert night.code == 0, night.out + night.err
    assert sandbox.video(video_id(0))["title"] == "Recovered"
    assert "sheet_recovered" in {e["event"] for e in _events(tmp_path / "night.jsonl")}


def test_ctrl_c_at_the_prompt_sends_nothing_and_exits_130(api, tmp_path):
    import pty

    sandbox = api()
    path = sheet(tmp_path, titles(5))
    env = {**os.environ, "DAILYMOTION_API_KEY": KEY.key, "DAILYMOTION_API_SECRET": KEY.secret}
    pid, terminal = pty.fork()
    if pid == 0:  # the child: bulkedit on a terminal, so it asks
        os.execve(sys.executable, [sys.executable, "-m", "bulkedit", "apply", str(path),
                                   "--api-base", sandbox.base_url, "--rate", "0"], env)
    seen = b""
    while b"[y/N]" not in seen:
        chunk = os.read(terminal, 1024)
        assert chunk, seen
        seen += chunk
    os.kill(pid, signal.SIGINT)
    # Should the prompt ignore the signal, the test fails instead of waiting for ever.
    guard = threading.Timer(30, lambda: os.kill(pid, signal.SIGKILL))
    guard.start()
    _, status = os.waitpid(pid, 0)
    guard.cancel()
    os.close(terminal)
    assert os.waitstatus_to_exitcode(status) == 130
    assert sum(sandbox.counters.writes.values()) == 0


def test_a_journal_that_lost_some_rows_of_a_run_still_there_is_refused(tmp_path):
    """The run is still in the journal but some of its settled rows are gone (commits
    lost with a WAL the main file had only partly taken in): the seal says so."""
    from bulkedit.core.outcomes import Outcome, Status
    from bulkedit.run.journal import Journal, JournalDamaged, record_of

    folder = tmp_path / "state"
    journal = Journal(folder)
    run = journal.start_run("/sheets/edits.csv", "d1", {})
    rows = [record_of(p, Outcome(p + 2, f"x{p}", Status.UPDATED), "final", None)
            for p in range(5)]
    journal.record_rows(run.id, rows)
    journal.check("/sheets/edits.csv")  # whole: nothing to say
    journal.close()
    with sqlite3.connect(folder / "journal.sqlite") as db:
        db.execute("DELETE FROM rows WHERE position >= 3")
    reopened = Journal(folder)
    try:
        with pytest.raises(JournalDamaged, match="recorded 5 rows, 5 of them settled; it "
                                                 "now holds 3, 3 settled"):
            reopened.check("/sheets/edits.csv")
    finally:
        reopened.close()
