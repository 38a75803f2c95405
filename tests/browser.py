"""A real browser on `bulkedit serve` (issue 31, point 10): the server on a background
thread (its own event loop, 127.0.0.1, a free port), Playwright driving Debian's chromium
(the one .ci/run installs; no browser download). Every request the page makes is
recorded, so a test can prove it went to the server and nowhere else."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bulkedit.run.config import Settings
from bulkedit.serve.server import ServeOptions, links, serve_state, start

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
# Set to a folder (docs/images) to keep the screenshots the tests take for the README.
SCREENSHOTS_ENV = "BULKEDIT_SCREENSHOTS"


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return found


@dataclass
class Server:
    origin: str
    links: dict[str, str]  # user -> their sign-in link
    folder: Path


@contextlib.contextmanager
def served(folder: Path, users: Sequence[Mapping[str, Any]]) -> Iterator[Server]:
    """`bulkedit serve` as the command starts it, on a thread of its own until the block
    ends; the links are read before the server forgets them, as the command prints them."""
    state = serve_state(ServeOptions(port=0, settings=Settings(users=list(users)),
                                     state_dir=folder))
    ready, failed = threading.Event(), []
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def main() -> None:
        try:
            runner = await start(state, 0)
        except BaseException as exc:  # told to the test, not lost in the thread
            failed.append(exc)
            ready.set()
            return
        ready.set()
        try:
            await stop.wait()
        finally:
            await runner.cleanup()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    ready.wait()
    if failed:
        raise failed[0]
    users_links = {shown.split(" (", 1)[0]: url for shown, url in links(state)}
    try:
        yield Server(f"http://127.0.0.1:{state.listening.port}", users_links, folder)
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join()
        loop.close()


@dataclass
class Browser:
    context: Any
    requests: list[str] = field(default_factory=list)  # every URL the pages asked for

    def page(self) -> Any:
        return self.context.new_page()


@contextlib.contextmanager
def browser() -> Iterator[Browser]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            context = launched.new_context(viewport={"width": 1280, "height": 900})
            opened = Browser(context)
            context.on("request", lambda request: opened.requests.append(request.url))
            yield opened
        finally:
            launched.close()


def keep_screenshot(page: Any, name: str, tmp_path: Path) -> Path:
    """A screenshot of the page, in the test's folder, and in $BULKEDIT_SCREENSHOTS too
    when it is set (how the README's picture is made: by this test)."""
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get(SCREENSHOTS_ENV):
        kept = Path(os.environ[SCREENSHOTS_ENV])
        kept.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, kept / name)
    return path
