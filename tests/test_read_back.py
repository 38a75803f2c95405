"""`updated` means read back as sent, on every path; the journal is the one truth of it.

Against a key that may not set thumbnails, the sandbox answers 200 to a `thumbnail_url`
edit and keeps the old one, as Dailymotion documents: the only way to know is to read it
back. Each test drives a real front end (the CLI, the nightly batch, the Python API) or
the engine against the sandbox on loopback.
"""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import apply, results, sheet, titles

import bulkedit
from bulkedit.client.transport import Credentials
from bulkedit.core.errors import ErrorClass, TransientError
from bulkedit.core.outcomes import Status, read_back_verdict
from bulkedit.core.planning import FieldDiff, RowPlan, RowStatus
from bulkedit.core.types import UNKNOWN
from bulkedit.run.options import run_options
from bulkedit.run.runner import SheetRun
from bulkedit.sandbox import ApiKey
from bulkedit.sandbox.store import video_id

THUMBLESS = ApiKey("thumbless", "thumbless-secret")  # may not set thumbnail_url


def thumbnail_rows() -> list[dict[str, str]]:
    return [{"video_id": video_id(1), "title": "Fine", "thumbnail_url": ""},
            {"video_id": video_id(2), "title": "Also changed",
             "thumbnail_url": "https://example.com/t.jpg"},
            {"video_id": video_id(3), "title": "Fine too", "thumbnail_url": ""}]


@pytest.fixture
def thumbless(api, monkeypatch):
    sandbox = api(keys=(THUMBLESS,))
    monkeypatch.setenv("DAILYMOTION_API_KEY", THUMBLESS.key)
    monkeypatch.setenv("DAILYMOTION_API_SECRET", THUMBLESS.secret)
    return sandbox


def journal_rows(state_dir: Path) -> list[tuple[int, str, str, str]]:
    with sqlite3.connect(state_dir / "journal.sqlite") as db:
        return list(db.execute("SELECT row, state, status, error_class FROM rows "
                               "ORDER BY run_id, position"))


# ----------------------------------------------------------------------------- every path

def _by_cli(run_cli, sandbox, path: Path) -> tuple[int, list[str]]:
    result = apply(run_cli, sandbox, path)
    return result.code, [r["#status"] for r in results(path.with_name("edits.results.csv"))]


def _by_batch(run_cli, sandbox, path: Path) -> tuple[int, list[str]]:
    inbox = path.parent / "inbox"
    inbox.mkdir()
    path.rename(inbox / path.name)
    result = run_cli("batch", str(inbox), "--api-base", sandbox.base_url, "--rate", "0")
    return result.code, [r["#status"] for r in results(inbox / "failed" / "edits.results.csv")]


def _by_python(run_cli, sandbox, path: Path) -> tuple[int, list[str]]:
    done = bulkedit.apply(path, api_base=sandbox.base_url,
                          credentials=(THUMBLESS.key, THUMBLESS.secret),
                          limits=bulkedit.ApiLimits(rate=0))
    return done.exit_code, [o.status.value for o in done.result.outcomes]


@pytest.mark.parametrize("front", [_by_cli, _by_batch, _by_python],
                         ids=["cli", "batch", "python"])
def test_a_silently_ignored_field_is_never_updated_on_any_path(front, run_cli, thumbless,
                                                               tmp_path):
    path = sheet(tmp_path, thumbnail_rows())
    code, statuses = front(run_cli, thumbless, path)
    assert code == 1
    assert statuses == ["updated", "failed", "updated"]
    assert thumbless.counters.requests["list_videos"] == 2  # the plan's read, one read-back


def test_the_ignored_row_says_what_was_applied_and_what_was_not(run_cli, thumbless,
                                                                tmp_path):
    path = sheet(tmp_path, thumbnail_rows())
    result = apply(run_cli, thumbless, path)
    row = results(tmp_path / "edits.results.csv")[1]
    assert row["#error_class"] == "ignored"
    assert row["#error"] == ("the API accepted the change but did not apply it: "
                             "thumbnail_url (it still reads as before; a permission may be "
                             "missing); applied: title")
    assert "Read back: 2 of 3 written rows read back as sent (1 call); 1 not applied by the " \
           "API (failed)" in result.out


def test_read_back_is_batched(run_cli, api, tmp_path):
    sandbox = api(videos=300)
    result = apply(run_cli, sandbox, sheet(tmp_path, titles(250)), "--summary-json",
                   str(tmp_path / "s.json"))
    assert result.code == 0
    assert sandbox.counters.requests["list_videos"] == 3 + 3  # 100 ids a call, twice
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["read_back"] == {"on": True, "as_sent": 250, "not_as_sent": 0,
                                    "not_read_back": 0, "cannot_be_read_back": 0, "calls": 3}
    assert summary["counts"] == {"updated": 250}


def test_no_verify_leaves_rows_sent_and_says_so(run_cli, thumbless, tmp_path):
    path = sheet(tmp_path, thumbnail_rows())
    result = apply(run_cli, thumbless, path, "--no-verify", "--summary-json",
                   str(tmp_path / "s.json"))
    assert result.code == 0  # every row's status is true: sent, not known to be applied
    assert [r["#status"] for r in results(tmp_path / "edits.results.csv")] == ["sent"] * 3
    assert "Read back: off (--no-verify, or verify = false): 3 rows were accepted by the " \
           "API but not read back, so they are 'sent', not 'updated'" in result.out
    assert json.loads((tmp_path / "s.json").read_text())["read_back"]["on"] is False
    assert thumbless.counters.requests["list_videos"] == 1  # no read-back


def test_a_field_that_cannot_be_read_back_is_not_updated(run_cli, api, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, [{"video_id": video_id(1), "title": "Locked", "password": "pw1"},
                            {"video_id": video_id(2), "title": "Open", "password": ""}])
    result = apply(run_cli, sandbox, path)
    assert result.code == 0
    rows = results(tmp_path / "edits.results.csv")
    assert [r["#status"] for r in rows] == ["sent", "updated"]
    assert rows[0]["#error"] == "sent; not read back: password (the API never returns it)"
    assert "pw1" not in result.out + (tmp_path / "edits.results.csv").read_text()


def test_a_field_the_api_will_not_read_is_sent_not_updated(run_cli, api, tmp_path):
    sandbox = api(unreadable_fields=("soundtrack_isrc",))
    path = sheet(tmp_path, [{"video_id": video_id(1), "soundtrack_isrc": "FRZ039800212"}])
    assert apply(run_cli, sandbox, path).code == 0
    row = results(tmp_path / "edits.results.csv")[0]
    assert (row["#status"], row["#error"]) == (
        "sent", "sent; not read back: soundtrack_isrc (the API would not read it); warning: "
        "soundtrack_isrc: soundtrack_isrc: live value unknown (the API would not read it); "
        "sent as asked, and no rollback sheet can restore it")


# ----------------------------------------------------------------------------- the journal

def test_report_and_runs_agree_with_a_failed_read_back(run_cli, thumbless, tmp_path,
                                                       state_dir):
    path = sheet(tmp_path, thumbnail_rows())
    first = apply(run_cli, thumbless, path, "--summary-json", str(tmp_path / "s.json"))
    assert first.code == 1
    shown = results(tmp_path / "edits.results.csv")
    assert journal_rows(state_dir) == [(2, "done", "updated", ""),
                                       (3, "failed", "failed", "ignored"),
                                       (4, "done", "updated", "")]
    run_id = json.loads((tmp_path / "s.json").read_text())["run"]
    again = run_cli("report", run_id, "--results", str(tmp_path / "again.csv"),
                    "--rollback", str(tmp_path / "undo.csv"))
    assert again.code == 0 and "1 failed, 2 updated" in again.out
    assert results(tmp_path / "again.csv") == shown
    assert "1 failed, 2 updated" in run_cli("runs").out


# ----------------------------------------------------------------------------- the canary

def test_a_canary_stop_stays_stopped_until_no_canary(run_cli, thumbless, tmp_path,
                                                     state_dir):
    rows = [{"video_id": video_id(i), "title": f"Retitled {i}"} for i in range(1, 9)]
    rows[4]["thumbnail_url"] = "https://example.com/t.jpg"  # the canary tries each field set
    path = sheet(tmp_path, rows)
    summary = tmp_path / "s.json"
    first = apply(run_cli, thumbless, path, "--canary", "2", "--summary-json", str(summary))
    assert first.code == 3
    reason = next(line for line in first.out.splitlines() if line.startswith("Stopped early"))
    assert "row 6: the API accepted the change but did not apply it: thumbnail_url" in reason
    assert sum(thumbless.counters.writes.values()) == 2
    canary = {r["video_id"]: (r["#status"], r["#error"]) for r in
              results(tmp_path / "edits.results.csv") if r["#status"] != "skipped"}
    assert canary == {
        video_id(1): ("updated", "canary row: sent first and read back as sent"),
        video_id(5): ("failed", "canary row: the API accepted the change but did not apply "
                      "it: thumbnail_url (it still reads as before; a permission may be "
                      "missing); applied: title")}
    facts = json.loads(summary.read_text())
    assert facts["canary_stop"] is True
    report = run_cli("report", facts["run"], "--results", str(tmp_path / "r.csv"),
                     "--rollback", str(tmp_path / "u.csv"))
    assert "1 failed, 6 skipped, 1 updated" in report.out

    second = apply(run_cli, thumbless, path, "--canary", "2")
    assert second.code == 3
    assert reason in second.out.splitlines()
    assert "The canary stopped run" in second.err  # a notice: on stderr
    assert sum(thumbless.counters.writes.values()) == 2  # nothing more was sent
    assert thumbless.counters.requests["list_videos"] == 2  # nor read

    third = apply(run_cli, thumbless, path, "--no-canary")
    assert third.code == 1 and "Resuming run" in third.err
    statuses = [r["#status"] for r in results(tmp_path / "edits.results.csv")]
    assert statuses == ["updated"] * 4 + ["failed"] + ["updated"] * 3
    assert thumbless.counters.writes[video_id(1)] == 1  # the canary row is not sent again


# ----------------------------------------------------------------------------- resume

def _stopping_after_writes(path: Path, sandbox, writes: int, **choices) -> SheetRun:
    """A run that stops (as Ctrl-C does) once `writes` rows have been answered."""
    options = run_options(sheet=path, api_base=sandbox.base_url, rate=0,
                          results=path.with_name("edits.results.csv"), **choices)
    run: SheetRun

    def progress(phase: str, done: int, total: int, failures: int) -> None:
        if phase == "write" and done >= writes:
            run.stop()

    run = SheetRun(options, Credentials(*sandbox.key), progress)
    return run


def test_a_resumed_run_reads_back_the_rows_it_had_not(api, tmp_path, run_cli):
    sandbox = api()
    path = sheet(tmp_path, titles(12))
    first = asyncio.run(_stopping_after_writes(path, sandbox, 12, concurrency=1).run())
    assert first.interrupted
    assert {o.status.value for o in first.outcomes} == {"sent"}  # written, not read back
    resumed = apply(run_cli, sandbox, path)
    assert resumed.code == 0 and "Resuming run" in resumed.err
    assert [r["#status"] for r in results(tmp_path / "edits.results.csv")] == ["updated"] * 12
    assert set(sandbox.counters.writes.values()) == {1}  # read back, not sent again


def test_a_resumed_run_with_rows_done_before_reads_back_the_new_ones(api, tmp_path, run_cli):
    sandbox = api()
    path = sheet(tmp_path, titles(30))
    # The canary's rows are read back and done; the run stops among the others.
    first = asyncio.run(_stopping_after_writes(path, sandbox, 10, concurrency=1,
                                               canary=3).run())
    assert first.interrupted
    assert [o.status.value for o in first.outcomes].count("updated") == 3
    resumed = apply(run_cli, sandbox, path, "--summary-json", str(tmp_path / "s.json"))
    assert resumed.code == 0, resumed.out + resumed.err
    assert [r["#status"] for r in results(tmp_path / "edits.results.csv")] == ["updated"] * 30
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["read_back"]["as_sent"] == 30 and summary["exit_code"] == 0
    assert sum(sandbox.counters.writes.values()) == 30


# ----------------------------------------------------------------------------- the verdict, pure

def written(*diffs: tuple[str, object, object]) -> RowPlan:
    return RowPlan(2, "x1", RowStatus.CHANGE, tuple(FieldDiff(*d) for d in diffs))


TITLE = ("title", "Old", "New")


@pytest.mark.parametrize("plan,live,error,asked,unreadable,verdict", [
    (written(TITLE), {"title": " New "}, None, True, (),
     (Status.UPDATED, ErrorClass.NONE, "")),
    (written(("tags", ("a",), ("b", "c"))), {"tags": ["c", "b", "c"]}, None, True, (),
     (Status.UPDATED, ErrorClass.NONE, "")),  # compared as planning compares
    (written(TITLE, ("thumbnail_url", "http://a.example/1.jpg", "http://a.example/2.jpg")),
     {"title": "New", "thumbnail_url": "http://a.example/1.jpg"}, None, True, (),
     (Status.FAILED, ErrorClass.IGNORED, "the API accepted the change but did not apply it: "
      "thumbnail_url (it still reads as before; a permission may be missing); applied: "
      "title")),
    (written(TITLE), {"title": "Someone else's"}, None, True, (),
     (Status.FAILED, ErrorClass.IGNORED, "the API accepted the change but did not apply it: "
      "title (read back otherwise; a permission may be missing)")),
    (written(TITLE, ("private", False, True)), {"title": "Old", "private": False}, None,
     True, (), (Status.FAILED, ErrorClass.IGNORED, "the API accepted the change but did not "
                "apply it: title, private (they still read as before; a permission may be "
                "missing)")),
    (written(("password", None, "pw")), None, None, False, (),
     (Status.SENT, ErrorClass.UNREADABLE, "sent; not read back: password (the API never returns "
      "it)")),
    (written(TITLE, ("soundtrack_isrc", UNKNOWN, "FRZ039800212")), {"title": "New"}, None,
     True, ("soundtrack_isrc",),
     (Status.SENT, ErrorClass.UNREADABLE, "sent; not read back: soundtrack_isrc (the API would not "
      "read it)")),
    (written(("soundtrack_isrc", UNKNOWN, "FRZ039800212")), None, None, False,
     ("soundtrack_isrc",),
     (Status.SENT, ErrorClass.UNREADABLE, "sent; not read back: soundtrack_isrc (the API would not "
      "read it)")),
    (written(TITLE), {"title": UNKNOWN}, None, True, (),
     (Status.SENT, ErrorClass.UNREADABLE, "sent; not read back: title (the API would not read "
      "it)")),
    (written(TITLE), None, TransientError("service unavailable", status=503), True, (),
     (Status.SENT, ErrorClass.NONE, "sent and accepted, not read back yet (service "
      "unavailable)")),  # no error class: read again when the run resumes
    (written(TITLE), None, None, True, (),
     (Status.SENT, ErrorClass.UNREADABLE, "sent and accepted, but the video could not be "
      "read back (not found)")),
    (written(TITLE, ("password", None, "pw")), {"title": "Old"}, None, True, (),
     (Status.FAILED, ErrorClass.IGNORED, "the API accepted the change but did not apply it: "
      "title (it still reads as before; a permission may be missing)")),  # failed wins
])
def test_a_written_rows_verdict(plan, live, error, asked, unreadable, verdict):
    assert read_back_verdict(plan, live, error, asked, unreadable) == verdict


# ----------------------------------------------------------------------------- found in review

def test_written_rows_not_read_again_keep_their_state_and_their_undo(api, tmp_path, run_cli):
    """Written, then stopped before the read-back; the next attempt stops after its first
    read batch: the rows it did not read are still written (not final), still in the
    rollback, and the attempt after that reads them back."""
    sandbox = api()
    path = sheet(tmp_path, titles(6))
    before = {video_id(i): sandbox.video(video_id(i))["title"] for i in range(6)}
    first = asyncio.run(_stopping_after_writes(path, sandbox, 6, concurrency=1).run())
    assert first.interrupted

    options = run_options(sheet=path, api_base=sandbox.base_url, rate=0, batch_size=2,
                          concurrency=1, results=path.with_name("edits.results.csv"))
    run: SheetRun

    def stop_after_one_read(phase: str, done: int, total: int, failures: int) -> None:
        if phase == "read" and done >= 2:
            run.stop()

    run = SheetRun(options, Credentials(*sandbox.key), stop_after_one_read)
    second = asyncio.run(run.run())
    assert second.interrupted
    assert [o.status.value for o in second.outcomes] == ["updated"] * 2 + ["sent"] * 4
    states = [state for _, state, _, _ in journal_rows(tmp_path / "state")]
    assert states == ["done"] * 2 + ["written"] * 4

    third = apply(run_cli, sandbox, path, "--summary-json", str(tmp_path / "s.json"))
    assert third.code == 0, third.out + third.err
    assert [r["#status"] for r in results(tmp_path / "edits.results.csv")] == ["updated"] * 6
    assert set(sandbox.counters.writes.values()) == {1}  # read back, never sent again
    run_id = json.loads((tmp_path / "s.json").read_text())["run"]
    assert run_cli("report", run_id, "--rollback", str(tmp_path / "undo.csv"), "--results",
                   str(tmp_path / "r.csv")).code == 0
    undo = {r["video_id"]: r["title"] for r in results(tmp_path / "undo.csv")}
    assert undo == before  # every video this run changed, with its title from before


def test_a_read_back_that_fails_is_resumed_not_called_sent(api, tmp_path, run_cli):
    sandbox = api()
    path = sheet(tmp_path, titles(5))
    options = run_options(sheet=path, api_base=sandbox.base_url, rate=0, max_attempts=2,
                          backoff=0.01, results=path.with_name("edits.results.csv"))

    def fail_reads_after_the_writes(phase: str, done: int, total: int, failures: int) -> None:
        if phase == "write" and done == total == 5:
            sandbox.app.config.fail_rate = 1.0  # every request now answers 5xx

    first = asyncio.run(SheetRun(options, Credentials(*sandbox.key),
                                 fail_reads_after_the_writes).run())
    assert first.exit_code == 3 and "could not be read back" in (first.aborted or "")
    assert {o.status.value for o in first.outcomes} == {"sent"}
    assert all("not read back yet" in o.error for o in first.outcomes)
    assert {state for _, state, _, _ in journal_rows(tmp_path / "state")} == {"written"}

    sandbox.app.config.fail_rate = 0.0
    again = apply(run_cli, sandbox, path)
    assert again.code == 0 and "Resuming run" in again.err
    assert [r["#status"] for r in results(tmp_path / "edits.results.csv")] == ["updated"] * 5
    assert set(sandbox.counters.writes.values()) == {1}


def test_rows_a_no_verify_attempt_sent_are_read_back_when_resumed_with_read_back(
        api, tmp_path, run_cli):
    sandbox = api()
    path = sheet(tmp_path, titles(8))
    first = asyncio.run(_stopping_after_writes(path, sandbox, 4, concurrency=1,
                                               verify=False).run())
    assert first.interrupted
    assert [o.status.value for o in first.outcomes].count("sent") >= 4
    resumed = apply(run_cli, sandbox, path, "--summary-json", str(tmp_path / "s.json"))
    assert resumed.code == 0, resumed.out + resumed.err
    assert [r["#status"] for r in results(tmp_path / "edits.results.csv")] == ["updated"] * 8
    assert json.loads((tmp_path / "s.json").read_text())["read_back"]["as_sent"] == 8
    assert set(sandbox.counters.writes.values()) == {1}


def test_report_of_a_killed_run_says_it_was_interrupted(api, tmp_path, run_cli, state_dir):
    sandbox = api()
    path = sheet(tmp_path, titles(4))
    first = asyncio.run(_stopping_after_writes(path, sandbox, 4, concurrency=1).run())
    assert first.interrupted
    with sqlite3.connect(state_dir / "journal.sqlite") as db:  # as a SIGKILL leaves it
        db.execute("UPDATE runs SET state = 'running', summary = NULL")
        run_id = db.execute("SELECT id FROM runs").fetchone()[0]
    report = run_cli("report", run_id, "--summary-json", str(tmp_path / "r.json"),
                     "--results", str(tmp_path / "r.csv"), "--rollback",
                     str(tmp_path / "u.csv"))
    assert report.code == 0, report.out + report.err
    summary = json.loads((tmp_path / "r.json").read_text())
    assert summary["interrupted"] is True and summary["exit_code"] == 130
    assert summary["counts"] == {"sent": 4}
    listed = run_cli("runs").out
    assert "interrupted" in listed and "4 sent" in listed  # counted from the rows


def test_a_canary_stop_holds_against_the_sandbox_without_the_flag(run_cli, thumbless,
                                                                  tmp_path):
    rows = [{"video_id": video_id(i), "title": f"Retitled {i}"} for i in range(1, 5)]
    rows[0]["thumbnail_url"] = "https://example.com/t.jpg"
    path = sheet(tmp_path, rows)
    assert apply(run_cli, thumbless, path, "--canary", "1").code == 3
    again = apply(run_cli, thumbless, path)  # no --canary: the sandbox's default is none
    assert again.code == 3 and "The canary stopped run" in again.err
    assert sum(thumbless.counters.writes.values()) == 1


def test_a_cleared_password_is_sent_and_not_called_updated(api, run_cli, tmp_path):
    sandbox = api()
    locked = sheet(tmp_path, [{"video_id": video_id(1), "password": "pw-1"}], "lock.csv")
    assert apply(run_cli, sandbox, locked).code == 0
    assert sandbox.video(video_id(1))["password_protected"] is True
    again = apply(run_cli, sandbox, locked)  # the API never returns it: sent again
    assert again.code == 0 and sandbox.counters.writes[video_id(1)] == 2
    cleared = sheet(tmp_path, [{"video_id": video_id(1), "password": "[]"}], "open.csv")
    result = apply(run_cli, sandbox, cleared)
    assert result.code == 0
    assert sandbox.video(video_id(1))["password_protected"] is False
    row = results(tmp_path / "open.results.csv")[0]
    assert (row["#status"], row["#error_class"]) == ("sent", "unreadable")


# ----------------------------------------------------------------------------- found trying it

class LostOutput(io.StringIO):
    """Standard output whose reader went away (`| true`), or a full disk (`> /dev/full`)."""

    def __init__(self, error: OSError):
        super().__init__()
        self.error = error

    def write(self, text: str) -> int:
        raise self.error


@pytest.mark.parametrize("error", [BrokenPipeError(32, "Broken pipe"),
                                   OSError(28, "No space left on device")],
                         ids=["closed pipe", "full disk"])
def test_output_that_cannot_be_written_never_changes_the_exit_code(thumbless, tmp_path,
                                                                   error):
    from bulkedit.cli.main import main

    path = sheet(tmp_path, thumbnail_rows())
    err = io.StringIO()
    code = main(["apply", str(path), "--api-base", thumbless.base_url, "--yes", "--rate",
                 "0"], out=LostOutput(error), err=err)
    assert code == 1  # a row failed: never 0 because the output went nowhere
    assert "the output could not be written" in err.getvalue() and "exit code 1" in \
        err.getvalue()
    saved = tmp_path / "p.json"
    plan = main(["plan", str(path), "--api-base", thumbless.base_url, "--save", str(saved)],
                out=LostOutput(error), err=io.StringIO())
    assert plan == 0 and saved.exists()  # saved, though nothing could be printed


def test_a_resume_with_other_sheet_options_is_refused(api, tmp_path, run_cli):
    sandbox = api()
    path = sheet(tmp_path, [{"video_id": video_id(i), "publish_date": "2027-03-01 12:00"}
                            for i in range(6)])
    first = asyncio.run(_stopping_after_writes(path, sandbox, 3, concurrency=1,
                                               timezone="Asia/Tokyo").run())
    assert first.interrupted
    writes = sum(sandbox.counters.writes.values())
    other = apply(run_cli, sandbox, path, "--timezone", "UTC")
    assert other.code == 2
    assert "--timezone UTC contradicts run" in other.err
    assert "which was started with --timezone Asia/Tokyo" in other.err
    assert sum(sandbox.counters.writes.values()) == writes  # nothing sent
    same = apply(run_cli, sandbox, path, "--timezone", "Asia/Tokyo")
    assert same.code == 0 and "Resuming run" in same.err
    tokyo = int(datetime(2027, 3, 1, 12, tzinfo=ZoneInfo("Asia/Tokyo")).timestamp())
    assert {sandbox.video(video_id(i))["publish_date"] for i in range(6)} == {tokyo}


def test_report_says_the_calls_the_run_made(run_cli, api, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, titles(3))
    assert apply(run_cli, sandbox, path, "--summary-json", str(tmp_path / "s.json")).code == 0
    run = json.loads((tmp_path / "s.json").read_text())
    assert run_cli("report", run["run"], "--summary-json", str(tmp_path / "r.json"),
                   "--results", str(tmp_path / "r.csv"), "--rollback",
                   str(tmp_path / "u.csv")).code == 0
    report = json.loads((tmp_path / "r.json").read_text())
    for key in ("api_calls", "read_back", "counts", "exit_code"):
        assert report[key] == run[key], key


def test_a_plan_whose_read_did_not_finish_is_not_saved(run_cli, api, tmp_path):
    sandbox = api(fail_rate=1.0)
    saved = tmp_path / "p.json"
    result = run_cli("plan", str(sheet(tmp_path, titles(8))), "--api-base", sandbox.base_url,
                     "--rate", "0", "--batch-size", "1", "--max-attempts", "1",
                     "--concurrency", "1", "--save", str(saved))
    assert result.code == 3 and "Plan not saved" in result.out
    assert not saved.exists()


@pytest.mark.parametrize("edit,expected", [
    (lambda p: p["rows"]["2"]["live"].update(publish_date="tomorrow"), "conflict"),
    (lambda p: p["options"].update(skip_invalid="no"), "refused"),
    (lambda p: p["options"].update(timezone=9), "refused"),
    (lambda p: p["rows"]["2"].update(form={"title": 5}), "refused"),
])
def test_a_hand_edited_plan_is_refused_or_a_conflict_never_an_internal_error(
        run_cli, api, tmp_path, edit, expected):
    sandbox = api()
    path = sheet(tmp_path, [{**row, "publish_date": "2027-03-01T12:00:00Z"}
                            for row in titles(2)])
    saved = tmp_path / "p.json"
    assert run_cli("plan", str(path), "--api-base", sandbox.base_url, "--save",
                   str(saved)).code == 0
    payload = json.loads(saved.read_text())
    edit(payload)
    saved.write_text(json.dumps(payload), encoding="utf-8")
    result = apply(run_cli, sandbox, path, "--plan", str(saved))
    if expected == "refused":
        assert result.code == 2 and "not a plan saved by" in result.err
        assert sum(sandbox.counters.writes.values()) == 0
    else:
        assert result.code == 1
        assert results(tmp_path / "edits.results.csv")[0]["#status"] == "conflict"


def test_sandbox_and_api_base_together_are_refused(run_cli, api, tmp_path):
    sandbox = api()
    result = run_cli("apply", str(sheet(tmp_path, titles(1))), "--sandbox", "--api-base",
                     sandbox.base_url, "--yes")
    assert result.code == 2 and "--sandbox and --api-base" in result.err
    assert sum(sandbox.counters.requests.values()) == 0


def test_a_stop_after_every_row_was_read_back_leaves_nothing_to_resume(api, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, titles(4))
    options = run_options(sheet=path, api_base=sandbox.base_url, rate=0)
    run: SheetRun

    def stop_at_the_end(phase: str, done: int, total: int, failures: int) -> None:
        if phase == "read back" and done == total:
            run.stop()

    run = SheetRun(options, Credentials(*sandbox.key), stop_at_the_end)
    result = asyncio.run(run.run())
    assert not result.interrupted and result.exit_code == 0
    assert result.counts() == {"updated": 4}


def test_rows_written_before_a_stop_say_they_were_not_read_back(api, tmp_path):
    """A stop between the writes and their read-back (Ctrl-C, or a field the API refuses
    on another row) leaves the rows `sent`, each saying why and how to read it back."""
    sandbox = api()
    path = sheet(tmp_path, titles(3))
    options = run_options(sheet=path, api_base=sandbox.base_url, rate=0)
    run: SheetRun
    phases: list[tuple[str, int, int]] = []

    def stop_after_the_writes(phase: str, done: int, total: int, failures: int) -> None:
        phases.append((phase, done, total))
        if phase == "write" and done == total:
            run.stop()

    run = SheetRun(options, Credentials(*sandbox.key), stop_after_the_writes)
    result = asyncio.run(run.run())
    assert result.interrupted and result.exit_code != 0
    assert [o.status for o in result.outcomes] == [Status.SENT] * 3
    for outcome in result.outcomes:
        assert "not read back yet (the run was interrupted first)" in outcome.error
        assert "run the same command again" in outcome.error
    assert ("read back", 3, 3) not in phases  # nothing claims a read-back that was not made
