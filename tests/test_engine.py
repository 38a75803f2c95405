"""The run owns its outputs: whoever calls it (the CLI, the nightly job, Python), the
rollback sheet exists before the first write, and the results and summary after (issue 12)."""

from __future__ import annotations

import asyncio
import json

from conftest import KEY, results, sheet, titles

from bulkedit.client.transport import Credentials
from bulkedit.core.errors import ExitCode
from bulkedit.core.outcomes import Status
from bulkedit.run.runner import RunOptions, SheetRun


def test_a_python_caller_gets_every_output_without_writing_any(api, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, titles(5))
    rollback, results_path = tmp_path / "undo.csv", tmp_path / "done.csv"
    summary = tmp_path / "summary.json"
    seen_at_first_write: list[bool] = []
    sandbox.app.after_edit.append(
        lambda _video: seen_at_first_write.append(rollback.exists()))
    options = RunOptions(sheet=path, rate=None, api_base=sandbox.base_url, results=results_path,
                         rollback=rollback, summary_json=summary, state_dir=tmp_path / "state")
    result = asyncio.run(SheetRun(options, Credentials(KEY.key, KEY.secret)).run())
    assert result.exit_code is ExitCode.OK and seen_at_first_write[0] is True
    assert [r["#status"] for r in results(results_path)] == [Status.UPDATED] * 5
    assert len(results(rollback)) == 5
    facts = json.loads(summary.read_text(encoding="utf-8"))
    assert facts["results"] == str(results_path) and facts["rollback"] == str(rollback)
    assert facts["exit_code"] == 0 and facts["counts"] == {"updated": 5}


def test_a_dry_run_estimates_the_apply_and_writes_nothing(api, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, titles(150))
    options = RunOptions(sheet=path, send=False, rate=20, batch_size=100,
                         api_base=sandbox.base_url, results=tmp_path / "r.csv")
    result = asyncio.run(SheetRun(options, Credentials(KEY.key, KEY.secret)).run())
    estimate = result.estimate(options.batch_size, options.rate)
    assert (estimate.reads, estimate.writes, estimate.calls) == (2, 150, 152)
    assert round(estimate.seconds or 0, 1) == round(152 / 19, 1)  # 20/s less 5 %
    assert sum(sandbox.counters.writes.values()) == 0
    assert [r["#status"] for r in results(tmp_path / "r.csv")] == [Status.SKIPPED] * 150
