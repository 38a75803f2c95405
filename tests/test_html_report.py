"""The HTML diff report, opened in headless Chromium: rows render, changes stand out,
the status filter and column sorting work (driven through the page's URL hash)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from browser import chromium
from conftest import sheet, titles

from bulkedit.sandbox.store import video_id

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]




def render(page: Path, tmp_path: Path, fragment: str = "", screenshot: Path | None = None
           ) -> str:
    """The page's DOM after its script ran."""
    url = page.resolve().as_uri() + (f"#{fragment}" if fragment else "")
    extra = ([f"--screenshot={screenshot}", "--window-size=1500,900"] if screenshot
             else ["--dump-dom"])
    done = subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'c'}",
                           "--virtual-time-budget=5000", *extra, url],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def rows_of(dom: str) -> list[tuple[str, bool, str]]:
    """(status, hidden, video id) of every body row, in page order."""
    found = re.findall(r'<tr data-status="([a-z_]+)"( hidden="")?><td>\d+</td><td>([^<]*)</td>',
                       dom)
    return [(status, bool(hidden), video) for status, hidden, video in found]


@pytest.fixture
def report(run_cli, api, tmp_path) -> Path:
    sandbox = api()
    rows = [*titles(6), {"video_id": "xmissing", "title": "Nobody"},
            {"video_id": video_id(7), "title": sandbox.video(video_id(7))["title"]}]
    rows[1]["tags"] = "+winter, -" + (sandbox.video(video_id(1))["tags"] or ["x"])[0]
    path = sheet(tmp_path, rows)
    result = run_cli("plan", str(path), "--api-base", sandbox.base_url, "--rate", "0")
    assert result.code == 1  # one video not found
    return tmp_path / "edits.plan.html"


def test_rows_render_and_changes_are_highlighted(report, tmp_path):
    dom = render(report, tmp_path)
    rows = rows_of(dom)
    assert [s for s, _, _ in rows] == ["change"] * 6 + ["not_found", "noop"]
    assert not any(hidden for _, hidden, _ in rows)
    changed = re.findall(r'<td class="changed (live|new)">(.*?)</td>', dom)
    assert len(changed) == 2 * 7  # six titles and one tags change, live and new
    assert all("<del>" in html for side, html in changed if side == "live")
    assert all("<ins>" in html for side, html in changed if side == "new")
    assert "<ins>New</ins>" in dom and "<ins>winter</ins>" in dom
    assert re.search(r'<span id="shown">8</span>', dom)


def test_filter_by_status_and_sort_by_column(report, tmp_path):
    dom = render(report, tmp_path, "status=change&sort=video&order=desc")
    rows = rows_of(dom)
    shown = [video for status, hidden, video in rows if not hidden]
    assert shown == [video_id(i) for i in range(5, -1, -1)]
    assert all(hidden for status, hidden, _ in rows if status != "change")
    assert re.search(r'<span id="shown">6</span>', dom)


def test_screenshot(report, tmp_path):
    picture = tmp_path / "plan.png"
    render(report, tmp_path, screenshot=picture)
    assert picture.stat().st_size > 10_000
