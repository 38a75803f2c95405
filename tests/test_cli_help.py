"""`bulkedit help [COMMAND]` (issue 29, point 5): the same page as `--help`, an unknown
command answered with the closest ones, and the list of commands laid out in one column."""

from __future__ import annotations

import pytest

from bulkedit.cli.main import build_parser


def _commands() -> list[str]:
    for action in build_parser()._actions:
        if action.choices and "apply" in action.choices:
            return list(action.choices)
    raise AssertionError("no subcommands")


def test_help_alone_is_the_top_level_help(run_cli):
    alone, flag = run_cli("help"), run_cli("--help")
    assert (alone.code, alone.out, alone.err) == (0, flag.out, "")
    assert alone.out.startswith("usage: bulkedit [-h] [--version] COMMAND ...")


@pytest.mark.parametrize("command", _commands())
def test_help_command_is_command_dash_dash_help(run_cli, command):
    said, flag = run_cli("help", command), run_cli(command, "--help")
    assert said.code == 0 == flag.code
    assert said.out == flag.out and said.out.startswith(f"usage: bulkedit {command} ")


def test_an_unknown_command_is_told_the_closest(run_cli):
    said = run_cli("help", "valdate")
    assert said.code == 2 and said.out == ""
    assert said.err == ("bulkedit: error: argument COMMAND: unknown command 'valdate'; did "
                        "you mean 'validate'? (see `bulkedit --help`)\n")
    assert said.err == run_cli("valdate", "--help").err  # as the command itself is told


def test_help_and_completion_are_listed_each_on_its_line(run_cli):
    listed = run_cli("--help").out
    assert "    help        show a command's help (the same as COMMAND --help)\n" in listed
    # argparse would put the longest name, `completion`, on a line of its own
    assert "    completion  print a shell completion script (bash, zsh or fish)\n" in listed


def test_help_takes_one_command(run_cli):
    said = run_cli("help", "apply", "plan")
    assert said.code == 2 and "unrecognized arguments: plan" in said.err
