"""One lock per sheet, wherever the state folder is (issue 26, point 6)."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import KEY, apply, sheet, titles

from bulkedit.core.errors import RunAborted
from bulkedit.run.lock import SheetLock, lock_folder, sheet_lock_path


def _spawn_apply(path: Path, base: str, state: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "DAILYMOTION_API_KEY": KEY.key, "DAILYMOTION_API_SECRET": KEY.secret}
    return subprocess.Popen(
        [sys.executable, "-m", "bulkedit", "apply", str(path), "--api-base", base, "--yes",
         "--rate", "0", "--concurrency", "4", "--state-dir", str(state)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_two_applies_of_one_sheet_with_different_state_folders_never_both_run(
        run_cli, api, tmp_path):
    """The audit's case: the lock lived in the state folder, so a second apply with its
    own --state-dir ran beside the first and wrote most videos twice."""
    sandbox = api(videos=60)
    path = sheet(tmp_path, titles(60))
    first_edit, release = threading.Event(), threading.Event()

    def hold_the_first_run(_video: str) -> None:  # in the sandbox's loop: the run waits
        if not first_edit.is_set():
            first_edit.set()
            release.wait(60)

    sandbox.app.after_edit.append(hold_the_first_run)
    first = _spawn_apply(path, sandbox.base_url, tmp_path / "state-a")
    try:
        assert first_edit.wait(60), first.communicate()
        second = apply(run_cli, sandbox, path, "--state-dir", str(tmp_path / "state-b"))
    finally:
        release.set()
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, out + err
    assert second.code == 3, second.out + second.err  # README: 3, lock held
    assert f"{path} is already being processed by process {first.pid} on " in second.err
    assert "wait for it to finish" in second.err
    assert sum(sandbox.counters.writes.values()) == 60
    assert max(sandbox.counters.writes.values()) == 1  # nothing sent twice


def test_the_same_file_by_another_name_is_the_same_sheet(run_cli, api, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, titles(3))
    other = tmp_path / "same-file.csv"
    os.link(path, other)  # one file, two names: locked by its device and inode too
    with SheetLock(str(path.resolve()), str(path), path):
        refused = apply(run_cli, sandbox, other, "--state-dir", str(tmp_path / "elsewhere"))
    assert refused.code == 3 and "is already being processed by process" in refused.err
    assert sum(sandbox.counters.requests.values()) == 0


def test_stdin_sheets_are_locked_by_their_content_not_by_a_dash(api, tmp_path, monkeypatch):
    from bulkedit.cli.main import main

    sandbox = api()
    monkeypatch.chdir(tmp_path)  # the rollback of a sheet from stdin is written here
    text = sheet(tmp_path, titles(2)).read_text(encoding="utf-8")
    other = sheet(tmp_path, titles(2, start=10), "other.csv").read_text(encoding="utf-8")
    digest = hashlib.sha256(text.encode()).hexdigest()

    def apply_stdin(content: str) -> tuple[int, str]:
        stdin = io.TextIOWrapper(io.BytesIO(content.encode()), encoding="utf-8")
        monkeypatch.setattr(sys, "stdin", stdin)
        err = io.StringIO()
        code = main(["apply", "-", "--api-base", sandbox.base_url, "--yes", "--rate", "0",
                     "--results", str(tmp_path / "r.csv")], out=io.StringIO(), err=err)
        return code, err.getvalue()

    with SheetLock(f"-:{digest}", "stdin"):
        code, err = apply_stdin(other)  # another sheet on stdin: not held up by the lock
        assert code == 0, err
        code, err = apply_stdin(text)  # the same sheet on stdin: refused
        assert code == 3 and "stdin is already being processed by process" in err, err
    assert sum(sandbox.counters.writes.values()) == 2  # only `other`'s rows
    assert apply_stdin(text)[0] == 0


def test_the_lock_folder_is_one_private_folder_of_the_users(tmp_path, monkeypatch):
    folder = lock_folder({})  # no BULKEDIT_LOCK_DIR, no XDG_RUNTIME_DIR: the system temp
    assert folder == Path("/tmp") / f"bulkedit-{os.geteuid()}" / "locks"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(folder.parent.stat().st_mode) == 0o700
    assert lock_folder({"XDG_RUNTIME_DIR": str(tmp_path)}) == folder  # a cron job agrees
    assert sheet_lock_path("/a/b.csv", folder).parent == folder


def test_a_lock_folder_someone_replaced_with_a_link_is_never_used(tmp_path, monkeypatch):
    target = tmp_path / "theirs"
    target.mkdir()
    link = tmp_path / "locks-link"
    link.symlink_to(target)
    monkeypatch.setenv("BULKEDIT_LOCK_DIR", str(link))
    from bulkedit.core.errors import UsageError

    with pytest.raises(UsageError, match="is a symbolic link"):
        SheetLock("/x.csv", "x").acquire()
    assert not list(target.iterdir())


def test_a_held_sheet_lock_refuses_a_second_holder(tmp_path):
    path = sheet(tmp_path, titles(1))
    with SheetLock(str(path.resolve()), str(path), path), \
            pytest.raises(RunAborted, match="already being processed"):
        SheetLock(str(path.resolve()), str(path), path).acquire()
    SheetLock(str(path.resolve()), str(path), path).acquire().release()  # free again


def test_one_sheet_is_locked_per_account(tmp_path):
    # Two accounts' runs of one sheet go side by side; the same account twice never.
    path = sheet(tmp_path, titles(1))
    key = str(path.resolve())
    with SheetLock(key, str(path), path, account="brand1"):
        with SheetLock(key, str(path), path, account="brand2"), \
                SheetLock(key, str(path), path):  # the account `default`
            pass
        with pytest.raises(RunAborted, match="already being processed"):
            SheetLock(key, str(path), path, account="brand1").acquire()


def test_the_default_account_keeps_the_lock_files_earlier_versions_took(tmp_path):
    # An older bulkedit, still running a sheet, locks `sheet_lock_path(key)` and the
    # inode file: a new run of the default account must meet those very files.
    path = sheet(tmp_path, titles(1))
    key = str(path.resolve())
    status = os.stat(path)
    folder = lock_folder()
    assert SheetLock(key, str(path), path).paths == [
        sheet_lock_path(key, folder), folder / f"inode-{status.st_dev}-{status.st_ino}.lock"]
    assert sheet_lock_path(key, folder) not in SheetLock(key, str(path), path,
                                                         account="brand1").paths
