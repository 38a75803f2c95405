"""A stopped export (Ctrl-C) says so in one line, exit 130, and leaves neither a partial
sheet nor a traceback from openpyxl's half-written worksheet (issue 26, point 9)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from conftest import KEY

from bulkedit.sandbox.store import owner_id


@pytest.mark.parametrize("name", ["videos.xlsx", "videos.csv"])
def test_a_stopped_export_is_one_line_and_no_traceback(api, tmp_path, name):
    sandbox = api(videos=3000, owners=1, latency=0.3)
    out = tmp_path / name
    env = {**os.environ, "DAILYMOTION_API_KEY": KEY.key, "DAILYMOTION_API_SECRET": KEY.secret}
    process = subprocess.Popen(
        [sys.executable, "-m", "bulkedit", "export", "--api-base", sandbox.base_url,
         "--rate", "0", "--owner", owner_id(0), "-o", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert process.stderr is not None
    first = process.stderr.readline()  # the first progress line: rows are being written
    assert first.startswith("export:"), first
    process.send_signal(signal.SIGINT)
    said, rest = process.communicate(timeout=120)
    assert process.returncode == 130, said + rest
    assert "bulkedit: interrupted" in rest
    assert "Traceback" not in rest and "Exception ignored" not in rest, rest
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(f".{name}.")] == []
