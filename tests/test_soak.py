"""A short fault soak: every fault at once, and every row still ends updated."""

from __future__ import annotations

import json

from conftest import apply, results, sheet, titles

from bulkedit.sandbox.store import video_id

EDITS = 300


def test_short_soak(run_cli, api, tmp_path):
    sandbox = api(videos=EDITS, fail_rate=0.10, throttle_rate=0.05, timeout_rate=0.02,
                  drop_rate=0.01, hold_seconds=2, token_lifetime=1, retry_after_header=False,
                  latency=0.005)
    summary = tmp_path / "soak.json"
    result = apply(run_cli, sandbox, sheet(tmp_path, titles(EDITS)), "--concurrency", "16",
                   "--timeout", "0.3", "--max-attempts", "12", "--backoff", "0.02",
                   "--summary-json", str(summary))
    assert result.code == 0, result.out
    faults = sandbox.counters.faults
    assert faults["fail"] and faults["throttle"] and faults["timeout"] and faults["drop"]
    assert sandbox.counters.tokens_issued >= 2  # the token expired during the run
    rows = results(tmp_path / "edits.results.csv")
    assert {r["#status"] for r in rows} == {"updated"}
    attempts = {r["video_id"]: int(r["#attempts"]) for r in rows}
    assert max(attempts.values()) <= 12  # retries stay bounded
    for i in range(EDITS):
        vid = video_id(i)
        assert sandbox.video(vid)["title"] == f"New title {i}"
        # A video is written at most once per attempt the client made for it.
        assert 1 <= sandbox.counters.writes[vid] <= attempts[vid]
    facts = json.loads(summary.read_text())
    calls = facts["api_calls"]
    assert calls["writes"] == sum(attempts.values())
    # 3 read batches, and 3 to read the writes back.
    assert facts["retries"] == calls["reads"] + calls["writes"] - (EDITS + 3 + 3)
