"""Secrets never leak: every command is run, and every artefact it leaves is scanned for
the API secret and for every token the API issued."""

from __future__ import annotations

import zipfile
from pathlib import Path

from conftest import KEY, SECRET, sheet, titles

from bulkedit.client.transport import Credentials, DailymotionClient
from bulkedit.core.errors import CredentialsRejected
from bulkedit.core.protocol import parse_token_response


def texts_under(folder: Path) -> dict[str, str]:
    """Every file as text: XLSX parts unzipped, SQLite and others as raw bytes."""
    found: dict[str, str] = {}
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if data.startswith(b"PK\x03\x04"):
            with zipfile.ZipFile(path) as archive:
                data = b"".join(archive.read(name) for name in archive.namelist())
        found[str(path)] = data.decode("utf-8", "replace")
    return found


def test_no_command_leaves_a_secret_or_a_token(run_cli, api, tmp_path, monkeypatch):
    sandbox = api(fail_rate=0.1, drop_rate=0.05, token_lifetime=0.5)
    monkeypatch.chdir(tmp_path)
    edits = sheet(tmp_path, [*titles(40), {"video_id": "xgone", "title": "x"}])
    # --verbose: each retry (a 5xx, a dropped connection, an expired token) is told too.
    base = ("--api-base", sandbox.base_url, "--rate", "0", "--max-attempts", "12",
            "--backoff", "0.01", "--verbose")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    sheet(inbox, titles(10, start=50), "night.csv")
    outputs = [
        run_cli("fields"),
        run_cli("validate", str(edits), "--report", str(tmp_path / "problems.xlsx")),
        run_cli("template", "-o", str(tmp_path / "template.xlsx")),
        run_cli("plan", str(edits), *base, "--save", str(tmp_path / "plan.json")),
        run_cli("apply", str(edits), *base, "--yes", "--verify", "--summary-json",
                str(tmp_path / "summary.json"), "--plan", str(tmp_path / "plan.json")),
        run_cli("export", "--owner", "x1ch000", "-o", str(tmp_path / "export.xlsx"), *base),
        run_cli("batch", str(inbox), "--api-base", sandbox.base_url, "--rate", "0", "--log",
                str(tmp_path / "night.jsonl"), "--verbose"),
        run_cli("runs"),
    ]
    run_id = outputs[-1].out.splitlines()[2].split()[0]
    outputs.append(run_cli("report", run_id, "--summary-json", str(tmp_path / "again.json")))
    wrong = [("DAILYMOTION_API_SECRET", "WRONG-secret-0000"), ("DAILYMOTION_API_KEY", "nobody")]
    for name, value in wrong:
        monkeypatch.setenv(name, value)
    outputs.append(run_cli("apply", str(edits), *base, "--yes", "--fresh"))
    assert outputs[-1].code == 3 and "refused the credentials" in outputs[-1].out

    tokens = list(sandbox.app.tokens)
    assert sandbox.counters.tokens_issued >= 3 and tokens
    assert {o.code for o in outputs} <= {0, 1, 3}
    assert any(" of 12 in " in o.err for o in outputs)  # the retries were told
    artefacts = {f"out {i}": o.out + o.err for i, o in enumerate(outputs)}
    artefacts.update(texts_under(tmp_path))
    assert any(name.endswith("journal.sqlite") for name in artefacts)
    for name, text in artefacts.items():
        assert SECRET not in text, name
        assert "WRONG-secret-0000" not in text, name
        leaked = [t for t in tokens if t in text]
        assert not leaked, name


def test_reprs_and_errors_hold_no_secret():
    credentials = Credentials(KEY.key, SECRET)
    assert SECRET not in repr(credentials) and SECRET not in str(credentials)
    client = DailymotionClient(None, credentials, "http://127.0.0.1:9")  # type: ignore[arg-type]
    assert SECRET not in repr(client) and SECRET not in repr(vars(client))
    token = parse_token_response(200, {}, b'{"access_token": "tok-123", "expires_in": 60}')
    assert "tok-123" not in repr(token)
    try:
        parse_token_response(401, {}, b'{"error": "invalid_client"}')
    except CredentialsRejected as error:
        assert SECRET not in str(error) and "DAILYMOTION_API_SECRET" in str(error)


def test_no_command_leaves_any_account_s_secret(run_cli, api, tmp_path, monkeypatch):
    """The same sweep with three accounts in bulkedit.toml (issue 30), each key in its own
    variables: accounts (with --check and --json), doctor, plan, apply, export, batch and
    runs leave no account's secret and no token anywhere."""
    from bulkedit.sandbox import ApiKey
    from bulkedit.sandbox.store import video_id

    keys = [ApiKey(f"key-{n}-4711", f"secret-{n}-Zq81-never-print-me", owners=(f"x1ch00{i}",))
            for i, n in enumerate(("fr", "de", "it"))]
    sandbox = api(keys=tuple(keys), token_lifetime=0.5)
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "bulkedit.toml"
    config.write_text("[api]\nrate = 0\n" + "".join(
        f'[accounts.brand_{n}]\nkey_env = "{n.upper()}_KEY"\nsecret_env = "{n.upper()}_SECRET"'
        f'\nchannels = ["x1ch00{i}"]\n' for i, n in enumerate(("fr", "de", "it"))),
        encoding="utf-8")
    config.chmod(0o600)
    for key, n in zip(keys, ("fr", "de", "it"), strict=True):
        monkeypatch.setenv(f"{n.upper()}_KEY", key.key)
        monkeypatch.setenv(f"{n.upper()}_SECRET", key.secret)
    base = ("--api-base", sandbox.base_url)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    outputs = [run_cli("accounts"), run_cli("accounts", "--check", *base),
               run_cli("accounts", "--check", "--json", *base),
               run_cli("doctor", *base, "--account", "brand_fr", "--account", "brand_de")]
    for i, n in enumerate(("fr", "de", "it")):
        edits = sheet(tmp_path, [{"video_id": video_id(i + 5 * j), "title": f"T {n}",
                                  "#account": f"brand_{n}"} for j in range(4)], f"{n}.csv")
        outputs.append(run_cli("plan", str(edits), *base))
        outputs.append(run_cli("apply", str(edits), *base, "--yes", "--summary-json",
                               str(tmp_path / f"{n}.json")))
        sheet(inbox, [{"video_id": video_id(i + 5 * j), "title": f"N {n}",
                       "#account": f"brand_{n}"} for j in range(4, 6)], f"night-{n}.csv")
    # One sheet of all three accounts, in one run (and one night).
    rows = [{"video_id": video_id(i + 5 * j), "title": f"M {n}", "#account": f"brand_{n}"}
            for j in range(6, 8) for i, n in enumerate(("fr", "de", "it"))]
    mixed = sheet(tmp_path, rows, "mixed.csv")
    outputs.append(run_cli("plan", str(mixed), *base))
    outputs.append(run_cli("apply", str(mixed), *base, "--yes", "--summary-json",
                           str(tmp_path / "mixed.json")))
    sheet(inbox, [{**row, "title": "MN"} for row in rows], "night-mixed.csv")
    outputs.append(run_cli("export", "--owner", "x1ch002", "--account", "brand_it", "-o",
                           str(tmp_path / "it.xlsx"), *base))
    outputs.append(run_cli("batch", str(inbox), *base, "--log", str(tmp_path / "n.jsonl")))
    outputs.append(run_cli("runs"))
    assert {o.code for o in outputs} == {0}, [o.out + o.err for o in outputs if o.code]
    assert {key.key for key in keys} <= set(sandbox.counters.writes_by_key)
    tokens = list(sandbox.app.tokens)
    assert len(tokens) >= 9
    artefacts = {f"out {i}": o.out + o.err for i, o in enumerate(outputs)}
    artefacts.update(texts_under(tmp_path))
    for name, text in artefacts.items():
        for key in keys:
            assert key.secret not in text, name
        leaked = [t for t in tokens if t in text]
        assert not leaked, name
