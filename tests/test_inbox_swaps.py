"""The inbox is shared ground (issue 26, points 8 and 9): a sheet swapped for a link or a
pipe between the listing's check and the open is refused on the open file (O_NOFOLLOW,
O_NONBLOCK, fstat); a hard link is refused like a symbolic link, even with
--trust-inbox; a problems report is private; an inbox every user may write without the
sticky bit is said."""

from __future__ import annotations

import json
import os
import threading

import pytest
from conftest import sheet, titles

from bulkedit.core.errors import LoadError
from bulkedit.sheets import files


def _night(run_cli, sandbox, inbox, *extra):
    return run_cli("batch", str(inbox), "--api-base", sandbox.base_url, "--rate", "0",
                   "--log", str(inbox.parent / "night.jsonl"), *extra)


def _events(inbox):
    return [json.loads(line) for line in
            (inbox.parent / "night.jsonl").read_text().splitlines()]


@pytest.fixture
def swap(monkeypatch):
    """Swap the inbox sheet for something else at the last moment before it is opened."""
    def install(replace):
        def hook(name: str) -> None:
            os.unlink(name)
            replace(name)

        monkeypatch.setattr(files, "BEFORE_INBOX_OPEN", [hook])

    return install


def test_a_sheet_swapped_for_a_link_after_the_check_is_never_followed(tmp_path, swap):
    """The night listed the sheet (a regular file of the user's), then it became a link
    to another private file of the user's: were the link followed, every check made on
    the open file would pass."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    path = sheet(inbox, titles(2), "edits.csv")
    elsewhere = sheet(tmp_path, titles(3, prefix="Not meant"), "elsewhere.csv")
    elsewhere.chmod(0o600)
    swap(lambda name: os.symlink(elsewhere, name))
    with pytest.raises(LoadError, match="a symbolic link"):
        files.pin_sheet(path, tmp_path / "pins", from_inbox=True)
    assert not list((tmp_path / "pins").iterdir())  # nothing of it copied


def test_a_sheet_swapped_for_a_pipe_after_the_check_is_never_waited_on(tmp_path, swap):
    """A pipe no one writes: opened without O_NONBLOCK, the open would wait forever. If it
    does wait, the test ends it by opening the pipe's other end, and fails."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    path = sheet(inbox, titles(2), "edits.csv")
    swap(os.mkfifo)
    done = threading.Event()
    raised: list[BaseException] = []

    def pin() -> None:
        try:
            files.pin_sheet(path, tmp_path / "pins", from_inbox=True)
        except BaseException as error:  # the test looks at it below
            raised.append(error)
        done.set()

    worker = threading.Thread(target=pin)
    worker.start()
    waited = not done.wait(60)  # a guard against a hang, not a timing
    if waited:
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))  # let the open return
    worker.join()
    assert not waited, "the open waited on a pipe in the inbox"
    assert len(raised) == 1 and isinstance(raised[0], LoadError), raised
    assert "not a regular file" in str(raised[0])


def test_a_swapped_sheet_is_never_applied_by_the_night(api, run_cli, tmp_path, swap):
    sandbox = api()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    sheet(inbox, titles(2), "edits.csv")
    elsewhere = sheet(tmp_path, titles(3, prefix="Not meant"), "elsewhere.csv")
    elsewhere.chmod(0o600)
    swap(lambda name: os.symlink(elsewhere, name))
    night = _night(run_cli, sandbox, inbox)
    assert night.code != 0, night.out + night.err
    assert sum(sandbox.counters.writes.values()) == 0


@pytest.mark.parametrize("trust", [False, True])
def test_a_hard_link_in_the_inbox_is_refused_like_a_symbolic_link(api, run_cli, tmp_path,
                                                                  trust):
    sandbox = api()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    elsewhere = sheet(tmp_path, titles(3, prefix="Not meant"), "elsewhere.csv")
    elsewhere.chmod(0o600)
    os.link(elsewhere, inbox / "edits.csv")
    night = _night(run_cli, sandbox, inbox, *(["--trust-inbox"] if trust else []))
    assert night.code == 2, night.out + night.err
    assert sum(sandbox.counters.writes.values()) == 0
    refused = [e for e in _events(inbox) if e["event"] == "sheet_refused"]
    assert [e["sheet"] for e in refused] == ["edits.csv"]
    assert "hard link" in refused[0]["error"] and "--trust-inbox" not in refused[0]["error"]
    assert (inbox / "edits.csv").exists()  # left where it is
    assert not list(inbox.rglob("*.problems.*"))  # nothing of it quoted anywhere


def test_a_problems_report_is_private(run_cli, tmp_path):
    bad = sheet(tmp_path, [{"video_id": "nope", "title": "private words"}], "bad.csv")
    for name in ("problems.csv", "problems.xlsx"):
        assert run_cli("validate", str(bad), "--report", str(tmp_path / name)).code == 1
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(("mode", "warned"), [(0o777, True), (0o1777, False), (0o755, False)])
def test_an_inbox_every_user_may_write_is_said(api, run_cli, tmp_path, mode, warned):
    sandbox = api()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    inbox.chmod(mode)
    night = _night(run_cli, sandbox, inbox)
    assert night.code == 0, night.out + night.err
    warnings = [e for e in _events(inbox) if e["event"] == "inbox_warning"]
    assert bool(warnings) == warned
    if warned:
        assert "sticky" in warnings[0]["warning"] and str(inbox) in warnings[0]["warning"]
