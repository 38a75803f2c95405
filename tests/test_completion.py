"""`bulkedit completion bash|zsh|fish` (issue 29, point 5): a script written from the parser
that completes the commands, each command's options, their choices, and files where a file
goes. The bash script is run in bash, as bash runs it at a Tab (COMP_WORDS, COMP_CWORD);
fish's through `complete -C`; zsh's is checked and registered (skipped where the shell is
not installed)."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from bulkedit.cli.main import build_parser

BASH = shutil.which("bash")


def _parser_commands() -> dict[str, set[str]]:
    """Each command and its option strings, from the parser itself."""
    for action in build_parser()._actions:
        if action.choices and "apply" in action.choices:
            return {name: {o for a in sub._actions for o in a.option_strings}
                    for name, sub in action.choices.items()}
    raise AssertionError("no subcommands")


@pytest.fixture
def bash_script(run_cli, tmp_path) -> Path:
    said = run_cli("completion", "bash")
    assert said.code == 0 and said.err == ""
    path = tmp_path / "script" / "bulkedit.bash"
    path.parent.mkdir()
    path.write_text(said.out, encoding="utf-8")
    return path


def complete_in_bash(script: Path, line: str, cwd: Path) -> list[str]:
    """What bash offers at a Tab at the end of `line` (an empty last word: after a space)."""
    words = line.split(" ")
    setup = (f"source {shlex.quote(str(script))}\n"
             f"COMP_WORDS=({' '.join(shlex.quote(w) for w in words)})\n"
             f"COMP_CWORD={len(words) - 1}\n"
             "_bulkedit\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n")
    done = subprocess.run([BASH, "--norc", "--noprofile", "-c", setup], capture_output=True,
                          text=True, check=True, cwd=cwd)
    assert done.stderr == ""
    return [line for line in done.stdout.split("\n") if line]


pytestmark = pytest.mark.skipif(BASH is None, reason="bash is not installed")


def test_bash_registers_the_function(bash_script):
    done = subprocess.run([BASH, "--norc", "--noprofile", "-c",
                           f"source {shlex.quote(str(bash_script))}; complete -p bulkedit"],
                          capture_output=True, text=True, check=True)
    assert done.stdout == "complete -F _bulkedit bulkedit\n"


def test_bash_completes_commands_options_and_choices(bash_script, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "edits.csv").touch()
    (work / "my edits.xlsx").touch()
    (work / "inbox").mkdir()

    def offered(line: str) -> list[str]:
        return complete_in_bash(bash_script, line, work)

    assert offered("bulkedit va") == ["validate"]  # a command
    assert offered("bulkedit co") == ["config", "completion"]
    assert offered("bulkedit validate --max") == ["--max-shown"]  # an option
    assert offered("bulkedit apply --no-") == ["--no-verify", "--no-canary", "--no-progress"]
    assert offered("bulkedit fields --format ") == ["table", "json", "markdown"]  # choices
    assert offered("bulkedit fields --format j") == ["json"]
    assert offered("bulkedit plan --date-order = m") == ["mdy"]  # --date-order=m
    assert offered("bulkedit completion ") == ["bash", "zsh", "fish"]
    assert offered("bulkedit help pl") == ["plan"]
    assert sorted(offered("bulkedit apply ")) == ["edits.csv", "inbox", "my edits.xlsx"]
    assert offered("bulkedit apply my") == ["my edits.xlsx"]  # a space in a name
    assert offered("bulkedit batch ") == ["inbox"]  # a folder
    assert offered("bulkedit apply --rate ") == []  # a number: nothing to offer
    assert offered("bulkedit nosuch --") == []


def test_bash_knows_every_command_and_every_option_the_parser_has(bash_script, tmp_path):
    commands = _parser_commands()
    assert complete_in_bash(bash_script, "bulkedit ", tmp_path) == list(commands)
    for name, options in commands.items():
        assert set(complete_in_bash(bash_script, f"bulkedit {name} -", tmp_path)) == options, name


def test_an_unknown_shell_is_told_the_choices(run_cli):
    said = run_cli("completion", "bsh")
    assert said.code == 2 and "unknown choice 'bsh'; did you mean 'bash' or 'zsh'?" in said.err


def test_the_script_runs_no_python_at_a_tab(run_cli):
    for shell in ("bash", "zsh", "fish"):
        script = run_cli("completion", shell).out
        assert script.startswith("#") and len(script.splitlines()) > 100, shell
        code = [line for line in script.splitlines() if not line.lstrip().startswith("#")]
        assert not any("python" in line or "bulkedit completion" in line for line in code)


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completes_commands_options_and_choices(run_cli, tmp_path):
    script = tmp_path / "bulkedit.fish"
    script.write_text(run_cli("completion", "fish").out, encoding="utf-8")
    (tmp_path / "edits.csv").touch()

    def offered(line: str) -> list[str]:
        done = subprocess.run(["fish", "--no-config", "-c",
                               f"source {script}; complete -C {shlex.quote(line)}"],
                              capture_output=True, text=True, check=True, cwd=tmp_path)
        return [row.split("\t")[0] for row in done.stdout.splitlines()]

    assert offered("bulkedit va") == ["validate"]
    assert offered("bulkedit validate --max") == ["--max-shown"]
    assert offered("bulkedit fields --format ") == ["json", "markdown", "table"]
    assert offered("bulkedit completion ") == ["bash", "fish", "zsh"]
    assert offered("bulkedit apply ed") == ["edits.csv"]
    assert set(offered("bulkedit ")) == set(_parser_commands())


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_reads_the_script_and_registers_it(run_cli, tmp_path):
    script = tmp_path / "_bulkedit"
    script.write_text(run_cli("completion", "zsh").out, encoding="utf-8")
    subprocess.run(["zsh", "-n", str(script)], check=True)
    done = subprocess.run(["zsh", "-f", "-c", "autoload -U compinit && compinit -u -D; "
                           f"source {script}; print -r -- $_comps[bulkedit]"],
                          capture_output=True, text=True, check=True, cwd=tmp_path)
    assert done.stdout == "_bulkedit\n" and done.stderr == ""
    for name in _parser_commands():
        assert f"\n                '{name}:" in script.read_text(encoding="utf-8")
