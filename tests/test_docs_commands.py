"""Every shell command the README and docs/ show is run, as printed, so that the pages stay
true (issue 29, point 10).

Each page's ```sh blocks run in order in one folder of their own (a copy of `samples/`,
and `edits.xlsx` a copy of the sample sheet), in bash, with `bulkedit` this checkout's and
the environment pointing at a local sandbox started for the page: a command shown for the
real API (`bulkedit apply edits.xlsx --rate 5`) runs against it unchanged. A plain ```
block right after a command block is the output the page promises: each of its lines must
come out, in order (numbers with a decimal point, such as seconds and rates, may differ; a
line the page cuts with …, or a table rule it cuts to its width, matches up to the cut).

A line that is not a `bulkedit` command is either run elsewhere (NOT_RUN says where) or
the test fails: a new kind of command in the docs must be given a decision here.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from bulkedit.sandbox import running_sandbox

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# Lines shown but not run here, each with where it is run or why it cannot be.
NOT_RUN = {
    "uv tool install": "installs: run by hand in a fresh environment before a release",
    "python3 -m venv": "installs: .ci/run runs this install on a clean machine",
    "pip install": "installs: .ci/run runs this install on a clean machine",
    "python -m pytest": "the test command itself: .ci/run runs it",
    "export DAILYMOTION_API_KEY=": "credentials: the test sets the sandbox's in the environment",
    "TOKEN=$(curl": "tests/test_sandbox_cli.py runs the curl calls against `bulkedit sandbox`",
    "curl ": "tests/test_sandbox_cli.py runs the curl calls against `bulkedit sandbox`",
}

# A command whose documented exit code is not 0 (the page says which, and why).
EXPECTED_EXIT = {
    "bulkedit apply samples/thumbnails.csv --sandbox": 1,
    "bulkedit validate samples/broken.csv --max-shown 4": 1,
    "bulkedit doctor --sandbox --profile strict": 1,
}

# Absolute folders a page shows, made inside the test's folder.
FOLDERS = ("/srv/bulkedit/", "/var/log/bulkedit/")


@dataclass(frozen=True)
class Shown:
    """One command block of a page and the output block after it, if any."""

    page: str
    commands: tuple[str, ...]
    output: tuple[str, ...] | None


def shown_blocks(page: Path) -> list[Shown]:
    text = page.read_text(encoding="utf-8")
    blocks = [(m.group(1), m.group(2)) for m in re.finditer(
        r"^```(\w*)\n(.*?)^```", text, flags=re.S | re.M)]
    found = []
    for index, (lang, body) in enumerate(blocks):
        if lang not in ("sh", "bash", "shell"):
            continue
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        output = tuple(following[1].splitlines()) if following and following[0] == "" else None
        commands = tuple(_logical_lines(body))
        found.append(Shown(page.relative_to(ROOT).as_posix(), commands, output))
    return found


def _logical_lines(body: str) -> list[str]:
    lines, pending = [], ""
    for raw in body.splitlines():
        if raw.endswith("\\"):
            pending += raw[:-1]
            continue
        line = (pending + raw).strip()
        pending = ""
        if line and not line.startswith("#"):
            lines.append(_without_comment(line))
    return lines


def _without_comment(line: str) -> str:
    """`bulkedit plan x --save p.json   # writes …` without its comment (a # after two
    spaces: one inside a value, such as '#N/A', has none before it)."""
    match = re.search(r"\s{2,}#", line)
    return line[:match.start()].rstrip() if match else line


def _not_run_reason(command: str) -> str | None:
    return next((why for start, why in NOT_RUN.items() if command.startswith(start)), None)


def _pages_with_commands() -> list[Path]:
    return [page for page in PAGES if any(
        c.startswith("bulkedit") for block in shown_blocks(page) for c in block.commands)]


def _normal(line: str) -> str:
    return re.sub(r"\d+\.\d+", "N", line.rstrip())


def _promised_lines_appear(promised: tuple[str, ...], actual: str) -> list[str]:
    """The promised lines missing from `actual`, taken in order."""
    lines = [_normal(line) for line in actual.splitlines()]
    missing, at = [], 0
    for want in promised:
        if not want.strip() or want.strip() == "…":
            continue
        want = _normal(want)
        # A row the page cuts with …, or a table's rule of dashes cut to the page's width.
        cut = want.endswith("…") or set(want) <= {"-", " "}
        prefix = want.removesuffix("…").rstrip()
        for index in range(at, len(lines)):
            if lines[index] == want or (cut and lines[index].startswith(prefix)):
                at = index + 1
                break
        else:
            missing.append(want)
    return missing


@pytest.fixture
def page_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    shutil.copytree(ROOT / "samples", folder / "samples")
    shutil.copy(ROOT / "samples" / "edits.xlsx", folder / "edits.xlsx")
    for absolute in FOLDERS:
        (tmp_path / absolute.strip("/")).mkdir(parents=True)
    (tmp_path / "srv" / "bulkedit" / "inbox").mkdir()
    shutil.copy(ROOT / "samples" / "edits.csv", tmp_path / "srv" / "bulkedit" / "inbox")
    return folder


def _run(command: str, folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    for absolute in FOLDERS:
        command = command.replace(absolute, f"{folder.parent}{absolute}")
    script = f'bulkedit() {{ {shlex.quote(sys.executable)} -m bulkedit "$@"; }}\n{command}\n'
    return subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def _serve_briefly(command: str, folder: Path, env: dict[str, str]) -> str:
    """`bulkedit sandbox …` serves until stopped: start it on a free port, read its banner,
    stop it as a user would (Ctrl-C)."""
    args = shlex.split(re.sub(r"--port \d+", "--port 0", command))[1:]
    server = subprocess.Popen([sys.executable, "-m", "bulkedit", *args], cwd=folder, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = server.stdout.readline() if server.stdout else ""  # blocks until listening
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)
    assert "http://127.0.0.1:" in first, (command, first, server.stderr.read()
                                          if server.stderr else "")
    return first


@pytest.mark.parametrize("page", _pages_with_commands(),
                         ids=lambda page: page.relative_to(ROOT).as_posix())
def test_every_command_a_page_shows_runs_as_shown(page, page_folder):
    with running_sandbox() as sandbox:
        env = {**os.environ, "DAILYMOTION_API_BASE": sandbox.base_url,
               "DAILYMOTION_API_KEY": "sandbox-api-key",
               "DAILYMOTION_API_SECRET": "sandbox-api-secret",
               "HOME": str(page_folder.parent / "home"), "COLUMNS": "100"}
        env.pop("XDG_CONFIG_HOME", None)
        for block in shown_blocks(page):
            out = ""
            for command in block.commands:
                if not command.startswith("bulkedit"):
                    assert _not_run_reason(command), (
                        f"{block.page} shows `{command}`: run it here, or say in NOT_RUN "
                        "where it is run")
                    continue
                if command.startswith("bulkedit sandbox"):
                    _serve_briefly(command, page_folder, env)
                    continue
                done = _run(command, page_folder, env)
                expected = EXPECTED_EXIT.get(command, 0)
                assert done.returncode == expected, (
                    f"{block.page}: `{command}` exited {done.returncode}, not {expected}\n"
                    f"{done.stdout}\n{done.stderr}")
                out += done.stdout + done.stderr
            if block.output is not None and out:
                missing = _promised_lines_appear(block.output, out)
                assert not missing, (f"{block.page}: the output shown after {block.commands} "
                                     f"does not come out; missing {missing}\n---\n{out}")


def test_every_line_of_the_docs_is_run_or_said_where_it_is_run():
    """Without a sandbox: every command line shown is either `bulkedit …` or in NOT_RUN."""
    unplaced = [(block.page, command) for page in PAGES for block in shown_blocks(page)
                for command in block.commands
                if not command.startswith("bulkedit") and not _not_run_reason(command)]
    assert unplaced == []
    assert _pages_with_commands(), "no page shows a bulkedit command?"


def test_the_output_check_catches_a_changed_line():
    """The comparison is not vacuous: a line that no longer comes out is reported."""
    actual = "samples/edits.xlsx: 60 rows in 6.1 s — 60 updated\nResults: r.xlsx\n"
    assert _promised_lines_appear(("samples/edits.xlsx: 60 rows in 6.3 s — 60 updated",
                                   "Results: r.xlsx"), actual) == []
    assert _promised_lines_appear(("Results: other.xlsx",), actual) == ["Results: other.xlsx"]
    assert _promised_lines_appear(("Results: r.x…",), actual) == []
    assert _promised_lines_appear(("---  ---",), "---  ------\n") == []
    assert _promised_lines_appear(("---  -----",), "---  ---\n") == ["---  -----"]
