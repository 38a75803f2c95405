"""Run the sandbox: in the caller's event loop, in a background thread, or from the CLI."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import web

from bulkedit.sandbox.app import SandboxApp
from bulkedit.sandbox.config import SandboxConfig
from bulkedit.sandbox.limits import Counters
from bulkedit.sandbox.store import Video, open_store


class Sandbox:
    """A running sandbox on 127.0.0.1 and the Python API tests use to look inside it.

        async with Sandbox(SandboxConfig(videos=100)) as sandbox:
            ... sandbox.base_url, sandbox.video("x800000"), sandbox.counters ...
    """

    def __init__(self, config: SandboxConfig | None = None, host: str = "127.0.0.1",
                 port: int = 0, clock: Callable[[], float] = time.monotonic):
        self.config = config or SandboxConfig()
        self.host = host
        self.port = port
        self.store = open_store(self.config.videos, self.config.owners, self.config.seed,
                                self.config.state_file)
        self.app = SandboxApp(self.config, self.store, clock)
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        """What a client uses as its API base; the REST API is under /rest."""
        return f"http://{self.host}:{self.port}"

    @property
    def counters(self) -> Counters:
        return self.app.counters

    @property
    def key(self) -> tuple[str, str]:
        """The first API key and secret (public test credentials, not secrets)."""
        first = self.config.keys[0]
        return first.key, first.secret

    def video(self, video_id: str) -> Video | None:
        """A copy of the video as stored."""
        return self.store.snapshot(video_id)

    async def start(self) -> str:
        # Held requests (the timeout fault) must not delay a shutdown.
        runner = web.AppRunner(self.app.build(), access_log=None, handle_signals=False,
                               shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, reuse_address=True)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._runner = runner
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.store.close()

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()


@contextmanager
def running_sandbox(config: SandboxConfig | None = None, port: int = 0) -> Iterator[Sandbox]:
    """A sandbox served from a background thread, for synchronous callers (CLI, tests)."""
    loop = asyncio.new_event_loop()
    sandbox_box: list[Sandbox] = []
    ready = threading.Event()
    failure: list[BaseException] = []

    def serve() -> None:
        asyncio.set_event_loop(loop)
        try:
            sandbox = Sandbox(config, port=port)
            loop.run_until_complete(sandbox.start())
            sandbox_box.append(sandbox)
        except BaseException as exc:  # reported to the caller below
            failure.append(exc)
            ready.set()
            return
        ready.set()
        loop.run_forever()
        loop.run_until_complete(sandbox.stop())
        loop.close()

    thread = threading.Thread(target=serve, name="bulkedit-sandbox", daemon=True)
    thread.start()
    ready.wait()
    if failure:
        thread.join()
        raise failure[0]
    try:
        yield sandbox_box[0]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)


def _account_lines(sandbox: Sandbox) -> list[str]:
    """The accounts besides the first key (`--accounts N`): each key, its secret and the
    channels it may edit."""
    brands = [key for key in sandbox.config.keys[1:] if key.account]
    if not brands:
        return []
    scope = sandbox.config.limit_scope
    lines = [f"  accounts:   {len(brands)}, each editing only its own channels "
             f"(limits counted per {scope}; the key above edits every channel)"]
    for key in brands:
        rate = f", {key.rate:g}/s" if key.rate is not None else ""
        lines.append(f"    {key.account}: key {key.key}, secret {key.secret}, channels "
                     f"{', '.join(key.owners)}{rate}")
    return lines


def banner(sandbox: Sandbox) -> str:
    """What `bulkedit sandbox` prints: where it is, the credentials, a first request."""
    key, secret = sandbox.key
    base = sandbox.base_url
    config = sandbox.config
    knobs = [f"{name}={getattr(config, name)}" for name in
             ("rate", "rate_schedule", "slow_above", "hourly_quota", "latency", "jitter",
              "fail_rate", "throttle_rate", "timeout_rate", "drop_rate")
             if getattr(config, name)]
    return "\n".join([
        # The base bulkedit takes, not the REST root under it (issue 29: `…/rest` as the
        # --api-base was read as refused credentials).
        f"bulkedit sandbox: {len(sandbox.store)} videos on {base} (the API base; its REST "
        "API is under /rest)",
        f"  API key:    {key}",
        f"  API secret: {secret}   (sandbox credentials, not a secret)",
        f"  state:      {config.state_file or 'in memory (lost when stopped)'}",
        f"  faults:     {', '.join(knobs) if knobs else 'none'}",
        *_account_lines(sandbox),
        "",
        # Two lines that work as copied: the address alone is refused for want of the
        # credentials, so the environment names all three, for every command after it.
        "Use it from another terminal (both lines, as they are):",
        f"  export DAILYMOTION_API_BASE={base} DAILYMOTION_API_KEY={key} "
        f"DAILYMOTION_API_SECRET={secret}",
        "  bulkedit apply SHEET",
        "",
        "Try it with curl:",
        f"  TOKEN=$(curl -s -X POST {base}/oauth/v1/token -d grant_type=client_credentials "
        f"-d client_id={key} -d client_secret={secret} -d scope=manage_videos "
        "| python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')",
        f"  curl -s -H \"Authorization: Bearer $TOKEN\" '{base}/rest/video/x800000?fields=id,"
        "title,tags'",
        "",
        "Serving until Ctrl-C.",
    ])


async def serve_forever(config: SandboxConfig, host: str, port: int, out: Any) -> None:
    """Serve until Ctrl-C or SIGTERM, then stop cleanly (the state file is closed)."""
    stop = asyncio.Event()
    with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with Sandbox(config, host=host, port=port) as sandbox:
        out.write(banner(sandbox) + "\n")
        out.flush()
        await stop.wait()
