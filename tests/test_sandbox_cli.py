"""`bulkedit sandbox` as a user runs it, and docs/sandbox.md's curl calls, run as printed."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def readme_blocks() -> tuple[str, str]:
    """docs/sandbox.md's curl commands and the output it promises."""
    section = (ROOT / "docs" / "sandbox.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```(?:sh)?\n(.*?)```", section, flags=re.S)
    commands = next(b for b in blocks if b.startswith("TOKEN="))
    output = blocks[blocks.index(commands) + 1]
    return commands, output


def test_sandbox_command_serves_the_readme_curl_calls():
    server = subprocess.Popen(
        [sys.executable, "-m", "bulkedit", "sandbox", "--port", "0", "--videos", "1000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = server.stdout.readline()  # blocks until the sandbox is listening
        match = re.search(r"on http://127\.0\.0\.1:(\d+) ", first)
        assert match, first + server.stderr.read()
        port = match.group(1)
        banner = [server.stdout.readline() for _ in range(3)]
        assert banner[0].split() == ["API", "key:", "sandbox-api-key"]
        assert banner[1].split()[:3] == ["API", "secret:", "sandbox-api-secret"]
        commands, expected = readme_blocks()
        done = subprocess.run(["bash", "-euo", "pipefail", "-c",
                               commands.replace(":8642", f":{port}")],
                              capture_output=True, text=True, check=False, timeout=60)
        assert done.returncode == 0, done.stderr
        assert done.stdout.replace("}{", "}\n{").splitlines() == expected.splitlines()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert server.returncode == 0


def test_sandbox_refuses_bad_shares(run_cli):
    result = run_cli("sandbox", "--fail-rate", "1.5")
    assert result.code == 2
    assert result.err == "bulkedit: error: --fail-rate is a share between 0 and 1\n"


def test_sandbox_refuses_a_bad_rate_schedule_and_knee(run_cli):
    result = run_cli("sandbox", "--rate-schedule", "40,60:15")
    assert result.code == 2 and "--rate-schedule" in result.err and "0:40,60:15" in result.err
    result = run_cli("sandbox", "--slow-above", "0")
    assert result.code == 2 and "--slow-above" in result.err


@pytest.mark.parametrize("args", [("--rate-schedule", "0:nan"), ("--rate-schedule", "0:inf"),
                                  ("--rate-schedule", "0:40,0:20"), ("--rate-schedule", ""),
                                  ("--rate", "-3"), ("--rate", "nan"), ("--rate", "inf")])
def test_sandbox_refuses_rates_that_are_not_rates(run_cli, args):
    result = run_cli("sandbox", *args)
    assert result.code == 2 and args[0] in result.err and "Traceback" not in result.err
