"""Typos on the command line: no option is taken from a prefix of its name, and an unknown
command, choice or option is answered with the closest one; always exit 2, nothing run."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bulkedit.cli.main import build_parser

ROOT = Path(__file__).resolve().parent.parent
GOOD = str(ROOT / "samples" / "edits.csv")


def _parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found += _parsers(sub)
    return found


def test_no_parser_accepts_an_abbreviated_option():
    parsers = _parsers(build_parser())
    assert len(parsers) > 10
    assert [p.prog for p in parsers if p.allow_abbrev] == []


@pytest.mark.parametrize("args", [
    ("validate", GOOD, "--max-sh", "3"),
    ("validate", GOOD, "--max-sh=3"),
    ("fields", "--form", "json"),
    ("apply", GOOD, "--no-verif", "--sandbox"),
])
def test_a_prefix_of_an_option_is_refused(run_cli, args):
    result = run_cli(*args)
    assert result.code == 2
    assert "unrecognized arguments" in result.err
    assert result.out == ""  # nothing ran


def test_a_refused_prefix_names_the_option_meant(run_cli):
    result = run_cli("validate", GOOD, "--max-sh", "3")
    assert "--max-sh: did you mean --max-shown?" in result.err
    assert "see `bulkedit validate --help`" in result.err


def test_a_misspelt_option_names_the_option_meant(run_cli):
    result = run_cli("apply", GOOD, "--skip-invlid", "--sandbox")
    assert result.code == 2
    assert "did you mean --skip-invalid?" in result.err


def test_the_full_option_still_works(run_cli):
    result = run_cli("validate", GOOD, "--max-shown", "3")
    assert result.code == 0, result.err


def test_an_unknown_command_gets_did_you_mean(run_cli):
    result = run_cli("valdate", GOOD)
    assert result.code == 2
    assert "unknown command 'valdate'; did you mean 'validate'?" in result.err
    assert result.err.count("\n") == 1  # one line, no usage block, no traceback


def test_an_unknown_command_with_nothing_near_lists_the_commands(run_cli):
    result = run_cli("frobnicate")
    assert result.code == 2
    assert "unknown command 'frobnicate'" in result.err
    assert "validate" in result.err and "did you mean" not in result.err


def test_a_misspelt_choice_gets_did_you_mean(run_cli):
    result = run_cli("fields", "--format", "jsn")
    assert result.code == 2
    assert "did you mean 'json'?" in result.err
