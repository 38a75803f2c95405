"""`bulkedit serve` as a user runs it: it listens on 127.0.0.1 only, prints one sign-in link
per user (never anything secret besides them), and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import http.client
import os
import selectors
import signal
import subprocess
import sys
from pathlib import Path

from bulkedit.cli.main import build_parser
from bulkedit.run.config import Settings
from bulkedit.serve.server import ServeOptions, serve_state, start


def test_the_server_binds_loopback_only(tmp_path):
    async def main() -> list[tuple[str, int]]:
        state = serve_state(ServeOptions(port=0, settings=Settings(), state_dir=tmp_path))
        runner = await start(state, 0)
        try:
            return [tuple(address[:2]) for address in runner.addresses]
        finally:
            await runner.cleanup()

    addresses = asyncio.run(main())
    assert addresses and all(host == "127.0.0.1" for host, _ in addresses)
    serve = next(a for a in build_parser()._actions if a.choices and "serve" in a.choices)
    options = {o for a in serve.choices["serve"]._actions for o in a.option_strings}
    assert not options & {"--host", "--bind", "--address", "--listen"}  # nothing to widen it


def _lines(process: subprocess.Popen, count: int) -> list[str]:
    """The first `count` lines the server prints, read as they come (it runs on)."""
    said = b""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while said.count(b"\n") < count:
            assert selector.select(timeout=60), f"bulkedit serve said only {said!r}"
            chunk = os.read(process.stdout.fileno(), 4096)
            assert chunk, f"bulkedit serve ended: {said!r} {process.stderr.read()!r}"
            said += chunk
    return [line + "\n" for line in said.decode().split("\n")[:count]]


def test_serve_prints_one_link_per_user_and_each_signs_its_user_in(tmp_path):
    config = tmp_path / "bulkedit.toml"
    config.write_text('[serve]\nusers = [\n  { name = "ana", roles = ["editor"] },\n'
                      '  { name = "ben", roles = ["approver", "editor"] },\n]\n')
    config.chmod(0o600)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    process = subprocess.Popen(
        [sys.executable, "-m", "bulkedit", "serve", "--port", "0", "--config", str(config),
         "--state-dir", str(tmp_path / "state")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        lines = _lines(process, 4)
        assert lines[0].startswith("bulkedit serve: http://127.0.0.1:")
        links = {line.split(":", 1)[0].strip(): line.split(": ", 1)[1].strip()
                 for line in lines[2:]}
        assert set(links) == {"ana (editor)", "ben (editor, approver)"}
        tokens = [url.split("?token=", 1)[1] for url in links.values()]
        assert len(set(tokens)) == 2 and all(len(t) >= 43 for t in tokens)  # 256 bits each
        port = int(lines[0].split("127.0.0.1:", 1)[1].split("/", 1)[0])
        for who, url in links.items():
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("GET", url.split(f":{port}", 1)[1])
            signed_in = connection.getresponse()
            assert signed_in.status == 303
            cookie = signed_in.getheader("Set-Cookie").split(";", 1)[0]
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("GET", "/", headers={"Cookie": cookie})
            page = connection.getresponse().read().decode()
            assert f"<span class=\"who\">{who}</span>" in page
            connection.close()
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = (text.decode() for text in process.communicate(timeout=60))
    assert process.returncode == 0, err
    assert out == "bulkedit serve: stopped\n" and err == ""  # no access log: no token in it
    assert not any(t in out + err for t in tokens)
