"""Which settings file a command reads (issue 29, point 6): --config, then
$BULKEDIT_CONFIG, then ./bulkedit.toml, then $XDG_CONFIG_HOME/bulkedit/bulkedit.toml
(~/.config/bulkedit when unset); `bulkedit config` says which won and why; a file the user
named that is not there is exit 2, never skipped. Every test has its own user config
folder (conftest), so none reads the real user's."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import sheet, titles

from bulkedit.core.errors import ExitCode


def settings_file(path: Path, rate: float, base: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = f"[api]\nrate = {rate}\n" + (f'base = "{base}"\n' if base else "")
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def shown(run_cli, *args: str) -> dict:
    result = run_cli("config", "--json", *args)
    assert result.code == 0, result.err
    return json.loads(result.out)


def rate_of(payload: dict) -> tuple[str, str]:
    rate = next(s for s in payload["settings"] if s["setting"] == "rate")
    return rate["value"], rate["from"]


def test_each_place_in_order_the_first_found_wins(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    user = settings_file(tmp_path / "user-config" / "bulkedit" / "bulkedit.toml", 4)
    assert rate_of(shown(run_cli)) == ("4.0", str(user))
    here = settings_file(tmp_path / "bulkedit.toml", 3)
    assert rate_of(shown(run_cli)) == ("3.0", str(here))
    job = settings_file(tmp_path / "jobs" / "night.toml", 2)
    monkeypatch.setenv("BULKEDIT_CONFIG", str(job))
    assert rate_of(shown(run_cli)) == ("2.0", str(job))
    given = settings_file(tmp_path / "given.toml", 1)
    payload = shown(run_cli, "--config", str(given))
    assert rate_of(payload) == ("1.0", str(given))
    assert payload["settings_file"]["file"] == str(given)
    assert payload["settings_file"]["why"] == "given with --config"
    assert [(p["source"], p["state"]) for p in payload["settings_file"]["looked_at"]] == [
        ("--config", "used"),
        ("BULKEDIT_CONFIG", "not looked at (an earlier one won)"),
        ("current folder", "not looked at (an earlier one won)"),
        ("user config", "not looked at (an earlier one won)")]


def test_config_says_which_file_won_why_and_where_it_looked(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    user = settings_file(tmp_path / "user-config" / "bulkedit" / "bulkedit.toml", 4)
    result = run_cli("config")
    assert result.code == 0
    assert result.out.startswith(f"Settings file: {user} (the user's settings, in "
                                 "$XDG_CONFIG_HOME/bulkedit)\n")
    looked = result.out.split("Settings files looked at, in order (the first found wins):\n")[1]
    assert looked.splitlines() == [
        "  --config         not set",
        "  BULKEDIT_CONFIG  not set",
        f"  current folder   {tmp_path / 'bulkedit.toml'}: not found",
        f"  user config      {user}: used"]
    user.unlink()
    none = run_cli("config")
    assert none.out.startswith("Settings file: none (no settings file found: the defaults "
                               "hold)\n")


def test_without_xdg_config_home_the_user_file_is_under_home(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME")
    user = settings_file(home / ".config" / "bulkedit" / "bulkedit.toml", 6)
    payload = shown(run_cli)
    assert rate_of(payload) == ("6.0", str(user))
    assert "XDG_CONFIG_HOME is not set" in payload["settings_file"]["why"]
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/folder")  # ignored, as the spec says
    assert rate_of(shown(run_cli)) == ("6.0", str(user))


def test_a_run_takes_its_settings_from_the_user_file(api, run_cli, tmp_path, monkeypatch):
    """Not only `config`: an apply with no flag and no ./bulkedit.toml sends where the
    user's settings file says."""
    sandbox = api()
    monkeypatch.chdir(tmp_path)
    settings_file(tmp_path / "user-config" / "bulkedit" / "bulkedit.toml", 0,
                  base=sandbox.base_url)
    path = sheet(tmp_path, titles(2))
    result = run_cli("apply", str(path), "--yes")
    assert result.code == 0, result.err
    assert sum(sandbox.counters.writes.values()) == 2


@pytest.mark.parametrize("how", ["--config", "BULKEDIT_CONFIG"])
def test_a_named_file_that_is_not_there_is_an_error_not_skipped(api, run_cli, tmp_path,
                                                                 monkeypatch, how):
    sandbox = api()
    monkeypatch.chdir(tmp_path)
    settings_file(tmp_path / "bulkedit.toml", 0, base=sandbox.base_url)  # would be used
    missing = tmp_path / "nigth.toml"
    flags = ["--config", str(missing)] if how == "--config" else []
    if how == "BULKEDIT_CONFIG":
        monkeypatch.setenv("BULKEDIT_CONFIG", str(missing))
    path = sheet(tmp_path, titles(2))
    for command in (["config"], ["apply", str(path), "--yes"], ["validate", str(path)]):
        result = run_cli(*command, *flags)
        assert result.code == ExitCode.BAD_INPUT, (command, result.out, result.err)
        said = ("--config: " if how == "--config" else f"BULKEDIT_CONFIG={missing}: ")
        assert result.err == f"bulkedit: error: {said}{missing} does not exist; " + (
            "give the settings file's path\n" if how == "--config" else
            "fix the path, or unset BULKEDIT_CONFIG to use ./bulkedit.toml or the user's "
            "settings\n")
    assert sum(sandbox.counters.writes.values()) == 0


def test_every_command_help_lists_every_exit_code(run_cli):
    commands = ["fields", "validate", "template", "apply", "plan", "batch", "export",
                "doctor", "runs", "report", "config", "sandbox"]
    for command in commands:
        result = run_cli(command, "--help")
        assert result.code == 0
        listed = {int(code) for code in re.findall(
            r"^  (\d+) ", result.out.split("exit codes:\n")[1], flags=re.M)}
        assert listed == {int(code) for code in ExitCode}, command
        assert "70   internal error" in result.out


def test_a_user_settings_file_others_may_write_is_refused(run_cli, tmp_path, monkeypatch):
    """It decides where the credentials go, wherever it is found (SECURITY.md)."""
    monkeypatch.chdir(tmp_path)
    user = settings_file(tmp_path / "user-config" / "bulkedit" / "bulkedit.toml", 4)
    user.chmod(0o666)
    result = run_cli("config")
    assert result.code == ExitCode.BAD_INPUT
    assert result.err.startswith(f"bulkedit: error: {user} may be written by other users")
