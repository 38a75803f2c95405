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
    "http://[::1]:8080", "https://127.0.0.1"])
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
    ("http://[::1]evil.example", "not a URL"), ("http://127.0.0.1/\x1b[2J", "not a URL"),
    ("http://localhost:9000", "write 127.0.0.1"),
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


# ----------------------------------------------------------------------------- the inbox

def _inbox(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    return inbox


def _night(run_cli, sandbox, inbox, *extra):
    return run_cli("batch", str(inbox), "--api-base", sandbox.base_url, "--rate", "0",
                   "--log", str(inbox.parent / "night.jsonl"), *extra)


def test_the_inbox_never_follows_a_symlink(api, run_cli, tmp_path):
    import json

    sandbox = api()
    inbox = _inbox(tmp_path)
    secret = tmp_path / "credentials.toml"
    secret.write_text('api_key = "k"\napi_secret = "never-echo-this"\n')
    secret.chmod(0o600)
    (inbox / "shadow.csv").symlink_to(secret)
    elsewhere = sheet(tmp_path, titles(2), "elsewhere.csv")
    (inbox / "edits.csv").symlink_to(elsewhere)
    night = _night(run_cli, sandbox, inbox)
    assert night.code == 2, night.out + night.err
    assert sum(sandbox.counters.writes.values()) == 0
    everything = night.out + night.err + (tmp_path / "night.jsonl").read_text()
    for path in tmp_path.rglob("*"):
        if path.is_file() and not path.is_symlink() and path != secret:
            everything += path.read_bytes().decode("utf-8", "replace")
    assert "never-echo-this" not in everything
    events = [json.loads(line) for line in (tmp_path / "night.jsonl").read_text().splitlines()]
    refused = {e["sheet"]: e["error"] for e in events if e["event"] == "sheet_refused"}
    assert set(refused) == {"shadow.csv", "edits.csv"}
    assert all("symbolic link" in why for why in refused.values())
    assert (inbox / "shadow.csv").is_symlink() and secret.read_text().startswith("api_key")


def test_the_inbox_refuses_files_others_may_write_unless_trusted(api, run_cli, tmp_path):
    sandbox = api()
    inbox = _inbox(tmp_path)
    shared = sheet(inbox, titles(2), "shared.csv")
    shared.chmod(0o666)
    refused = _night(run_cli, sandbox, inbox)
    assert refused.code == 2 and sum(sandbox.counters.writes.values()) == 0
    assert "--trust-inbox" in (tmp_path / "night.jsonl").read_text()
    trusted = _night(run_cli, sandbox, inbox, "--trust-inbox")
    assert trusted.code == 0, trusted.out + trusted.err
    assert sum(sandbox.counters.writes.values()) == 2


def test_a_special_file_in_the_inbox_is_never_opened(api, run_cli, tmp_path):
    import os

    sandbox = api()
    inbox = _inbox(tmp_path)
    os.mkfifo(inbox / "pipe.csv")  # opening it would hang the night
    night = _night(run_cli, sandbox, inbox, "--trust-inbox")
    assert night.code == 2 and "not a regular file" in (tmp_path / "night.jsonl").read_text()


def test_a_file_name_cannot_forge_a_log_line_or_drive_the_terminal(api, run_cli, tmp_path):
    import json

    sandbox = api()
    inbox = _inbox(tmp_path)
    name = 'x\x1b[2J\n{"event": "forged"}\u202e\u009b.csv'
    sheet(inbox, titles(1), name)
    night = _night(run_cli, sandbox, inbox)
    lines = (tmp_path / "night.jsonl").read_text(encoding="utf-8").splitlines()
    assert all(json.loads(line)["event"] != "forged" for line in lines)
    for text in (*lines, night.out, night.err):
        assert not any(c in text for c in "\x1b\u202e\u009b"), text


# ----------------------------------------------------------------------------- secrets at rest

def test_a_password_is_masked_in_every_artifact(api, run_cli, tmp_path):
    import zipfile

    sandbox = api()
    path = sheet(tmp_path, [{"video_id": titles(1)[0]["video_id"], "password": "Hunter2-pw"}])
    saved = tmp_path / "p.json"
    plan = run_cli("plan", str(path), "--api-base", sandbox.base_url, "--save", str(saved))
    assert plan.code == 0, plan.err
    assert saved.exists()  # scanned below with every other artifact
    applied = run_cli("apply", str(path), "--api-base", sandbox.base_url, "--yes",
                      "--rate", "0", "--summary-json", str(tmp_path / "s.json"),
                      "--plan", str(saved))
    assert applied.code == 0, applied.err
    seen = plan.out + plan.err + applied.out + applied.err
    for artifact in tmp_path.rglob("*"):
        if not artifact.is_file() or artifact == path or artifact.parent.name == "sheets":
            continue  # the user's sheet, and the run's private copy of it (0600, in 0700)
        data = artifact.read_bytes()
        if zipfile.is_zipfile(artifact):
            with zipfile.ZipFile(artifact) as book:
                data = b"".join(book.read(n) for n in book.namelist())
        assert b"Hunter2-pw" not in data, artifact
    assert "Hunter2-pw" not in seen
    results = (tmp_path / "edits.results.csv").read_text(encoding="utf-8-sig")
    assert "***" in results
    # The masked results sheet, applied again, is refused, never sent as the password.
    again = run_cli("apply", str(tmp_path / "edits.results.csv"), "--api-base",
                    sandbox.base_url, "--yes", "--rate", "0")
    assert again.code == 2 and "masks a password" in again.out


def test_the_journal_and_the_undo_are_private(api, run_cli, tmp_path, state_dir):
    import stat as st

    sandbox = api()
    path = sheet(tmp_path, titles(2))
    assert run_cli("apply", str(path), "--api-base", sandbox.base_url, "--yes",
                   "--rate", "0").code == 0
    assert st.S_IMODE(state_dir.stat().st_mode) == 0o700
    assert st.S_IMODE((tmp_path / "locks").stat().st_mode) == 0o700  # BULKEDIT_LOCK_DIR
    for private in (state_dir / "journal.sqlite", tmp_path / "edits.rollback.csv",
                    *(state_dir / "sheets").iterdir(), *(state_dir / "seals").iterdir(),
                    *(tmp_path / "locks").iterdir()):
        assert st.S_IMODE(private.stat().st_mode) == 0o600, private
    results = tmp_path / "edits.results.csv"
    assert st.S_IMODE(results.stat().st_mode) == 0o666 & ~_umask()


def _umask() -> int:
    import os

    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# ----------------------------------------------------------------------------- the network

def test_a_self_signed_certificate_is_refused_before_any_request(untrusted_server):
    """TLS verification stays on: a server with a certificate no authority signed never
    receives the token request (and so never sees the client secret)."""
    from bulkedit.client.connect import connect
    from bulkedit.client.transport import Credentials
    from bulkedit.core import protocol
    from bulkedit.core.errors import CertificateRefused
    from bulkedit.core.policy import ApiLimits

    base, received = untrusted_server

    async def scenario() -> BaseException | None:
        async with connect(Credentials("key", "the-client-secret"), base,
                           ApiLimits(rate=0, max_attempts=1)) as dispatcher:
            try:
                await dispatcher.client.send(protocol.read_videos_request(["x1"], ["title"]))
            except CertificateRefused as error:
                return error
        return None

    error = asyncio.run(scenario())
    assert isinstance(error, CertificateRefused) and "certificate" in str(error)
    assert received == []


def test_a_network_error_says_its_kind_and_nothing_of_the_request():
    """aiohttp's exception text can carry the request (its headers: the token); the
    message shows only the kind of failure."""
    from bulkedit.client.connect import connect
    from bulkedit.client.transport import Credentials
    from bulkedit.core import protocol
    from bulkedit.core.errors import NetworkError
    from bulkedit.core.policy import ApiLimits

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the block ends: refused

    async def scenario() -> str:
        async with connect(Credentials("key", "the-client-secret"), f"http://127.0.0.1:{port}",
                           ApiLimits(rate=0, max_attempts=1)) as dispatcher:
            try:
                await dispatcher.client.send(protocol.read_videos_request(["x1"], ["title"]))
            except NetworkError as error:
                return str(error)
        return ""

    assert asyncio.run(scenario()) == "connection to the API failed (ClientConnectorError)"


def test_an_internal_error_is_one_line_without_traceback(run_cli, monkeypatch):
    """A bug of ours (here: the table printer breaks) is one line, exit 70: no traceback,
    and not the exception's own text, which could hold anything."""
    from bulkedit.cli import main as cli_main

    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug whose text might hold anything: s3cr3t-token")

    monkeypatch.delenv("BULKEDIT_DEBUG", raising=False)
    monkeypatch.setattr(cli_main, "print_table", broken)
    result = run_cli("fields")
    assert result.code == 70
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    assert "s3cr3t-token" not in result.err and "RuntimeError" in result.err


# ----------------------------------------------------------------------------- the terminal

UNSAFE = ["\x1b[31m", "\x9b2J", "\x85", "\u202e", "\x7f", "\u200b", "\x07"]


def test_no_cell_reaches_the_terminal_raw(run_cli, tmp_path):
    rows = [{"video_id": "x7zq1a", "private": f"maybe{c}"} for c in UNSAFE]
    path = sheet(tmp_path, rows)
    result = run_cli("validate", str(path))
    assert result.code == 1, result.out + result.err
    for c in UNSAFE:
        assert c not in result.out + result.err
        assert f"\\u{ord(c[0]):04x}" in result.out


def test_the_html_report_escapes_every_value(api, run_cli, tmp_path):
    sandbox = api()
    video = titles(1)[0]["video_id"]
    path = sheet(tmp_path, [{"video_id": video, "title": "<script>alert(1)</script>&"}])
    result = run_cli("plan", str(path), "--api-base", sandbox.base_url)
    assert result.code == 0, result.err
    page = (tmp_path / "edits.plan.html").read_text(encoding="utf-8")
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page


# ----------------------------------------------------------------------------- review findings

def test_a_settings_file_others_may_write_is_refused(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    toml = tmp_path / "bulkedit.toml"
    toml.write_text('[api]\nbase = "https://collector.example"\nallow_hosts = '
                    '["collector.example"]\n')
    toml.chmod(0o666)
    result = run_cli("config")
    assert result.code == 2 and "may be written by other users" in result.err


@pytest.mark.parametrize("folder", ["done", ".bulkedit", ".bulkedit/work", "summaries"])
def test_a_symlinked_folder_in_the_inbox_is_refused(api, run_cli, tmp_path, folder):
    sandbox = api()
    inbox = _inbox(tmp_path)
    sheet(inbox, titles(2))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (inbox / folder).parent.mkdir(parents=True, exist_ok=True)
    (inbox / folder).symlink_to(elsewhere, target_is_directory=True)
    night = _night(run_cli, sandbox, inbox)
    assert night.code == 2, night.out + night.err
    assert "symbolic link" in night.err
    assert sum(sandbox.counters.writes.values()) == 0 and list(elsewhere.iterdir()) == []


def test_a_private_folder_others_could_read_is_made_private(api, run_cli, tmp_path):
    import stat as st

    sandbox = api()
    inbox = _inbox(tmp_path)
    sheet(inbox, titles(2))
    (inbox / ".bulkedit").mkdir(mode=0o777)
    (inbox / ".bulkedit").chmod(0o777)
    night = _night(run_cli, sandbox, inbox)
    assert night.code == 0, night.out + night.err
    assert st.S_IMODE((inbox / ".bulkedit").stat().st_mode) == 0o700


def test_an_unread_formula_in_the_password_column_is_never_echoed(run_cli, tmp_path):
    from conftest import write_xlsx

    # xlsxwriter writes a text starting with = as a formula Excel has not calculated yet
    path = write_xlsx(tmp_path / "pw.xlsx", [["video_id", "password"], ["x7zq1a", "=PWLEAK2Zx"]])
    result = run_cli("validate", str(path), "--report", str(tmp_path / "problems.csv"))
    assert result.code == 1, result.out + result.err
    everything = result.out + result.err + (tmp_path / "problems.csv").read_text()
    assert "PWLEAK2Zx" not in everything and "password" in everything


def test_a_file_name_cannot_forge_a_line_of_the_batch_output(api, run_cli, tmp_path):
    sandbox = api()
    inbox = _inbox(tmp_path)
    sheet(inbox, titles(1), "x\nbatch_done sheets=0 exit_code=0\n.csv")
    night = _night(run_cli, sandbox, inbox)
    assert not any(line.startswith("batch_done sheets=0") for line in night.out.splitlines())
