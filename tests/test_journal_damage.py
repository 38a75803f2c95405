"""A run's seal is evidence too (issue 26, point 5): a seal that is garbled, or missing
while the journal holds its run, is damage — exit 2, the damage message, nothing sent —
never a reason to start a new run that reports the killed attempt's rows `unchanged`
and leaves them out of its rollback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import KEY, apply, sheet, titles


def _crash(sandbox, path: Path, after: int = 12) -> None:
    """Start an apply in its own process and SIGKILL it while the sandbox holds its
    `after`-th edit: one request in flight at a time (`--concurrency 1`), killed from inside
    the sandbox's handler of that edit, so no write of the dead process can land after this
    returns and the count the test reads next is final."""
    killed = threading.Event()
    running: list[subprocess.Popen[str]] = []

    def hook(_video: str) -> None:
        if not killed.is_set() and sum(sandbox.counters.writes.values()) >= after:
            running[0].send_signal(signal.SIGKILL)
            running[0].wait()
            killed.set()

    env = {**os.environ, "DAILYMOTION_API_KEY": KEY.key, "DAILYMOTION_API_SECRET": KEY.secret}
    running.append(subprocess.Popen(
        [sys.executable, "-m", "bulkedit", "apply", str(path), "--api-base", sandbox.base_url,
         "--yes", "--rate", "0", "--concurrency", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
    sandbox.app.after_edit.append(hook)
    try:
        assert killed.wait(60), running[0].communicate()
    finally:
        sandbox.app.after_edit.remove(hook)


def _garble_byte(path: Path, where: str) -> None:
    data = bytearray(path.read_bytes())
    counts, _, rest = bytes(data).partition(b"\n")
    offset = 5 if where == "counts" else len(counts) + 1 + len(rest) // 2
    data[offset] = ord("#") if data[offset] != ord("#") else ord("%")
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["garbled count, wal deleted", "garbled sheet, wal deleted",
                                    "seal deleted", "garbled count"])
def test_a_damaged_seal_is_damage_never_a_silent_restart(api, run_cli, tmp_path, state_dir,
                                                         damage):
    sandbox = api(latency=0.02)
    path = sheet(tmp_path, titles(40, prefix="Crashed"))
    _crash(sandbox, path)
    (seal,) = (state_dir / "seals").iterdir()
    if damage == "seal deleted":
        seal.unlink()
    else:
        _garble_byte(seal, "counts" if "count" in damage else "sheet")
    if "wal deleted" in damage:
        (state_dir / "journal.sqlite-wal").unlink()
    writes = sum(sandbox.counters.writes.values())
    refused = apply(run_cli, sandbox, path)
    assert refused.code == 2, refused.out + refused.err
    assert "lost what it recorded" in refused.err and "--fresh" in refused.err
    assert "seal" in refused.err
    assert sum(sandbox.counters.writes.values()) == writes  # nothing sent
    # --fresh is the way on, as for any other damage, and it goes through.
    fresh = apply(run_cli, sandbox, path, "--fresh")
    assert fresh.code == 0, fresh.out + fresh.err
    assert apply(run_cli, sandbox, path).code == 0


def test_a_run_that_never_recorded_a_row_needs_no_seal(tmp_path):
    """Killed between starting its run and journaling its plan: nothing was sent, so no
    seal was written, and that is not damage."""
    from bulkedit.run.journal import Journal

    journal = Journal(tmp_path / "state")
    journal.start_run("/sheets/edits.csv", "d1", {})
    journal.close()
    reopened = Journal(tmp_path / "state")
    try:
        reopened.check("/sheets/edits.csv")
    finally:
        reopened.close()


def _journal_failing_its_check(folder: Path) -> None:
    """A journal SQLite opens, whose pages fail its integrity check (bytes flipped in the
    last pages, as a failing disk leaves them)."""
    from bulkedit.core.outcomes import Outcome, Status
    from bulkedit.run.journal import Journal, record_of

    journal = Journal(folder)
    run = journal.start_run("/sheets/edits.csv", "d1", {})
    journal.record_rows(run.id, [record_of(p, Outcome(p + 2, f"x{p:06d}", Status.UPDATED),
                                           "final", None) for p in range(3000)])
    journal.close()
    path = folder / "journal.sqlite"
    data = bytearray(path.read_bytes())
    for offset in range(len(data) - 3 * 4096 + 200, len(data) - 100, 7):
        data[offset] ^= 0x55
    path.write_bytes(bytes(data))


def test_a_journal_failing_its_integrity_check_is_one_line(api, run_cli, tmp_path,
                                                           state_dir, monkeypatch):
    sandbox = api()
    path = sheet(tmp_path, titles(3))
    _journal_failing_its_check(state_dir)
    monkeypatch.delenv("BULKEDIT_DEBUG", raising=False)
    refused = apply(run_cli, sandbox, path)
    assert refused.code == 2, refused.out + refused.err
    assert refused.err.count("\n") == 1, refused.err  # one line, SQLite's report is not
    assert "SQLite's integrity check found it damaged" in refused.err
    assert "--fresh" in refused.err and "page" not in refused.err.lower()
    monkeypatch.setenv("BULKEDIT_DEBUG", "1")
    debugged = apply(run_cli, sandbox, path)
    assert debugged.code == 2
    assert "bulkedit: debug: SQLite's integrity check" in debugged.err
    assert "page" in debugged.err.lower()  # what SQLite said, page by page
    assert sum(sandbox.counters.writes.values()) == 0
