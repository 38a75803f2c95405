"""--quiet, --verbose and --no-progress on every command (issue 29, point 4): one choice,
part of the run's options; progress and notices on stderr only."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from conftest import apply, results, sheet, titles

from bulkedit.cli.main import build_parser
from bulkedit.core.errors import UsageError
from bulkedit.core.verbosity import Verbosity
from bulkedit.run.options import run_options

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


def _commands() -> dict[str, argparse.ArgumentParser]:
    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("no subcommands")


def test_every_command_has_quiet_verbose_and_no_progress():
    for name, parser in _commands().items():
        flags = {o for a in parser._actions for o in a.option_strings}
        assert {"--quiet", "-q", "--verbose", "-v", "--no-progress"} <= flags, name


def test_quiet_and_verbose_together_are_refused(run_cli):
    result = run_cli("validate", str(SAMPLES / "edits.csv"), "--quiet", "--verbose")
    assert result.code == 2 and result.out == ""
    assert "not allowed with argument" in result.err


def test_the_run_options_carry_the_verbosity():
    assert run_options(verbosity=Verbosity(quiet=True)).verbosity == Verbosity(quiet=True)
    assert run_options().verbosity == Verbosity()
    assert run_options(offline=True, verbosity=Verbosity(progress=False)).verbosity.progress \
        is False
    with pytest.raises(UsageError, match="--quiet and --verbose"):
        Verbosity(quiet=True, verbose=True)


# ----------------------------------------------------------------------------- quiet

def test_quiet_validate_of_a_valid_sheet_says_nothing(run_cli):
    result = run_cli("validate", str(SAMPLES / "edits.csv"), "--quiet")
    assert (result.code, result.out, result.err) == (0, "", "")


def test_quiet_validate_of_a_broken_sheet_says_only_the_errors(run_cli):
    result = run_cli("validate", str(SAMPLES / "broken.csv"), "-q", "--max-shown", "100")
    assert result.code == 1 and result.out == ""
    assert "titel" in result.err and "did you mean 'title'" in result.err
    assert "warning:" not in result.err  # only errors
    assert "15 rows" not in result.err  # no summary


def test_quiet_apply_says_nothing_when_all_went_well(run_cli, api, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, titles(5))
    result = apply(run_cli, sandbox, path, "--quiet")
    assert (result.code, result.out, result.err) == (0, "", "")
    assert {r["#status"] for r in results(tmp_path / "edits.results.csv")} == {"updated"}


def test_quiet_apply_says_the_failed_rows_on_stderr(run_cli, api, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, [*titles(2), {"video_id": "xgone", "title": "missing"}])
    result = apply(run_cli, sandbox, path, "--quiet")
    assert result.code == 1 and result.out == ""
    assert "xgone" in result.err
    assert "read:" not in result.err and "write:" not in result.err  # no progress
    assert "Results:" not in result.err  # no summary


def test_quiet_template_says_nothing(run_cli, tmp_path):
    result = run_cli("template", "-o", str(tmp_path / "t.csv"), "--quiet")
    assert (result.code, result.out, result.err) == (0, "", "")
    assert (tmp_path / "t.csv").exists()


def test_quiet_keeps_the_data_asked_for(run_cli):
    result = run_cli("validate", str(SAMPLES / "broken.csv"), "--json", "--quiet")
    assert result.code == 1 and result.out.startswith("{") and result.err == ""


# ----------------------------------------------------------------------------- progress

def test_no_progress_drops_the_progress_lines_and_keeps_the_summary(run_cli, api, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, titles(5))
    shown = apply(run_cli, sandbox, path, "--fresh")
    assert "write: 5/5 (100%)" in shown.err  # the progress a run shows without the flag
    result = apply(run_cli, sandbox, path, "--fresh", "--no-progress")
    assert result.code == 0, result.err
    assert "read:" not in result.err and "write:" not in result.err
    assert "5 rows in" in result.out and "Results: " in result.out


# ----------------------------------------------------------------------------- verbose

def test_verbose_tells_each_retry_as_it_happens(run_cli, api, tmp_path):
    sandbox = api(fail_rate=0.3, fault_seed=3)
    path = sheet(tmp_path, titles(20))
    quiet = apply(run_cli, sandbox, path, "--backoff", "0.01", "--max-attempts", "8")
    assert quiet.code == 0, quiet.err
    assert sandbox.counters.faults  # there were retries, and without --verbose no word
    assert "attempt 2 of" not in quiet.err + quiet.out
    result = apply(run_cli, sandbox, path, "--fresh", "--verbose", "--backoff", "0.01",
                   "--max-attempts", "8")
    assert result.code == 0, result.err
    told = [line for line in result.err.splitlines() if line.startswith("bulkedit: POST ")
            or line.startswith("bulkedit: GET ")]
    assert any("attempt 2 of 8 in" in line for line in told)
    # The request and the answer, never a token: the method and the path.
    assert all("/rest/video" in line for line in told)
    assert "Bearer" not in result.err and "access_token" not in result.err
    assert "attempt 2 of" not in result.out  # on stderr only


def test_verbose_tells_each_throttled_answer(run_cli, api, tmp_path):
    sandbox = api(throttle_rate=0.3, fault_seed=5, retry_after_header=False)
    path = sheet(tmp_path, titles(20))
    result = apply(run_cli, sandbox, path, "-v", "--backoff", "0.01")
    assert result.code == 0, result.err
    assert sandbox.counters.rate_limited > 0
    assert any(line.startswith("bulkedit: ") and "throttled; again" in line
               for line in result.err.splitlines())


def test_quiet_batch_tells_only_the_events_that_went_wrong(run_cli, api, tmp_path):
    sandbox = api()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    sheet(inbox, titles(2), "a-good.csv")
    sheet(inbox, [{"video_id": "X1", "title": "bad id"}], "b-broken.csv")
    log = tmp_path / "night.jsonl"
    result = run_cli("batch", str(inbox), "--api-base", sandbox.base_url, "--rate", "0",
                     "--log", str(log), "--quiet")
    assert result.code == 2 and result.out == ""
    told = [line.split()[1] for line in result.err.splitlines()]  # time=… event=…
    assert told == ["event=sheet_invalid", "event=batch_done"]  # with exit code 2
    logged = [json.loads(line)["event"] for line in log.read_text().splitlines()]
    assert "sheet_done" in logged and "batch_start" in logged  # the log keeps every event


def test_verbose_batch_tells_each_retry(run_cli, api, tmp_path):
    sandbox = api(fail_rate=0.3, fault_seed=3)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    sheet(inbox, titles(20), "a.csv")
    result = run_cli("batch", str(inbox), "--api-base", sandbox.base_url, "--rate", "0",
                     "--log", str(tmp_path / "night.jsonl"), "--verbose")
    assert result.code == 0, result.err
    assert sandbox.counters.faults
    assert any(line.startswith("bulkedit: ") and "attempt 2 of" in line
               for line in result.err.splitlines())
    assert "attempt 2 of" not in result.out
