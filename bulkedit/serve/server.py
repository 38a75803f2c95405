"""Run `bulkedit serve`: bind 127.0.0.1 (never any other address), print each user's link,
serve until Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import signal
import webbrowser
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from aiohttp import web

from bulkedit.core.errors import UsageError
from bulkedit.run.config import Settings
from bulkedit.run.journal import Journal, default_state_dir
from bulkedit.serve.app import build_app
from bulkedit.serve.guard import TOKEN_PARAM
from bulkedit.serve.origins import LOOPBACK
from bulkedit.serve.state import DEFAULT_MAX_UPLOAD, Listening, ServeState
from bulkedit.serve.users import Keys, users_from
from bulkedit.sheets.files import own_folder


@dataclass(frozen=True)
class ServeOptions:
    port: int
    settings: Settings
    state_dir: Path | None = None
    open_browser: bool = False
    api: str = "the Dailymotion API"
    credentials: Any = None  # --sandbox: the sandbox's key (a client Credentials)
    api_base: str | None = None  # --sandbox: the sandbox's address


def serve_state(options: ServeOptions) -> ServeState:
    """Everything checked before the socket is bound: users, cap, folders."""
    settings = options.settings
    where = str(settings.source) if settings.source else "bulkedit.toml"
    users = users_from(settings.users, where)
    cap = DEFAULT_MAX_UPLOAD
    if settings.max_upload_mb is not None:
        if not 0 < settings.max_upload_mb <= 4096:
            raise UsageError(f"{where}: [serve] max_upload_mb is a size in MB, more than 0 "
                             "and at most 4096")
        cap = int(settings.max_upload_mb * 1024**2)
    state_dir = options.state_dir or settings.state_dir or default_state_dir()
    own_folder(state_dir, "state folder")
    folder = own_folder(state_dir / "serve", "folder of bulkedit serve")
    return ServeState(Keys(users), folder, Listening(), cap, settings, api=options.api,
                      journal=Journal(state_dir), credentials=_keys(options),
                      api_base=options.api_base,
                      second_person=bool(settings.require_second_person))


def _keys(options: ServeOptions) -> Callable[[], Any]:
    """How a plan gets the key it reads with, when it is made: the sandbox's, each
    configured account's own, else bulkedit.toml's or the environment's (as `plan`)."""
    settings, given = options.settings, options.credentials
    if given is not None:
        return lambda: given
    if settings.accounts:
        def own_key(account: Any) -> Any:
            return account.credentials()

        return lambda: own_key
    return settings.credentials  # its named variables (the default ones without a file)


async def start(state: ServeState, port: int) -> web.AppRunner:
    """The app served on 127.0.0.1:`port` (0: a free port, then in `state.listening`)."""
    runner = web.AppRunner(build_app(state), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, LOOPBACK, port)  # loopback only: never a flag, never 0.0.0.0
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(f"port {port} is in use; pass --port with another one, or "
                             "--port 0 for a free one") from None
        raise UsageError(f"cannot listen on {LOOPBACK}:{port} "
                         f"({(exc.strerror or type(exc).__name__).lower()})") from None
    state.listening.port = runner.addresses[0][1]
    return runner


def links(state: ServeState) -> list[tuple[str, str]]:
    base = f"http://{LOOPBACK}:{state.listening.port}/"
    return [(f"{link.user.name} ({link.user.shown_roles()})", f"{base}?{TOKEN_PARAM}={link.token}")
            for link in state.keys.links]


def serve(options: ServeOptions, out: TextIO) -> int:
    state = serve_state(options)
    try:
        return asyncio.run(_serve(state, options, out))
    finally:
        if state.journal is not None:
            state.journal.close()


async def _serve(state: ServeState, options: ServeOptions, out: TextIO) -> int:
    runner = await start(state, options.port)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stopped.set)
    shown = links(state)
    out.write(f"bulkedit serve: http://{LOOPBACK}:{state.listening.port}/ "
              f"(this machine only; Ctrl-C stops it)\n")
    out.write("Each person opens their own link; it signs them in and works until this "
              "server stops:\n")
    for who, url in shown:
        out.write(f"  {who}: {url}\n")
    out.flush()
    with _opened(state, shown[0][1] if options.open_browser else None):
        state.keys.forget_links()  # only the tokens' digests stay in memory
        try:
            await stopped.wait()
        finally:
            await runner.cleanup()
    out.write("bulkedit serve: stopped\n")
    return 0


@contextlib.contextmanager
def _opened(state: ServeState, url: str | None) -> Iterator[None]:
    """--open: the first user's link in the browser, through a private file that redirects
    to it (as Jupyter does), so the token is never on a browser's command line."""
    if url is None:
        yield
        return
    page = state.folder / f"open-{state.listening.port}.html"
    descriptor = os.open(page, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(f'<!doctype html><meta http-equiv="refresh" content="0;url={url}">'
                     f'<a href="{url}">bulkedit serve</a>\n')
    try:
        webbrowser.open(page.as_uri())
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            page.unlink()
