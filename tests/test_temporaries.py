"""Nothing private outside the state folder, no litter (issue 26, point 7): openpyxl's
spool of an XLSX being written goes beside the output (0600), never to $TMPDIR; what a
killed process left there is removed by the next bulkedit that writes that output; a
full disk is reported for the folder that is full, with its free space."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import openpyxl.worksheet._writer as openpyxl_writer
import pytest
from conftest import apply, sheet, titles

from bulkedit.sheets.files import disk_problem, sweep_leftovers


@pytest.fixture
def no_spool_in_tmpdir(monkeypatch, tmp_path):
    """openpyxl's own spooling ($TMPDIR/openpyxl.*) fails the test; every spool made is
    recorded with its mode, as it was when made."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("openpyxl spooled a worksheet in $TMPDIR")

    monkeypatch.setattr(openpyxl_writer, "NamedTemporaryFile", refuse)
    made: list[tuple[Path, int]] = []
    spooled = openpyxl_writer.create_temporary_file

    def recorded(suffix: str = "") -> str:
        name = spooled(suffix)
        made.append((Path(name), os.stat(name).st_mode & 0o777))
        return name

    # Our spooling is installed at the first XLSX bulkedit writes: make sure it is, then
    # watch it.
    from bulkedit.sheets.files import _spool_in_place

    _spool_in_place()
    spooled = openpyxl_writer.create_temporary_file
    monkeypatch.setattr(openpyxl_writer, "create_temporary_file", recorded)
    return made


def test_no_xlsx_bulkedit_writes_spools_in_tmpdir(api, run_cli, tmp_path, no_spool_in_tmpdir):
    sandbox = api()
    path = sheet(tmp_path, titles(5))
    out = tmp_path / "out"
    out.mkdir()
    done = apply(run_cli, sandbox, path, "--results", str(out / "r.xlsx"), "--rollback",
                 str(out / "undo.xlsx"))
    assert done.code == 0, done.out + done.err
    planned = run_cli("plan", str(sheet(tmp_path, titles(5, prefix="Next"), "next.csv")),
                      "--api-base", sandbox.base_url, "--rate", "0", "--report",
                      str(out / "plan.xlsx"))
    assert planned.code == 0, planned.out + planned.err
    exported = run_cli("export", "--api-base", sandbox.base_url, "--rate", "0", "--ids",
                       str(path), "-o", str(out / "videos.xlsx"))
    assert exported.code == 0, exported.out + exported.err
    assert run_cli("template", "-o", str(out / "t.xlsx")).code == 0
    bad = sheet(tmp_path, [{"video_id": "nope", "title": "x"}], "bad.csv")
    assert run_cli("validate", str(bad), "--report", str(out / "problems.xlsx")).code == 1
    spools = no_spool_in_tmpdir
    assert {p.parent for p, _ in spools} == {out}  # beside the outputs
    assert {mode for _, mode in spools} == {0o600}
    assert {p.name.split(".")[1] for p, _ in spools} >= {"r", "undo", "plan", "videos", "t",
                                                          "problems"}
    assert not [p for p, _ in spools if p.exists()]  # and gone once written
    assert sorted(p.name for p in out.iterdir()) == [
        "plan.xlsx", "problems.xlsx", "r.xlsx", "t.xlsx", "undo.xlsx", "videos.xlsx"]


_KILLED_MID_WRITE = """
import os, signal, sys
from pathlib import Path
from bulkedit.sheets.report import write_table

def rows():
    for number in range(100):
        if number == 50:
            os.kill(os.getpid(), signal.SIGKILL)  # killed while the XLSX is half written
        yield ["x%06d" % number, "private value %d" % number]

write_table(Path(sys.argv[1]), ["video_id", "title"], rows())
"""


def test_what_a_killed_write_left_is_swept_by_the_next_run(api, run_cli, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, titles(3))
    undo = tmp_path / "undo.xlsx"
    scratch = tmp_path / "tmpdir"
    scratch.mkdir()
    killed = subprocess.run([sys.executable, "-c", _KILLED_MID_WRITE, str(undo)],
                            env={**os.environ, "TMPDIR": str(scratch)}, check=False)
    assert killed.returncode == -9
    left = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".undo.xlsx."))
    assert sorted(n.rsplit(".", 1)[1] for n in left) == ["part", "spool"], left
    assert list(scratch.iterdir()) == []  # nothing in $TMPDIR
    assert all((tmp_path / n).stat().st_mode & 0o777 == 0o600 for n in left)
    done = apply(run_cli, sandbox, path, "--rollback", str(undo))
    assert done.code == 0, done.out + done.err
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".undo.xlsx.")]


def test_the_sweep_leaves_a_live_process_s_temporaries(tmp_path):
    target = tmp_path / "r.csv"
    mine = tmp_path / f".r.csv.{os.getpid()}.abcdefgh.part"
    parent = tmp_path / f".r.csv.{os.getppid()}.abcdefgh.spool"  # alive: pytest's parent
    other = tmp_path / ".r.csv.extra.99999999.abcdefgh.part"  # another output's
    for path in (mine, parent, other):
        path.write_bytes(b"")
    assert sweep_leftovers(target) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in (mine, parent, other))


def test_a_full_disk_names_the_folder_that_is_full(tmp_path):
    """The error names the file that hit the limit (a temporary on another disk): that
    folder, with its free space, not the output's."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    full = OSError(errno.ENOSPC, "No space left on device", str(elsewhere / "spool.xml"))
    said = str(disk_problem(full, tmp_path / "out" / "r.xlsx"))
    assert f"the disk is full in {elsewhere} (" in said and "free" in said
    same = str(disk_problem(OSError(errno.ENOSPC, "No space left on device"),
                            tmp_path / "r.xlsx"))
    assert "the disk is full (" in same


def test_a_dry_runs_scratch_copy_left_by_a_killed_run_is_swept(api, run_cli, tmp_path,
                                                                monkeypatch):
    """plan reads its sheet from a private copy in the system's temporary folder; a run
    killed while reading leaves it there, and the next dry run removes it (issue 26,
    point 7). Its own copy is gone when it ends."""
    import tempfile

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
    dead = int(finished.stdout)  # a process that has ended
    left = scratch / f"bulkedit-{dead}-abcd1234"
    left.mkdir(mode=0o700)
    (left / "edits.csv").write_text("video_id,title\nx1,private\n")
    alive = scratch / f"bulkedit-{os.getpid()}-efgh5678"  # a run still going: kept
    alive.mkdir(mode=0o700)
    sandbox = api()
    result = run_cli("plan", str(sheet(tmp_path, titles(2))), "--api-base", sandbox.base_url)
    assert result.code == 0, result.out + result.err
    assert sorted(p.name for p in scratch.iterdir()) == [alive.name]
