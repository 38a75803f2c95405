"""A certificate the client does not trust (issue 26, point 9) is its own error: never
retried, the run stopped at once, one line saying the certificate was refused — not six
retries reported as a connection failure. Against a TLS server on 127.0.0.1 with a
self-signed certificate."""

from __future__ import annotations

import pytest
from conftest import sheet, titles


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
