"""Every exit code bulkedit returns, 70 included, is in `bulkedit --help`, the README's
table and docs/exit-codes.md; BULKEDIT_DEBUG, which changes what exit 70 prints, is in
both (issue 29)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bulkedit.core.errors import ExitCode

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXIT_PAGE = (ROOT / "docs" / "exit-codes.md").read_text(encoding="utf-8")


def _readme_exit_section() -> str:
    return README.split("## Exit codes", 1)[1].split("\n## ", 1)[0]


@pytest.mark.parametrize("text", [_readme_exit_section(), EXIT_PAGE], ids=["README", "docs"])
def test_every_exit_code_is_in_the_readme_and_the_docs(text):
    table = {int(code) for code in re.findall(r"^\| (\d+) \|", text, flags=re.M)}
    assert table == {int(code) for code in ExitCode}


def test_every_exit_code_is_in_help(run_cli):
    result = run_cli("--help")
    assert result.code == 0
    listed = {int(code) for code in re.findall(r"^  (\d+) ", result.out.split("exit codes:")[1],
                                               flags=re.M)}
    assert listed == {int(code) for code in ExitCode}
    assert "70   internal error" in result.out and "BULKEDIT_DEBUG=1" in result.out


@pytest.mark.parametrize("text", [_readme_exit_section(), EXIT_PAGE], ids=["README", "docs"])
def test_bulkedit_debug_is_documented(text):
    assert "`BULKEDIT_DEBUG=1`" in text and "70" in text
