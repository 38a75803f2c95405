"""A wrong --api-base (issue 29) is one message naming the address and the fix, exit 2,
before any row is tried: not "the API refused the credentials" once per row."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import apply, sheet, titles

from bulkedit.core.apibase import not_an_api_answer, wrong_base_message

HTML = {"Content-Type": "text/html; charset=utf-8"}
JSON = {"Content-Type": "application/json"}


# ----------------------------------------------------------------------------- the rule

@pytest.mark.parametrize(("status", "headers", "body", "seen"), [
    (404, HTML, b"<h1>Not Found</h1>", "HTTP 404"),
    (405, JSON, b'{"error": "method"}', "HTTP 405"),
    (200, HTML, b"<html>welcome</html>", "HTTP 200 with an HTML page"),
    (400, {}, b"bad request", "HTTP 400 with an answer that is not JSON"),
    (401, JSON, b'{"error": {"code": 401, "message": "An access token is required", '
                b'"type": "invalid_request"}}', "HTTP 401 in the REST API's error format"),
])
def test_answers_that_are_not_the_token_route(status, headers, body, seen):
    assert not_an_api_answer(status, headers, body) == seen


@pytest.mark.parametrize(("status", "headers", "body"), [
    (200, JSON, b'{"access_token": "t", "expires_in": 3600}'),
    (401, JSON, b'{"error": "invalid_client", "error_description": "Invalid client"}'),
    (400, JSON, b'{"error": "invalid_scope", "error_description": "Unknown scope"}'),
    (429, HTML, b"<html>slow down</html>"),  # throttling is never a wrong address
    (502, HTML, b"<html>bad gateway</html>"),  # a passing fault: retried as ever
])
def test_the_api_s_own_answers_are_left_alone(status, headers, body):
    assert not_an_api_answer(status, headers, body) is None


def test_the_message_names_the_address_the_route_and_the_fix():
    message = wrong_base_message("http://127.0.0.1:8642/rest", "HTTP 404")
    assert message.startswith("the API base URL http://127.0.0.1:8642/rest does not answer "
                              "like the Dailymotion API (HTTP 404 for /rest/oauth/v1/token); "
                              "check --api-base")
    assert message.endswith("without /rest: --api-base http://127.0.0.1:8642")
    assert "without /rest" not in wrong_base_message("https://example.test/api", "HTTP 404")


# ----------------------------------------------------------------------------- end to end

def test_the_rest_root_as_the_base_is_one_message_exit_2_nothing_sent(
        api, run_cli, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, titles(30))
    result = run_cli("apply", str(path), "--api-base", sandbox.base_url + "/rest", "--yes")
    assert result.code == 2
    assert result.err.count("\n") == 1, result.err
    assert (f"the API base URL {sandbox.base_url}/rest does not answer like the Dailymotion "
            "API (HTTP 401 in the REST API's error format for /rest/oauth/v1/token)"
            in result.err)
    assert f"--api-base {sandbox.base_url}" in result.err
    assert "credentials" not in result.err + result.out
    assert sum(sandbox.counters.writes.values()) == 0
    assert sandbox.counters.tokens_issued == 0
    assert apply(run_cli, sandbox, path).code == 0  # the base it named works


@contextmanager
def _web_server() -> Iterator[str]:
    """Something on loopback that is not the API: every path is an HTML 404."""
    class NotTheApi(BaseHTTPRequestHandler):
        def _page(self) -> None:
            page = b"<html><body><h1>404 Not Found</h1></body></html>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        do_GET = do_POST = _page

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), NotTheApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_web_server_as_the_base_is_one_message_exit_2(api, run_cli, tmp_path):
    api()  # the credentials
    path = sheet(tmp_path, titles(10))
    with _web_server() as base:
        result = run_cli("apply", str(path), "--api-base", base, "--yes", "--no-canary")
    assert result.code == 2
    assert result.err == (f"bulkedit: error: the API base URL {base} does not answer like the "
                          "Dailymotion API (HTTP 404 for /oauth/v1/token); check --api-base "
                          "(or $DAILYMOTION_API_BASE, bulkedit.toml's [api] base)\n")


def test_the_sandbox_banner_lines_work_as_copied(tmp_path):
    """The banner's "Use it" lines, pasted into a shell with no credentials set, apply a
    sheet against the sandbox (the address alone was refused for want of credentials)."""
    server = subprocess.Popen(
        [sys.executable, "-m", "bulkedit", "sandbox", "--port", "0", "--videos", "50"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        while not lines or lines[-1].strip() != "Serving until Ctrl-C.":
            line = server.stdout.readline()  # blocks until the banner's next line
            assert line, "".join(lines) + server.stderr.read()
            lines.append(line)
        start = next(i for i, line in enumerate(lines) if line.startswith("Use it"))
        end = lines.index("\n", start)
        pasted = "".join(line.strip() + "\n" for line in lines[start + 1:end])
        assert "--api-base" not in pasted and "/rest" not in pasted, pasted
        path = sheet(tmp_path, titles(5))
        env = {name: value for name, value in os.environ.items()
               if not name.startswith("DAILYMOTION_")}
        script = (f'bulkedit() {{ {shlex.quote(sys.executable)} -m bulkedit "$@"; }}\n'
                  + pasted.replace("SHEET", shlex.quote(str(path))))
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], env=env,
                              cwd=tmp_path, capture_output=True, text=True, timeout=120,
                              check=False)
        assert done.returncode == 0, pasted + done.stdout + done.stderr
        assert "5 updated" in done.stdout, done.stdout
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
