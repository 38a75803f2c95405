"""Outputs that stay findable (issue 29, point 7): an earlier run's results and rollback
sheets are kept aside under the id of the run that wrote them, matched by the project's
.gitignore; the first rollback of a sheet (the values from before any run) is kept as
NAME.first.rollback.EXT; every summary says where the undo is, a resumed one too; and
`bulkedit runs` says where each run's rollback sheet is now."""

from __future__ import annotations

import csv
import fnmatch
import json
from pathlib import Path

from conftest import apply, sheet, titles

from bulkedit.sandbox.store import video_id

ROOT = Path(__file__).resolve().parent.parent
IGNORED = [line.strip() for line in (ROOT / ".gitignore").read_text().splitlines()
           if line.strip() and not line.startswith("#")]


def titles_in(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {row["video_id"]: row["title"] for row in csv.DictReader(handle)}


def runs(run_cli) -> list[dict]:
    listed = run_cli("runs", "--json")
    assert listed.code == 0, listed.err
    return json.loads(listed.out)["runs"]


def three_runs(run_cli, sandbox, tmp_path: Path, monkeypatch) -> tuple[Path, list[str]]:
    monkeypatch.chdir(tmp_path)
    for night in range(3):  # each run changes the titles again
        path = sheet(tmp_path, titles(3, prefix=f"Night {night}"))
        result = apply(run_cli, sandbox, path)
        assert result.code == 0, result.out + result.err
    return path, [run["run"] for run in runs(run_cli)]


def test_earlier_outputs_are_named_by_their_run_and_matched_by_gitignore(
        api, run_cli, tmp_path, monkeypatch):
    sandbox = api()
    path, ids = three_runs(run_cli, sandbox, tmp_path, monkeypatch)
    first, second, _third = ids
    names = sorted(p.name for p in tmp_path.glob("edits.*"))
    assert names == sorted([f"edits.{first}.results.csv", f"edits.{second}.results.csv",
                            f"edits.{second}.rollback.csv", "edits.csv",
                            "edits.first.rollback.csv", "edits.results.csv",
                            "edits.rollback.csv"])
    for name in names:
        if name != path.name:
            assert any(fnmatch.fnmatch(name, pattern) for pattern in IGNORED), name


def test_the_first_rollback_holds_the_values_from_before_any_run(api, run_cli, tmp_path,
                                                                 monkeypatch):
    sandbox = api()
    before = {video_id(i): sandbox.video(video_id(i))["title"] for i in range(3)}
    first_apply = None
    monkeypatch.chdir(tmp_path)
    for night in range(4):
        path = sheet(tmp_path, titles(3, prefix=f"Night {night}"))
        result = apply(run_cli, sandbox, path)
        assert result.code == 0
        if night == 1:
            first_apply = result
    assert first_apply is not None
    assert ("The first rollback sheet of this sheet (the values from before any run) is "
            f"kept as {tmp_path / 'edits.first.rollback.csv'}") in first_apply.out
    assert titles_in(tmp_path / "edits.first.rollback.csv") == before
    assert titles_in(tmp_path / "edits.rollback.csv") == {
        video_id(i): f"Night 2 {i}" for i in range(3)}


def test_runs_says_where_each_rollback_is_now(api, run_cli, tmp_path, monkeypatch):
    sandbox = api()
    _path, ids = three_runs(run_cli, sandbox, tmp_path, monkeypatch)
    listed = runs(run_cli)
    assert [Path(run["rollback"]).name for run in listed] == [
        "edits.first.rollback.csv", f"edits.{ids[1]}.rollback.csv", "edits.rollback.csv"]
    assert [Path(run["results"]).name for run in listed] == [
        f"edits.{ids[0]}.results.csv", f"edits.{ids[1]}.results.csv", "edits.results.csv"]
    assert all(run["rollback_exists"] for run in listed)
    table = run_cli("runs")
    assert table.out.splitlines()[0].split() == ["run", "state", "started", "rows", "sheet",
                                                 "rollback"]
    assert table.out.splitlines()[2].endswith("/edits.first.rollback.csv")
    (tmp_path / "edits.rollback.csv").unlink()
    assert runs(run_cli)[2]["rollback_exists"] is False
    assert run_cli("runs").out.splitlines()[4].endswith("edits.rollback.csv (gone)")


def test_a_resumed_run_says_where_its_rollback_is(api, run_cli, tmp_path, monkeypatch):
    """The writes all went through, the read-back failed; the resumed run sends nothing
    (every row reads as sent), and still says where the undo its first attempt wrote is."""
    sandbox = api()
    monkeypatch.chdir(tmp_path)
    path = sheet(tmp_path, titles(5))

    def fail_after_the_writes(_video: str) -> None:
        if sum(sandbox.counters.writes.values()) == 5:
            sandbox.app.config.fail_rate = 1.0  # every request now answers 5xx

    sandbox.app.after_edit.append(fail_after_the_writes)
    first = apply(run_cli, sandbox, path, "--concurrency", "1", "--max-attempts", "2",
                  "--backoff", "0.01")
    assert first.code == 3, first.out + first.err
    undo = tmp_path / "edits.rollback.csv"
    assert f"Rollback: {undo} (apply it to undo this run)" in first.out
    sandbox.app.after_edit.clear()
    sandbox.app.config.fail_rate = 0.0
    summary = tmp_path / "summary.json"
    again = apply(run_cli, sandbox, path, "--summary-json", str(summary))
    assert again.code == 0 and "Resuming run" in again.err, again.out + again.err
    assert sum(sandbox.counters.writes.values()) == 5  # nothing sent again
    assert f"Results: {tmp_path / 'edits.results.csv'}\n" in again.out
    assert f"Rollback: {undo} (apply it to undo this run)\n" in again.out
    assert json.loads(summary.read_text())["rollback"] == str(undo)


def test_a_run_that_changes_nothing_says_there_is_nothing_to_undo(api, run_cli, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, [{"video_id": video_id(0),
                             "title": sandbox.video(video_id(0))["title"]}])
    result = apply(run_cli, sandbox, path)
    assert result.code == 0
    assert ("Rollback: none (this run changed no video, so there is nothing to undo)\n"
            in result.out)
