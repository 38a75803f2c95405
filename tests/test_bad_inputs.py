"""The bad-input corpus: each file gets its documented handling or one clear error (exit 2),
never a traceback, never a request, and never more than 1 GB of memory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import apply

sys.path.insert(0, str(Path(__file__).parent / "data"))
from make_bad_files import EXPECTED, LARGE, make_large

BAD = Path(__file__).parent / "data" / "bad"
CASES = {name: BAD / name for name in EXPECTED}


def test_the_corpus_is_complete():
    committed = {p.name for p in BAD.iterdir()}
    assert set(EXPECTED) <= committed and len(committed) >= 30


@pytest.fixture(scope="module")
def large(tmp_path_factory) -> dict[str, Path]:
    return make_large(tmp_path_factory.mktemp("large"))


def _validate(path: Path, scratch: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    """`bulkedit validate PATH` in a child process, and that child's peak memory in MB."""
    out, err = scratch / "out.txt", scratch / "err.txt"
    with out.open("w") as stdout, err.open("w") as stderr:
        child = subprocess.Popen([sys.executable, "-m", "bulkedit", "validate", str(path),
                                  "--max-shown", "50"], stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    done = subprocess.CompletedProcess(child.args, child.returncode, out.read_text(),
                                       err.read_text())
    return done, usage.ru_maxrss / 1024


@pytest.mark.parametrize("name", sorted({**EXPECTED, **LARGE}))
def test_each_bad_file(name, large, run_cli, api, tmp_path):
    path = large[name] if name in LARGE else CASES[name]
    code, fragment = {**EXPECTED, **LARGE}[name]
    done, peak_mb = _validate(path, tmp_path)
    assert done.returncode == code, done.stdout + done.stderr
    assert peak_mb < 1024, f"{name}: {peak_mb:.0f} MB"
    assert "Traceback" not in done.stderr
    assert fragment in done.stdout + done.stderr
    if code == 2:
        assert done.stdout == "" and done.stderr.count("\n") == 1  # one clear line
        assert done.stderr.startswith(f"bulkedit: error: {path}: ")
    if code:  # a bad sheet sends nothing
        sandbox = api()
        result = apply(run_cli, sandbox, path)
        assert result.code == 2, result.out + result.err
        assert sum(sandbox.counters.requests.values()) == 0


def test_formula_cells_stay_text_in_every_output(run_cli, api, tmp_path):
    sandbox = api()
    path = tmp_path / "formulas.csv"
    path.write_bytes((BAD / "formulas.csv").read_bytes().replace(b"x8abc12", b"x800001")
                     .replace(b"x8abc13", b"x800002"))
    assert apply(run_cli, sandbox, path).code == 0
    assert sandbox.video("x800001")["title"] == '=HYPERLINK("http://evil","x")'
    results = (tmp_path / "formulas.results.csv").read_text(encoding="utf-8-sig")
    rollback = (tmp_path / "formulas.rollback.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in results and "'@SUM" in results and "'+summer" in results
    for line in (results + rollback).splitlines()[1:]:
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in line.split(","))
