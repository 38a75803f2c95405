"""A certificate the client does not trust (issue 26, point 9) is its own error: never
retried, the run stopped at once, one line saying the certificate was refused — not six
retries reported as a connection failure. Against a TLS server on 127.0.0.1 with a
self-signed certificate."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator

import pytest
from conftest import sheet, titles


@pytest.fixture
def untrusted_server(tmp_path) -> Iterator[tuple[str, list[str]]]:
    """https://127.0.0.1:PORT with a self-signed certificate; the paths it was asked."""
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


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_a_refused_certificate_is_said_once_and_never_retried(run_cli, tmp_path, monkeypatch,
                                                              untrusted_server, command):
    base, received = untrusted_server
    monkeypatch.setenv("DAILYMOTION_API_KEY", "key")
    monkeypatch.setenv("DAILYMOTION_API_SECRET", "the-client-secret")
    path = sheet(tmp_path, titles(30))
    extra = ("--yes",) if command == "apply" else ()
    result = run_cli(command, str(path), "--api-base", base, "--rate", "0", *extra)
    said = result.out + result.err
    assert result.code == 3, said
    assert "TLS certificate of 127.0.0.1 was refused" in said
    assert "connection to the API failed" not in said
    assert "retr" not in result.err.lower()  # nothing retried
    assert received == []
