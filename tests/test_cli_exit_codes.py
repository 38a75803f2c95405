"""Every exit code bulkedit returns, 70 included, is in `bulkedit --help` and the README's
table; BULKEDIT_DEBUG, which changes what exit 70 prints, is in the README (issue 29)."""

from __future__ import annotations

import re
from pathlib import Path

from bulkedit.core.errors import ExitCode

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _readme_exit_section() -> str:
    return README.split("## Exit codes", 1)[1].split("\n## ", 1)[0]


def test_every_exit_code_is_in_the_readme_table():
    table = {int(code) for code in re.findall(r"^\| (\d+) \|", _readme_exit_section(),
                                               flags=re.M)}
    assert table == {int(code) for code in ExitCode}


def test_every_exit_code_is_in_help(run_cli):
    result = run_cli("--help")
    assert result.code == 0
    listed = {int(code) for code in re.findall(r"^  (\d+) ", result.out.split("exit codes:")[1],
                                               flags=re.M)}
    assert listed == {int(code) for code in ExitCode}
    assert "70   internal error" in result.out and "BULKEDIT_DEBUG=1" in result.out


def test_bulkedit_debug_is_documented_in_the_readme():
    section = _readme_exit_section()
    assert "`BULKEDIT_DEBUG=1`" in section and "70" in section
