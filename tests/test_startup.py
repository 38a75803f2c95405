"""Start-up: `--version` and `--help` (top level and per command, and `help COMMAND`), and
`completion SHELL`, build the parser and print, importing no command module: no pyarrow,
numpy, pandas, aiohttp, openpyxl, pycountry, sqlite3 or jinja2, and none of the engine. The wall
time is bench/README.md's."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bulkedit.cli.main import build_parser

HEAVY = ("pyarrow", "numpy", "pandas", "aiohttp", "openpyxl", "pycountry", "sqlite3",
         "bulkedit.core.schema", "bulkedit.core.cells", "bulkedit.core.sheet",
         "bulkedit.run.runner", "bulkedit.cli.commands", "bulkedit.client.transport",
         "bulkedit.sandbox.server", "jinja2", "bulkedit.serve.app", "bulkedit.serve.server")

# In a fresh interpreter: run main as `python -m bulkedit ARGS` does, then list what came.
PROBE = """
import io, json, sys
from bulkedit.cli.main import main
code = main(sys.argv[1:], out=io.StringIO(), err=io.StringIO())
heavy = json.loads(HEAVY)
print(json.dumps({"code": code, "loaded": [m for m in heavy if m in sys.modules]}))
"""


def _probe(*args: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", PROBE.replace("HEAVY", repr(json.dumps(HEAVY))),
                           *args], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def _commands() -> list[str]:
    parser = build_parser()
    for action in parser._actions:
        if action.choices and "apply" in action.choices:
            return list(action.choices)
    raise AssertionError("no subcommands")


@pytest.mark.parametrize("args", [("--version",), ("--help",), ("help",), ("help", "apply"),
                                  ("completion", "bash"), ("completion", "zsh"),
                                  ("completion", "fish")],
                         ids=["version", "help", "help-command", "help-apply", "completion-bash",
                              "completion-zsh", "completion-fish"])
def test_version_and_help_import_nothing_heavy(args):
    assert _probe(*args) == {"code": 0, "loaded": []}


def test_every_command_help_imports_nothing_heavy():
    for command in _commands():
        assert _probe(command, "--help") == {"code": 0, "loaded": []}, command


def test_python_dash_m_version_imports_nothing_heavy():
    # The real entry (`python -m bulkedit`), not only main: __main__ must stay light too.
    code = ("import runpy, sys, json; sys.argv = ['bulkedit', '--version']\n"
            "try:\n    runpy.run_module('bulkedit', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            f"sys.stderr.write(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.stdout.startswith("bulkedit ")
    assert json.loads(done.stderr) == []


def test_the_parser_date_orders_are_the_grammar_s():
    from bulkedit.cli.main import DATE_ORDER_CHOICES
    from bulkedit.core.cells import DATE_ORDERS

    assert DATE_ORDER_CHOICES == DATE_ORDERS
