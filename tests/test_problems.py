"""The one registry of problem codes (bulkedit/core/problems.py): docs/sheet.md's table is
made from it, and every code the suite sees a sheet produce is in it (tests/conftest.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from bulkedit.core.problems import PROBLEMS

ROOT = Path(__file__).resolve().parent.parent


def _tool():
    spec = importlib.util.spec_from_file_location("problem_table", ROOT / "tools" /
                                                  "problem_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_docs_table_is_the_registry():
    text = (ROOT / "docs" / "sheet.md").read_text(encoding="utf-8")
    assert _tool().rewritten(text) == text, "run python tools/problem_table.py"


@pytest.mark.parametrize("code", list(PROBLEMS))
def test_each_problem_has_a_title_and_a_fix_and_is_in_the_docs(code):
    problem = PROBLEMS[code]
    assert problem.code == code and code.islower() and " " not in code
    assert problem.title and problem.fix and problem.fix[0].isupper()
    assert f"| `{code}` | {problem.title} | {problem.fix} |" in (
        ROOT / "docs" / "sheet.md").read_text(encoding="utf-8")


def test_a_code_outside_the_registry_fails_the_session(tmp_path):
    """The session hook of tests/conftest.py: a sheet problem whose code is not registered
    turns a green run red, naming the code."""
    import subprocess
    import sys

    (tmp_path / "conftest.py").write_text((ROOT / "tests" / "conftest.py").read_text(
        encoding="utf-8"), encoding="utf-8")
    (tmp_path / "test_one.py").write_text(
        "from bulkedit.core.types import Issue\n\n\n"
        "def test_makes_an_unregistered_problem():\n"
        "    Issue(2, 'title', 'x', 'no_such_code_anywhere', 'a message')\n", encoding="utf-8")
    found = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            str(tmp_path)], capture_output=True, text=True, cwd=tmp_path,
                           timeout=120)
    assert "1 passed" in found.stdout and found.returncode == 1
    assert "no_such_code_anywhere (a message)" in found.stderr


def test_every_code_written_in_the_source_is_registered():
    """The session hook sees the codes the suite makes; this sees the ones it does not
    reach: every literal code given to Issue, CellProblem or a cell's _fail."""
    import ast

    written: dict[str, str] = {}
    for path in (ROOT / "bulkedit").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            position = {"Issue": 3, "CellProblem": 0, "_fail": 0}.get(str(name))
            if position is None or len(node.args) <= position:
                continue
            code = node.args[position]
            if isinstance(code, ast.Constant) and isinstance(code.value, str):
                written.setdefault(code.value, f"{path.name}:{node.lineno}")
    assert len(written) > 40  # the scan finds the codes (not an empty pass)
    assert {code: where for code, where in written.items() if code not in PROBLEMS} == {}
