"""SIGKILL in the middle of an apply of a sheet whose rows go to three accounts (issue 30,
point 4), against the sandbox on loopback: killed from inside the sandbox's handler of an
edit once every account has written, the same command then finishes each account's rows:
every row right, no video written twice, the results and rollback sheets whole."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

from conftest import results
from test_accounts_run import BRANDS, NAMES, mixed, three  # noqa: F401 (the fixture)

from bulkedit.sandbox.store import video_id


def _kill_once_every_account_wrote(sandbox, path, config) -> None:
    """Start the apply in its own process and SIGKILL it from inside the sandbox's handler
    of the first edit after which each of the three keys has written at least twice. One
    request in flight per account (`--concurrency 1`)."""
    killed = threading.Event()
    running: list[subprocess.Popen[str]] = []

    def hook(_video: str) -> None:
        by_key = sandbox.counters.writes_by_key
        if not killed.is_set() and all(sum(by_key.get(b.key, {}).values()) >= 2
                                       for b in BRANDS):
            running[0].send_signal(9)
            running[0].wait()
            killed.set()

    sandbox.app.after_edit.append(hook)
    running.append(subprocess.Popen(
        [sys.executable, "-m", "bulkedit", "apply", str(path), "--config", str(config),
         "--api-base", sandbox.base_url, "--yes", "--concurrency", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ)))
    try:
        assert killed.wait(120), running[0].communicate()
    finally:
        sandbox.app.after_edit.remove(hook)


def test_a_killed_mixed_apply_is_finished_by_the_same_command_nothing_twice(
        three, run_cli, tmp_path):  # noqa: F811
    sandbox, config = three
    settings = config(rate=0)
    path = mixed(tmp_path, 20)  # 60 rows, 20 per account
    before = {video_id(i): sandbox.video(video_id(i))["title"] for i in range(60)}
    _kill_once_every_account_wrote(sandbox, path, settings)
    landed = sum(sandbox.counters.writes.values())
    assert 6 <= landed < 60
    again = run_cli("apply", str(path), "--config", str(settings), "--api-base",
                    sandbox.base_url, "--yes")
    assert again.code == 0, again.out + again.err
    # Every video written once, each through its own account's key; none refused.
    assert dict(sandbox.counters.writes) == {video_id(i): 1 for i in range(60)}
    for n, brand in enumerate(BRANDS):
        assert {v for v, c in sandbox.counters.writes_by_key[brand.key].items() if c} == {
            video_id(i) for i in range(60) if i % 3 == n}
    assert sum(sandbox.counters.not_owner_by_key.values()) == 0
    for i in range(60):
        assert sandbox.video(video_id(i))["title"] == f"Mixed {i}"
    # The results: every row, updated, its #account as the sheet says it (brand1's blank:
    # default_account routes them).
    rows = results(tmp_path / "edits.results.csv")
    assert len(rows) == 60 and {row["#status"] for row in rows} == {"updated"}
    assert [row["#account"] for row in rows] == [NAMES[i % 3] if i % 3 else ""
                                                 for i in range(60)]
    # The rollback sheet has every row (those the killed process wrote too), each with
    # the account that changed it, and applying it restores every title.
    rollback = results(tmp_path / "edits.rollback.csv")
    assert sorted(row["video_id"] for row in rollback) == sorted(video_id(i)
                                                                 for i in range(60))
    assert {row["video_id"]: row["#account"] for row in rollback} == {
        video_id(i): NAMES[i % 3] for i in range(60)}
    runs = json.loads(run_cli("runs", "--json").out)["runs"]
    assert sorted(run["account"] for run in runs) == sorted(NAMES)
    assert {run["state"] for run in runs} == {"finished"}
    undone = run_cli("apply", str(tmp_path / "edits.rollback.csv"), "--config",
                     str(settings), "--api-base", sandbox.base_url, "--yes")
    assert undone.code == 0, undone.out + undone.err
    assert {v: sandbox.video(v)["title"] for v in before} == before
    assert sum(sandbox.counters.not_owner_by_key.values()) == 0
