"""Shared helpers: build real sheet files on disk, the way Excel and people write them."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
import xlsxwriter

from bulkedit.cli.main import main
from bulkedit.sandbox import ApiKey, SandboxConfig, running_sandbox
from bulkedit.sandbox.store import video_id

Cell = str | int | float | bool | dt.date | dt.datetime | None


def write_csv_bytes(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(path: Path, rows: Sequence[Sequence[Cell]], *, sheet: str = "Sheet1",
               formulas: dict[str, tuple[str, object]] | None = None,
               extra_sheets: Sequence[tuple[str, bool]] = (), first_row: int = 0,
               text_cells: Sequence[tuple[int, int]] = ()) -> Path:
    """An XLSX written like Excel does: shared strings, typed cells, cached formula values.

    `extra_sheets` are (name, hidden) pairs added before the data sheet when
    hidden, after it otherwise; `formulas` maps a cell like "C2" to
    (formula, cached value).
    """
    book = xlsxwriter.Workbook(str(path))
    date_format = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    for name, hidden in extra_sheets:
        if hidden:
            book.add_worksheet(name).hide()
    ws = book.add_worksheet(sheet)
    ws.activate()  # Excel opens on the data sheet; a hidden sheet cannot be the active one
    for name, hidden in extra_sheets:
        if not hidden:
            book.add_worksheet(name).write(0, 0, "other")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, dt.date | dt.datetime):
                ws.write_datetime(first_row + r, c, value, date_format)
            elif (r, c) in text_cells:
                ws.write_string(first_row + r, c, str(value))
            else:
                ws.write(first_row + r, c, value)
    for cell, (formula, cached) in (formulas or {}).items():
        ws.write_formula(cell, formula, None, cached)
    book.close()
    if formulas:  # as Excel saves a file it calculated: no "recalculate on load" flag
        import zipfile

        data = path.read_bytes()
        with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(path, "w") as out:
            for item in source.infolist():
                part = source.read(item)
                if item.filename == "xl/workbook.xml":
                    part = part.replace(b' fullCalcOnLoad="1"', b"")
                out.writestr(item, part)
    return path


class FakeClock:
    """A dispatcher's clock and sleep that only move when something waits: the tests of
    throttling, retries and quota holds run on it in no time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)  # let the other workers run, as a real wait would


class CliResult:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err


@pytest.fixture
def run_cli():
    """Run `bulkedit ARGS…` in-process; returns exit code, stdout and stderr."""
    import io

    def run(*args: str) -> CliResult:
        out, err = io.StringIO(), io.StringIO()
        code = main(list(args), out=out, err=err)
        return CliResult(code, out.getvalue(), err.getvalue())

    return run


def write_ods(path: Path, rows: Sequence[Sequence[str]]) -> Path:
    """A minimal OpenDocument spreadsheet (what LibreOffice saves), text cells only."""
    import zipfile
    from xml.sax.saxutils import escape

    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')
    body = "".join(
        "<table:table-row>" + "".join(
            f'<table:table-cell office:value-type="string"><text:p>{escape(c)}</text:p>'
            "</table:table-cell>" for c in row) + "</table:table-row>" for row in rows)
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} '
               'office:version="1.2"><office:body><office:spreadsheet>'
               f'<table:table table:name="Edits">{body}</table:table>'
               "</office:spreadsheet></office:body></office:document-content>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
                'manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
                'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                '<manifest:file-entry manifest:full-path="content.xml" '
                'manifest:media-type="text/xml"/></manifest:manifest>')
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet",
                         compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", manifest)
        archive.writestr("content.xml", content)
    return path


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's own run journal folder (the user's state folder otherwise), inherited by
    the bulkedit processes tests start."""
    folder = tmp_path / "state"
    monkeypatch.setenv("BULKEDIT_STATE_DIR", str(folder))
    # Sheet locks live in one folder every state folder shares (run/lock.py): the test's.
    monkeypatch.setenv("BULKEDIT_LOCK_DIR", str(tmp_path / "locks"))
    # A sheet a test has just written is taken at once (tests of settling say otherwise).
    monkeypatch.setenv("BULKEDIT_SETTLE", "0")
    # Never the real user's settings (~/.config/bulkedit/bulkedit.toml, $BULKEDIT_CONFIG):
    # each test has its own, empty, user config folder.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "user-config"))
    monkeypatch.delenv("BULKEDIT_CONFIG", raising=False)
    return folder


# ----------------------------------------------------------------------------- the API sandbox
SECRET = "s3cr3t-Zq81-never-print-me"
KEY = ApiKey("test-key-4711", SECRET, can_set_thumbnail=True)


def sheet(tmp_path: Path, rows: list[dict[str, str]], name: str = "edits.csv") -> Path:
    path = tmp_path / name
    headers = list(dict.fromkeys(h for r in rows for h in r))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, headers)
        writer.writeheader()
        writer.writerows(rows)
    return path


def titles(count: int, start: int = 0, prefix: str = "New title") -> list[dict[str, str]]:
    return [{"video_id": video_id(i), "title": f"{prefix} {i}"} for i in
            range(start, start + count)]


def results(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def api(monkeypatch):
    """Start a sandbox with a config and point the credentials at it."""
    monkeypatch.setenv("DAILYMOTION_API_KEY", KEY.key)
    monkeypatch.setenv("DAILYMOTION_API_SECRET", KEY.secret)
    monkeypatch.delenv("DAILYMOTION_API_BASE", raising=False)
    stack = []

    def start(**config):
        manager = running_sandbox(SandboxConfig(**{"videos": 200, "keys": (KEY,), **config}))
        sandbox = manager.__enter__()
        stack.append(manager)
        return sandbox

    yield start
    for manager in reversed(stack):
        manager.__exit__(None, None, None)


def apply(run_cli, sandbox, path: Path, *extra: str):
    return run_cli("apply", str(path), "--api-base", sandbox.base_url, "--yes", "--rate", "0",
                   *extra)


# ----------------------------------------------------------------------------- problem codes
# Every problem code the suite makes a sheet produce must be in the one registry
# (bulkedit/core/problems.py), which docs/sheet.md's table of problems is made from: the
# session fails, naming the code, when one is missing.
CODES_SEEN: dict[str, str] = {}


def _record_codes() -> None:
    from bulkedit.core.types import Issue

    made = Issue.__init__

    def init(self, row, column, value, code, message, *args, **kwargs):  # type: ignore[no-untyped-def]
        CODES_SEEN.setdefault(code, message)
        made(self, row, column, value, code, message, *args, **kwargs)

    Issue.__init__ = init  # type: ignore[method-assign]


_record_codes()


def pytest_sessionfinish(session, exitstatus):
    from bulkedit.core.problems import PROBLEMS

    missing = sorted(set(CODES_SEEN) - set(PROBLEMS))
    if missing:
        import sys

        sys.stderr.write("\nproblem codes not in bulkedit/core/problems.py: "
                         + "; ".join(f"{c} ({CODES_SEEN[c][:80]})" for c in missing) + "\n")
        session.exitstatus = 1


ODS_NAMESPACES = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
                  'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
                  'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
                  'xmlns:config="urn:oasis:names:tc:opendocument:xmlns:config:1.0"')


def ods_cells(*cells: str | None) -> str:
    """ODS text cells (None: an empty cell)."""
    from xml.sax.saxutils import escape

    return "".join(
        "<table:table-cell/>" if c is None else
        f'<table:table-cell office:value-type="string"><text:p>{escape(c)}</text:p>'
        "</table:table-cell>" for c in cells)


def ods_row(*cells: str | None, attrs: str = "") -> str:
    """An ODS table row of text cells (None: an empty cell)."""
    return f"<table:table-row {attrs}>{ods_cells(*cells)}</table:table-row>"


def write_ods_tables(path: Path, tables: str, active: str | None = None) -> Path:
    """An ODS whose content.xml body is `tables` (raw table:table elements), and whose
    settings.xml names the active tab, as LibreOffice saves it."""
    import zipfile

    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               f'{ODS_NAMESPACES} office:version="1.3"><office:body><office:spreadsheet>'
               f"{tables}</office:spreadsheet></office:body></office:document-content>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet",
                         compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", content)
        if active is not None:
            archive.writestr("settings.xml", (
                f'<?xml version="1.0" encoding="UTF-8"?><office:document-settings '
                f'{ODS_NAMESPACES} office:version="1.3"><office:settings>'
                '<config:config-item-set config:name="ooo:view-settings">'
                '<config:config-item-map-indexed config:name="Views"><config:config-item-map-entry>'
                '<config:config-item config:name="ActiveTable" config:type="string">'
                f"{active}</config:config-item></config:config-item-map-entry>"
                "</config:config-item-map-indexed></config:config-item-set></office:settings>"
                "</office:document-settings>"))
        archive.writestr("META-INF/manifest.xml", (
            '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:'
            'manifest:1.0" manifest:version="1.3"><manifest:file-entry manifest:full-path="/" '
            'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type='
            '"text/xml"/></manifest:manifest>'))
    return path


def grow_while_read(monkeypatch, path: Path, extra: bytes) -> list[bool]:
    """Make `path` grow by `extra` just after bulkedit's first read of it, as a program
    still writing it would (an upload, cp, scp): every os.fdopen of that inode returns a
    reader that appends once. The list returned holds True once it has grown."""
    import os

    grown: list[bool] = []
    inode = path.stat().st_ino
    real_fdopen = os.fdopen

    class Growing:
        def __init__(self, handle):
            self._handle = handle

        def read(self, size=-1):
            block = self._handle.read(size)
            if block and not grown:
                with path.open("ab") as other:
                    other.write(extra)
                grown.append(True)
            return block

        def __getattr__(self, name):
            return getattr(self._handle, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self._handle.close()

    def opening(descriptor, *args, **kwargs):
        handle = real_fdopen(descriptor, *args, **kwargs)
        return Growing(handle) if os.fstat(descriptor).st_ino == inode else handle

    monkeypatch.setattr(os, "fdopen", opening)
    return grown


@pytest.fixture
def untrusted_server(tmp_path) -> Iterator[tuple[str, list[str]]]:
    """https://127.0.0.1:PORT with a self-signed certificate (in a thread, on loopback);
    the paths it was asked. Skipped where openssl is missing."""
    import asyncio
    import shutil
    import ssl
    import subprocess
    import threading

    from aiohttp import web

    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a self-signed certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    received: list[str] = []
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    where: list[str] = []

    async def anything(request: web.Request) -> web.Response:
        received.append(request.path)
        return web.json_response({"access_token": "t", "expires_in": 3600})

    async def start() -> web.AppRunner:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", anything)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        where.append(f"https://127.0.0.1:{site._server.sockets[0].getsockname()[1]}")
        return runner

    def serve() -> None:
        asyncio.set_event_loop(loop)
        runner = loop.run_until_complete(start())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    ready.wait()
    yield where[0], received
    loop.call_soon_threadsafe(loop.stop)
    thread.join()
