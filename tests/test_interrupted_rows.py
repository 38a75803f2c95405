"""A row whose retries Ctrl-C cut short is not sent, not failed (issue 26, point 9): the
API had throttled it (or not answered), so it is the next attempt's to send; the same
command sends it."""

from __future__ import annotations

import os
import signal

from conftest import apply, results, sheet, titles

from bulkedit.sandbox.store import video_id


def test_a_row_waiting_to_retry_when_stopped_is_not_sent(api, run_cli, tmp_path):
    sandbox = api(throttle_rate=0.5, fault_seed=7)
    path = sheet(tmp_path, titles(40, prefix="Stopped"))
    stopped = []

    def ctrl_c(_video: str) -> None:  # once a row waits on a Retry-After
        if not stopped and sandbox.counters.faults["throttle"] >= 1:
            stopped.append(True)
            os.kill(os.getpid(), signal.SIGINT)

    sandbox.app.after_edit.append(ctrl_c)
    first = apply(run_cli, sandbox, path, "--concurrency", "4")
    sandbox.app.after_edit.remove(ctrl_c)
    assert stopped and first.code == 130, first.out + first.err
    rows = results(tmp_path / "edits.results.csv")
    statuses = {r["#status"] for r in rows}
    assert "failed" not in statuses, [r for r in rows if r["#status"] == "failed"]
    assert "skipped" in statuses
    assert all(r["#error"].startswith("not sent") for r in rows if r["#status"] == "skipped")
    sandbox.app.config.throttle_rate = 0.0  # the API has calmed down
    again = apply(run_cli, sandbox, path, "--concurrency", "4")
    assert again.code == 0, again.out + again.err
    assert [sandbox.video(video_id(i))["title"] for i in range(40)] == [
        f"Stopped {i}" for i in range(40)]
