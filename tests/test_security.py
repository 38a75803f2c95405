"""Let no one in (issue 14): where credentials may go, the hostile inbox, secrets at rest,
the terminal. Each test names the guarantee of SECURITY.md it holds."""

from __future__ import annotations

import asyncio
import socket

import pytest
from conftest import sheet, titles

from bulkedit.core.errors import UsageError
from bulkedit.core.protocol import checked_api_base

# ----------------------------------------------------------------------------- the API base

@pytest.mark.parametrize("base", [
    "https://partner.api.dailymotion.com", "https://api.dailymotion.com/",
    "HTTPS://Partner.API.Dailymotion.com", "http://127.0.0.1:8080", "http://127.3.2.1",
    "http://localhost:9000", "http://[::1]:8080", "https://127.0.0.1"])
def test_credentials_may_go_to_dailymotion_over_https_and_to_loopback(base):
    assert checked_api_base(base) == base.strip().rstrip("/")


@pytest.mark.parametrize(("base", "said"), [
    ("http://partner.api.dailymotion.com", "plain http"),
    ("http://10.0.0.5:8080", "plain http"),
    ("http://192.168.1.10", "plain http"),
    ("https://partner.api.dailymotion.com.evil.example", "not a Dailymotion API host"),
    ("https://evil.example/rest", "--allow-api-host evil.example"),
    ("https://127.0.0.1.nip.io", "not a Dailymotion API host"),
    ("http://[::1", "not a URL"), ("ftp://partner.api.dailymotion.com", "not a URL"),
    ("partner.api.dailymotion.com", "not a URL"), ("", "not a URL"),
    ("https://partner.api.dailymotion.com:port", "not a URL"),
    ("https://me:hunter2@partner.api.dailymotion.com", "user name or password"),
    ("https://partner.api.dailymotion.com/?x=1", "query"),
])
def test_any_other_base_is_refused_with_its_fix(base, said):
    with pytest.raises(UsageError) as caught:
        checked_api_base(base)
    assert said in str(caught.value) and "\n" not in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_a_host_the_user_names_is_allowed_over_https_only():
    assert checked_api_base("https://api.example.com", ["API.example.com"])
    with pytest.raises(UsageError, match="plain http"):
        checked_api_base("http://api.example.com", ["api.example.com"])


@pytest.fixture
def no_connection(monkeypatch):
    """Any attempt to open a connection fails the test: a refusal must come first."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(asyncio.base_events.BaseEventLoop, "create_connection", refuse)
    monkeypatch.setattr(asyncio.base_events.BaseEventLoop, "sock_connect", refuse)


@pytest.mark.parametrize("where", ["flag", "environment", "bulkedit.toml"])
@pytest.mark.parametrize("command", ["apply", "plan", "export", "batch"])
def test_every_command_refuses_a_plain_http_base_before_connecting(
        run_cli, tmp_path, monkeypatch, no_connection, where, command):
    monkeypatch.setenv("DAILYMOTION_API_KEY", "key")
    monkeypatch.setenv("DAILYMOTION_API_SECRET", "secret")
    monkeypatch.delenv("DAILYMOTION_API_BASE", raising=False)
    monkeypatch.chdir(tmp_path)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    path = sheet(inbox if command == "batch" else tmp_path, titles(2))
    base = "http://203.0.113.7:8080"  # TEST-NET-3: never routed, and never tried
    extra: list[str] = []
    if where == "flag":
        extra = ["--api-base", base]
    elif where == "environment":
        monkeypatch.setenv("DAILYMOTION_API_BASE", base)
    else:
        (tmp_path / "bulkedit.toml").write_text(f'[api]\nbase = "{base}"\n')
    args = {"apply": ["apply", str(path), "--yes"], "plan": ["plan", str(path)],
            "export": ["export", "--ids", str(path), "-o", str(tmp_path / "out.csv")],
            "batch": ["batch", str(inbox)]}[command]
    result = run_cli(*args, *extra)
    assert result.code == 2, result.out + result.err
    assert "plain http" in result.err and "secret" not in result.err.replace(
        "client secret", "")


def test_a_settings_file_that_moves_the_api_says_so(run_cli, api, tmp_path, monkeypatch):
    sandbox = api()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bulkedit.toml").write_text(f'[api]\nbase = "{sandbox.base_url}"\n')
    path = sheet(tmp_path, titles(2))
    result = run_cli("plan", str(path))
    assert result.code == 0, result.err
    assert f"sends the API calls to {sandbox.base_url}" in result.err
    quiet = run_cli("plan", str(path), "--api-base", sandbox.base_url)
    assert "sends the API calls" not in quiet.err  # a flag says it already
