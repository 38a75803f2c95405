"""Several Dailymotion accounts in one configuration (issue 30, points 1, 2 and 6):
[accounts.NAME] sections, routing rows by #account / --account / default_account, and
`bulkedit accounts`. Every row goes through the key of the account it was routed to, or
is refused before anything is sent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import results, sheet

from bulkedit.core.errors import UsageError
from bulkedit.run.accounts import ACCOUNT_ENV
from bulkedit.run.config import load_settings
from bulkedit.run.options import run_options
from bulkedit.sandbox import ApiKey
from bulkedit.sandbox.store import video_id
from bulkedit.sheets.report import OWN_MARK

# Videos are spread over the sandbox's channels in turn: video i is channel i % 5's.
FR = ApiKey("fr-key-3141", "fr-secret-never-print-1", owners=("x1ch000",))
DE = ApiKey("de-key-2718", "de-secret-never-print-2", owners=("x1ch001",))
TWO_ACCOUNTS = """\
[api]
rate = 20
concurrency = 3
{default}
[accounts.brand_fr]
key_env = "FR_KEY"
secret_env = "FR_SECRET"
channels = ["x1ch000"]

[accounts.brand_de]
key_env = "DE_KEY"
secret_env = "DE_SECRET"
channels = ["x1ch001"]
rate = 5
"""

# The same accounts listing no channels: no owner lookup, so a row nothing else routes
# takes default_account (tests/test_owner_lookup.py has the lookup).
UNLISTED = TWO_ACCOUNTS.replace('channels = ["x1ch000"]\n', "").replace(
    'channels = ["x1ch001"]\n', "")


def settings_file(folder: Path, text: str) -> Path:
    path = folder / "bulkedit.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.fixture
def two(tmp_path, monkeypatch):
    """A settings file with two accounts (brand_fr the default), their keys in the
    environment."""
    for name, value in (("FR_KEY", FR.key), ("FR_SECRET", FR.secret), ("DE_KEY", DE.key),
                        ("DE_SECRET", DE.secret)):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(ACCOUNT_ENV, raising=False)
    return settings_file(tmp_path, TWO_ACCOUNTS.format(
        default='default_account = "brand_fr"\n'))


@pytest.fixture
def sandbox(api):
    """A sandbox where each account's key may edit only its own channel's videos, as the
    real API refuses an edit of another account's video."""
    return api(keys=(FR, DE))


def writes_by_key(sandbox) -> dict[str, int]:
    """The edits the sandbox applied, by the key that sent them."""
    return {key: sum(videos.values()) for key, videos in sandbox.counters.writes_by_key.items()
            if sum(videos.values())}


def videos_of(channel: int, count: int) -> list[str]:
    return [video_id(channel + 5 * i) for i in range(count)]


# ----------------------------------------------------------------------------- the file

def test_accounts_inherit_api_and_override_any_of_it(two):
    options = run_options(load_settings(two), {})
    accounts = options.accounts
    assert accounts is not None and accounts.names() == ("brand_fr", "brand_de")
    fr, de = accounts.get("brand_fr"), accounts.get("brand_de")
    assert (fr.limits.rate, fr.limits.concurrency) == (20, 3)  # [api]'s
    assert (de.limits.rate, de.limits.concurrency) == (5, 3)  # its own rate, [api]'s rest
    assert (fr.key_env, de.secret_env, de.channels) == ("FR_KEY", "DE_SECRET", ("x1ch001",))
    # The options are the default account's until the rows say otherwise...
    assert (options.account, options.rate) == ("brand_fr", 20)
    # ... and another account's are its own.
    assert options.for_account("brand_de").rate == 5
    assert options.for_account("brand_de").concurrency == 3


def test_a_flag_wins_over_every_account(two):
    options = run_options(load_settings(two), {}, rate=2)
    assert {a.limits.rate for a in options.accounts.accounts} == {2}


def test_a_configuration_without_accounts_is_the_account_default(tmp_path):
    options = run_options(load_settings(settings_file(tmp_path, "[api]\nrate = 7\n")), {})
    assert (options.accounts, options.account, options.rate) == (None, "default", 7)
    assert options.routing.accounts == ("default",)


@pytest.mark.parametrize("text, said", [
    ('[accounts.brand_fr]\napi_key = "abc"\n', "credentials never go in the configuration"),
    ('[accounts.brand_fr]\nsecret = "abc"\n', "credentials never go in the configuration"),
    ('[accounts.Brand]\nkey_env = "A"\n', "not a simple name"),
    ('[accounts.brand_fr]\nrate = "fast"\n', "rate"),
    ('[accounts.brand_fr]\ncolour = "red"\n', "has no setting 'colour'"),
    ('[accounts.brand_fr]\nchannels = "x1"\n', "channels is a list"),
    ('[api]\ndefault_account = "brand_de"\n[accounts.brand_fr]\nkey_env = "A"\n',
     "'brand_de' is not"),
])
def test_a_wrong_account_section_is_refused(tmp_path, text, said):
    with pytest.raises(UsageError, match=said):
        load_settings(settings_file(tmp_path, text))


def test_two_accounts_may_not_share_a_key(tmp_path):
    path = settings_file(tmp_path, '[accounts.a]\nrate = 1\n[accounts.b]\nrate = 2\n')
    with pytest.raises(UsageError, match="accounts a and b take their key from the same "
                                         "variable"):
        run_options(load_settings(path), {})


def test_a_private_credentials_file_per_account(tmp_path, monkeypatch):
    key = tmp_path / "fr.toml"
    key.write_text(f'api_key = "{FR.key}"\napi_secret = "{FR.secret}"\n', encoding="utf-8")
    key.chmod(0o600)
    path = settings_file(tmp_path, '[accounts.brand_fr]\ncredentials_file = "fr.toml"\n'
                                   '[accounts.brand_de]\nkey_env = "DE_KEY"\n'
                                   'secret_env = "DE_SECRET"\n')
    accounts = run_options(load_settings(path), {}).accounts
    assert accounts.get("brand_fr").credentials().api_key == FR.key
    key.chmod(0o644)
    with pytest.raises(UsageError, match="readable by others"):
        accounts.get("brand_fr").credentials()
    with pytest.raises(UsageError, match="set DE_KEY and DE_SECRET"):
        accounts.get("brand_de").credentials({})


@pytest.mark.parametrize("given, env", [(["brand_dee"], {}), (None, {ACCOUNT_ENV: "brand_dee"})])
def test_an_unknown_account_is_refused_with_the_closest(two, given, env):
    with pytest.raises(UsageError, match="'brand_dee' is not a configured account; did you "
                                         "mean 'brand_de'"):
        run_options(load_settings(two), env, account=given)


def test_the_environment_names_the_accounts_when_no_flag_does(two):
    settings = load_settings(two)
    assert run_options(settings, {ACCOUNT_ENV: "brand_de"}).routing.chosen == ("brand_de",)
    assert run_options(settings, {ACCOUNT_ENV: "brand_de, brand_fr"}).routing.chosen == (
        "brand_de", "brand_fr")
    assert run_options(settings, {ACCOUNT_ENV: "brand_de"},
                       account=["brand_fr"]).routing.chosen == ("brand_fr",)


# ----------------------------------------------------------------------------- routing runs

def test_each_row_goes_through_its_own_account_s_key(two, sandbox, run_cli, tmp_path):
    rows = [{"video_id": v, "title": "Routed", "#account": ""} for v in videos_of(1, 3)]
    rows[0]["#account"] = "brand_de"
    path = sheet(tmp_path, rows)
    done = run_cli("apply", str(path), "--config", str(two), "--api-base", sandbox.base_url,
                   "--yes", "--account", "brand_de")
    assert done.code == 0, done.out + done.err
    assert writes_by_key(sandbox) == {DE.key: 3}
    assert not sandbox.counters.not_owner_by_key  # no edit tried through another's key
    assert {row["#status"] for row in results(tmp_path / "edits.results.csv")} == {"updated"}
    # The journal keeps the run as the account's (issue 30, point 4's runs.account).
    runs = json.loads(run_cli("runs", "--json").out)["runs"]
    assert [run["account"] for run in runs] == ["brand_de"]


def test_default_account_routes_the_rows_that_say_nothing(two, sandbox, run_cli, tmp_path):
    path = sheet(tmp_path, [{"video_id": v, "title": "Default"} for v in videos_of(0, 2)])
    done = run_cli("apply", str(path), "--config", str(two), "--api-base", sandbox.base_url,
                   "--yes")
    assert done.code == 0, done.out + done.err
    assert writes_by_key(sandbox) == {FR.key: 2}


def test_a_sheet_routed_to_two_accounts_goes_through_each_one_s_key(
        two, sandbox, run_cli, tmp_path):
    rows = [{"video_id": video_id(0), "title": "A", "#account": "brand_fr"},
            {"video_id": video_id(1), "title": "B", "#account": "brand_de"}]
    path = sheet(tmp_path, rows)
    done = run_cli("plan", str(path), "--config", str(two), "--api-base", sandbox.base_url)
    assert done.code == 0, done.out + done.err
    assert sum(sandbox.counters.writes.values()) == 0
    done = run_cli("apply", str(path), "--config", str(two), "--api-base", sandbox.base_url,
                   "--yes")
    assert done.code == 0, done.out + done.err
    assert writes_by_key(sandbox) == {FR.key: 1, DE.key: 1}
    assert not sandbox.counters.not_owner_by_key
    # One account at a time: the other account's rows are left out, marked invalid.
    other = sheet(tmp_path, [{**row, "title": row["title"] + "2"} for row in rows],
                  "other.csv")
    one = run_cli("apply", str(other), "--config", str(two), "--api-base", sandbox.base_url,
                  "--yes", "--account", "brand_fr", "--skip-invalid")
    assert one.code == 1, one.out + one.err
    assert writes_by_key(sandbox) == {FR.key: 2, DE.key: 1}
    marked = results(tmp_path / "other.results.csv")
    assert [(row["#status"], row["#account"]) for row in marked] == [
        ("updated", "brand_fr"), ("invalid", "brand_de")]


def test_an_unknown_account_in_a_row_is_refused_before_anything_is_sent(
        two, sandbox, run_cli, tmp_path):
    path = sheet(tmp_path, [{"video_id": video_id(1), "title": "T", "#account": "brand_dee"}])
    done = run_cli("apply", str(path), "--config", str(two), "--api-base", sandbox.base_url,
                   "--yes")
    assert done.code == 2
    assert "'brand_dee' is not a configured account; did you mean 'brand_de'?" in done.out
    assert sandbox.counters.tokens_issued == 0


def test_with_a_single_account_a_row_naming_another_is_refused(api, run_cli, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, [{"video_id": video_id(1), "title": "T", "#account": "brand_de"},
                            {"video_id": video_id(2), "title": "T", "#account": ""}])
    done = run_cli("apply", str(path), "--api-base", sandbox.base_url, "--yes")
    assert done.code == 2
    assert "'brand_de' is not an account of this configuration, which has one: 'default'" \
        in done.out
    assert sandbox.counters.tokens_issued == 0
    # Other # columns stay comments; `default` is the one account's name.
    fine = sheet(tmp_path, [{"video_id": video_id(1), "title": "T", "#account": "default",
                             "#note": "brand_de"}], "fine.csv")
    assert run_cli("apply", str(fine), "--api-base", sandbox.base_url, "--yes").code == 0


def test_a_row_that_reaches_no_account_is_invalid(two, tmp_path, run_cli):
    no_default = settings_file(tmp_path, UNLISTED.format(default=""))
    path = sheet(tmp_path, [{"video_id": video_id(0), "title": "T", "#account": ""},
                            {"video_id": video_id(1), "title": "T", "#account": "brand_de"}])
    done = run_cli("validate", str(path), "--config", str(no_default))
    assert done.code == 1
    assert "no_account" not in done.out and "this row reaches no account" in done.out
    bare = sheet(tmp_path, [{"video_id": video_id(0), "title": "T"}], "bare.csv")
    done = run_cli("validate", str(bare), "--config", str(no_default))
    assert done.code == 1 and "no row of this sheet reaches an account" in done.out
    assert run_cli("validate", str(bare), "--config", str(no_default), "--account",
                   "brand_de").code == 0


def test_two_account_columns_are_refused(two, tmp_path, run_cli):
    path = tmp_path / "two.csv"
    path.write_text(f"video_id,title,#account,# Account\n{video_id(0)},T,brand_fr,brand_de\n",
                    encoding="utf-8")
    done = run_cli("validate", str(path), "--config", str(two))
    assert done.code == 1 and "2 #account columns" in done.out


def test_a_run_resumed_through_another_account_is_refused(two, sandbox, run_cli, tmp_path):
    from bulkedit.run.runner import _same_reading

    options = run_options(load_settings(two), {}, account=["brand_de"])
    options = options.for_account("brand_de")
    with pytest.raises(UsageError, match="went through the account brand_fr"):
        _same_reading(options, "r1", {"account": "brand_fr"})
    _same_reading(options, "r1", {"account": "brand_de"})
    _same_reading(options, "r1", {})  # a run journaled before accounts existed


# ----------------------------------------------------------------------------- the command

def test_accounts_lists_names_variables_channels_and_rate(two, run_cli):
    shown = run_cli("accounts", "--config", str(two))
    assert shown.code == 0, shown.err
    lines = shown.out.splitlines()
    assert lines[0].split() == ["account", "key", "from", "channels", "rate", "api"]
    assert lines[2].split()[:6] == ["brand_fr", "(default)", "$FR_KEY,", "$FR_SECRET",
                                    "x1ch000", "20/s"]
    assert lines[3].split()[:5] == ["brand_de", "$DE_KEY,", "$DE_SECRET", "x1ch001", "5/s"]
    listed = json.loads(run_cli("accounts", "--config", str(two), "--json").out)
    assert [(a["account"], a["key_env"], a["rate"], a["default"])
            for a in listed["accounts"]] == [("brand_fr", "FR_KEY", 20.0, True),
                                             ("brand_de", "DE_KEY", 5.0, False)]


def test_accounts_check_tries_each_key_once_and_never_prints_a_secret(
        two, sandbox, run_cli, monkeypatch):
    monkeypatch.setenv("DE_SECRET", "wrong-secret-never-print-3")
    checked = run_cli("accounts", "--config", str(two), "--check", "--api-base",
                      sandbox.base_url)
    assert checked.code == 1, checked.out + checked.err
    assert sandbox.counters.tokens_issued == 1  # the good key's; the wrong one refused
    assert sandbox.counters.requests["me_videos"] + sandbox.counters.requests[
        "owner_videos"] == 1  # one read, by the key that has a token
    assert "1 of 2 accounts answered" in checked.out
    fr_line, de_line = checked.out.splitlines()[2:4]
    assert "granted" in fr_line and "ok (" in fr_line and "x1ch000" in fr_line
    assert "refused" in de_line
    as_json = run_cli("accounts", "--config", str(two), "--check", "--json", "--api-base",
                      sandbox.base_url)
    checks = [a["check"] for a in json.loads(as_json.out)["accounts"]]
    assert [c["ok"] for c in checks] == [True, False]
    for text in (checked.out, checked.err, as_json.out, as_json.err):
        for secret in (FR.secret, DE.secret, "wrong-secret-never-print-3", FR.key, DE.key):
            assert secret not in text


def test_accounts_check_with_a_variable_not_set_sends_nothing_for_it(
        two, sandbox, run_cli, monkeypatch):
    monkeypatch.delenv("DE_KEY")
    checked = run_cli("accounts", "--config", str(two), "--check", "--api-base",
                      sandbox.base_url, "--account", "brand_de")
    assert checked.code == 1 and "set DE_KEY in the environment" in checked.out
    assert sandbox.counters.tokens_issued == 0


def test_doctor_and_export_take_the_account(two, sandbox, run_cli, tmp_path):
    doctor = run_cli("doctor", "--config", str(two), "--api-base", sandbox.base_url,
                     "--account", "brand_de", "--account", "brand_fr", "--json")
    found = json.loads(doctor.out)["accounts"]
    assert [a["account"] for a in found] == ["brand_de", "brand_fr"]
    assert sandbox.counters.tokens_issued == 2  # one token per account's key
    out = tmp_path / "de.csv"
    export = run_cli("export", "--config", str(two), "--api-base", sandbox.base_url,
                     "--account", "brand_de", "--owner", "x1ch001", "-o", str(out))
    assert export.code == 0, export.out + export.err
    wrong = run_cli("doctor", "--config", str(two), "--api-base", sandbox.base_url,
                    "--account", "brand_it")
    assert wrong.code == 2 and "is not a configured account" in wrong.err


# ----------------------------------------------------------------------------- export

def _exported(path: Path) -> list[dict[str, str]]:
    return [{k: v for k, v in row.items() if k != OWN_MARK}
            for row in results(path)]


def test_export_of_several_accounts_reads_each_channel_through_its_own_account(
        two, sandbox, run_cli, tmp_path):
    out = tmp_path / "both.csv"
    done = run_cli("export", "--config", str(two), "--api-base", sandbox.base_url,
                   "--account", "brand_fr", "--account", "brand_de", "--fields", "title",
                   "-o", str(out))
    assert done.code == 0, done.out + done.err
    rows = _exported(out)
    assert list(rows[0]) == ["video_id", "title", "#account"]  # the routing column, last
    said = {row["video_id"]: row["#account"] for row in rows}
    assert said == {**dict.fromkeys(videos_of(0, 40), "brand_fr"),
                    **dict.fromkeys(videos_of(1, 40), "brand_de")}
    assert set(sandbox.counters.requests_by_key) == {FR.key, DE.key}  # each through its own


def test_export_of_one_named_account_writes_its_account_and_defaults_to_its_channels(
        two, sandbox, run_cli, tmp_path):
    out = tmp_path / "de.xlsx"
    done = run_cli("export", "--config", str(two), "--api-base", sandbox.base_url,
                   "--account", "brand_de", "--fields", "title,channel", "-o", str(out))
    assert done.code == 0, done.out + done.err
    from openpyxl import load_workbook

    book = load_workbook(out)
    sheet_ = book["Videos"]
    header = [cell.value for cell in sheet_[1]]
    assert header == ["video_id", "title", "channel", "#account"]
    assert "the one it was exported through" in sheet_.cell(1, 4).comment.text
    assert {row[3] for row in sheet_.iter_rows(min_row=2, values_only=True)} == {"brand_de"}
    assert sheet_.max_row == 41
    # The field columns keep their dropdowns where a one-account export has them.
    assert [str(rule.sqref) for rule in sheet_.data_validations.dataValidation] == [
        "C2:C1000"]
    checked = run_cli("validate", str(out), "--config", str(two))
    assert checked.code == 0, checked.out + checked.err


@pytest.mark.parametrize(("extra", "said"), [
    (("--ids", "IDS"), "--ids with several accounts"),
    (("--owner", "x1ch004"), "--owner x1ch004 with several accounts"),
])
def test_an_export_of_several_accounts_that_cannot_say_whose_rows_is_refused(
        two, sandbox, run_cli, tmp_path, extra, said):
    ids = sheet(tmp_path, [{"video_id": v} for v in videos_of(0, 2)], "ids.csv")
    extra = tuple(str(ids) if part == "IDS" else part for part in extra)
    refused = run_cli("export", "--config", str(two), "--api-base", sandbox.base_url,
                      "--account", "brand_fr", "--account", "brand_de", *extra,
                      "-o", str(tmp_path / "out.csv"))
    assert refused.code == 2 and said in refused.err, refused.err
    assert "--account NAME" in refused.err  # the fix
    assert sandbox.counters.requests_by_key == {}  # refused before anything was read
    assert not (tmp_path / "out.csv").exists()


def test_export_asked_for_nothing_names_the_ways_to_ask(tmp_path, run_cli, monkeypatch):
    monkeypatch.setenv("DAILYMOTION_API_KEY", "k")
    monkeypatch.setenv("DAILYMOTION_API_SECRET", "s")
    refused = run_cli("export", "-o", str(tmp_path / "out.csv"))
    assert refused.code == 2
    assert "say which videos: --owner CHANNEL (several allowed) and/or --ids FILE" in (
        refused.err)


def test_sandbox_flag_gives_each_account_its_own_key(two, run_cli, monkeypatch):
    monkeypatch.delenv("FR_KEY")  # --sandbox needs no real key
    checked = run_cli("accounts", "--config", str(two), "--check", "--sandbox")
    assert checked.code == 0, checked.out + checked.err
    assert "2 of 2 accounts answered" in checked.out


def _night_of_two_sheets(two, sandbox, run_cli, tmp_path):
    """An inbox holding de.csv (its rows for brand_de) and fr.csv (no #account: the
    default account), and the night's batch over it."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    sheet(inbox, [{"video_id": v, "title": "Night", "#account": "brand_de"}
                  for v in videos_of(1, 2)], "de.csv")
    sheet(inbox, [{"video_id": v, "title": "Night"} for v in videos_of(0, 2)], "fr.csv")
    return inbox, run_cli("batch", str(inbox), "--config", str(two), "--api-base",
                          sandbox.base_url, "--rate", "0")


def test_batch_sends_each_sheet_through_its_rows_account(two, sandbox, run_cli, tmp_path):
    _, night = _night_of_two_sheets(two, sandbox, run_cli, tmp_path)
    assert night.code == 0, night.out + night.err
    assert writes_by_key(sandbox) == {DE.key: 2, FR.key: 2}


def test_the_python_api_reads_the_account_s_own_key(two, sandbox):
    import bulkedit

    path = sheet(two.parent, [{"video_id": v, "title": "From Python", "#account": "brand_de"}
                              for v in videos_of(1, 2)])
    applied = bulkedit.apply(path, config=two, api_base=sandbox.base_url)
    assert applied.exit_code == 0
    assert writes_by_key(sandbox) == {DE.key: 2}


def test_a_saved_plan_is_applied_only_through_the_account_it_was_reviewed_through(
        two, sandbox, run_cli, tmp_path):
    two = settings_file(tmp_path, UNLISTED.format(default='default_account = "brand_fr"\n'))
    path = sheet(tmp_path, [{"video_id": v, "title": "Reviewed"} for v in videos_of(1, 2)])
    saved = tmp_path / "edits.plan.json"
    planned = run_cli("plan", str(path), "--config", str(two), "--api-base", sandbox.base_url,
                      "--save", str(saved))  # read through brand_fr, the default account
    assert planned.code == 0, planned.out + planned.err
    other = run_cli("apply", str(path), "--config", str(two), "--api-base", sandbox.base_url,
                    "--yes", "--plan", str(saved), "--account", "brand_de")
    assert other.code == 2, other.out + other.err
    assert "reviewed reading the videos through the account brand_fr" in other.err
    assert writes_by_key(sandbox) == {}
    replanned = run_cli("plan", str(path), "--config", str(two), "--api-base",
                        sandbox.base_url, "--save", str(saved), "--account", "brand_de")
    assert replanned.code == 0
    done = run_cli("apply", str(path), "--config", str(two), "--api-base", sandbox.base_url,
                   "--yes", "--plan", str(saved), "--account", "brand_de")
    assert done.code == 0, done.out + done.err
    assert writes_by_key(sandbox) == {DE.key: 2}


def test_the_python_api_takes_the_account(two, sandbox):
    import bulkedit

    path = sheet(two.parent, [{"video_id": v, "title": "Keyword"} for v in videos_of(1, 2)])
    applied = bulkedit.apply(path, config=two, api_base=sandbox.base_url, account="brand_de")
    assert applied.exit_code == 0
    assert writes_by_key(sandbox) == {DE.key: 2}
    with pytest.raises(UsageError, match="did you mean 'brand_de'"):
        bulkedit.plan(path, config=two, api_base=sandbox.base_url, account="brand_dee")


def test_batch_leaves_a_sheet_whose_account_has_no_key_in_the_inbox(
        two, sandbox, run_cli, tmp_path, monkeypatch):
    monkeypatch.delenv("DE_SECRET")
    inbox, night = _night_of_two_sheets(two, sandbox, run_cli, tmp_path)
    assert night.code == 2, night.out + night.err
    assert "set DE_SECRET in the environment" in night.out
    assert (inbox / "de.csv").exists()  # the configuration's fault, not the sheet's
    assert not (inbox / "fr.csv").exists()  # done, through its own account
    assert writes_by_key(sandbox) == {FR.key: 2}


def test_a_sheet_none_of_whose_rows_reaches_an_account_reads_nothing(
        two, sandbox, run_cli, tmp_path):
    no_default = settings_file(tmp_path, UNLISTED.format(default=""))
    path = sheet(tmp_path, [{"video_id": video_id(1), "title": "T", "#account": ""},
                            {"video_id": video_id(2), "title": "T", "#account": "brand_xx"}])
    done = run_cli("apply", str(path), "--config", str(no_default), "--api-base",
                   sandbox.base_url, "--yes", "--skip-invalid")
    assert done.code == 1, done.out + done.err
    assert "2 invalid" in done.out and "not a configured account" not in done.err
    assert sandbox.counters.tokens_issued == 0


def test_config_names_the_accounts_and_a_credentials_file(two, tmp_path, run_cli):
    shown = run_cli("config", "--config", str(two))
    assert "brand_fr (default), brand_de (bulkedit accounts lists them)" in shown.out
    single = settings_file(tmp_path, '[api]\ncredentials_file = "key.toml"\n')
    shown = run_cli("config", "--config", str(single))
    assert f"api key and secret  {tmp_path / 'key.toml'}" in shown.out
    assert "$DAILYMOTION_API_KEY" not in shown.out
    assert "accounts lists them" not in shown.out
