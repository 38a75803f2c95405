"""One options path: every command resolves its settings the same way, with one set of
defaults and checks (issue 12)."""

from __future__ import annotations

from argparse import Namespace
from pathlib import Path

import pytest
from conftest import apply, sheet, titles

from bulkedit.core.errors import UsageError
from bulkedit.core.policy import ApiLimits
from bulkedit.core.protocol import PARTNER_API
from bulkedit.run.config import Settings, load_settings, resolve
from bulkedit.run.runner import RunOptions


def test_flag_wins_over_environment_over_toml_over_default(tmp_path):
    config = tmp_path / "bulkedit.toml"
    config.write_text('[api]\nbase = "http://127.0.0.2:8001"\nrate = 3\ntimeout = 12\n',
                      encoding="utf-8")
    settings = load_settings(config)
    args = Namespace(api_base=None, rate=None, concurrency=4, timeout=None)
    env = {"DAILYMOTION_API_BASE": "http://127.0.0.3:8002"}
    resolved = resolve(args, settings, env)
    assert resolved.api_base == "http://127.0.0.3:8002"
    assert (resolved.limits.rate, resolved.limits.concurrency, resolved.limits.timeout,
            resolved.limits.max_attempts) == (3, 4, 12, ApiLimits().max_attempts)
    assert resolved.sources == {"api_base": "environment (DAILYMOTION_API_BASE)",
                                "rate": str(config), "concurrency": "flag",
                                "max_rate": "default",
                                "timeout": str(config), "max_attempts": "default",
                                "backoff": "default", "batch_size": "default"}
    assert resolve(args, settings, {}).api_base == "http://127.0.0.2:8001"
    assert resolve(Namespace(api_base="http://127.0.0.4:8003"), settings, env).api_base == (
        "http://127.0.0.4:8003")
    assert resolve(Namespace(), Settings(), {}).api_base == PARTNER_API


@pytest.mark.parametrize("limits", [{"rate": -5}, {"concurrency": 0}, {"timeout": 0},
                                    {"max_attempts": 0}, {"backoff": -1}, {"batch_size": 0}])
def test_one_set_of_checks_whoever_builds_the_options(limits):
    with pytest.raises(UsageError):
        ApiLimits(**limits)
    name = {"backoff": "base_delay"}.get(*limits, *limits)
    with pytest.raises(UsageError):
        RunOptions(sheet=Path("s.csv"), **{name: next(iter(limits.values()))})


@pytest.mark.parametrize("command", [["apply", "s.csv", "--yes"], ["plan", "s.csv"],
                                     ["batch", "."], ["export", "--owner", "x", "-o", "e.csv"]])
def test_every_command_refuses_a_negative_rate(command, run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sheet(tmp_path, titles(1), "s.csv")
    flag = run_cli(*command, "--rate", "-5", "--sandbox")
    assert flag.code == 2 and "rate -5.0" in flag.err
    (tmp_path / "bulkedit.toml").write_text("[api]\nrate = -5\n", encoding="utf-8")
    toml = run_cli(*command, "--sandbox")
    assert toml.code == 2 and "rate -5" in toml.err


def test_apply_and_plan_use_the_toml_api_base(run_cli, api, tmp_path, monkeypatch):
    sandbox = api()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bulkedit.toml").write_text(f'[api]\nbase = "{sandbox.base_url}"\nrate = 0\n',
                                            encoding="utf-8")
    path = sheet(tmp_path, titles(3))
    planned = run_cli("plan", str(path))
    assert planned.code == 0, planned.out + planned.err
    assert sandbox.counters.requests["list_videos"] == 1  # it read the sandbox, not the API
    applied = run_cli("apply", str(path), "--yes")
    assert applied.code == 0 and sum(sandbox.counters.writes.values()) == 3
    assert apply(run_cli, sandbox, path).code == 0  # a flag still wins


def test_config_shows_each_value_and_where_it_came_from(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DAILYMOTION_API_SECRET", "s3cr3t-never-shown")
    (tmp_path / "bulkedit.toml").write_text("[api]\nrate = 3\n", encoding="utf-8")
    result = run_cli("config", "--concurrency", "2")
    assert result.code == 0
    table = result.out.split("\n\n")[1].splitlines()[2:]  # the lookup comes after it
    lines = {line.split()[0]: line.split()[1:] for line in table}
    assert lines["rate"] == ["3.0", str(tmp_path / "bulkedit.toml")]
    assert lines["concurrency"] == ["2", "flag"] and lines["timeout"][1] == "default"
    assert "s3cr3t" not in result.out and "$DAILYMOTION_API_SECRET" in result.out


def test_rate_auto_from_the_toml_and_a_flag_that_overrides_it(tmp_path):
    config = tmp_path / "bulkedit.toml"
    config.write_text('[api]\nrate = "auto"\nmax_rate = 25\n', encoding="utf-8")
    settings = load_settings(config)
    resolved = resolve(Namespace(api_base=None, rate=None), settings, {})
    assert resolved.limits.rate == "auto" and resolved.limits.max_rate == 25.0
    assert resolved.limits.adaptive and resolved.limits.fixed_rate is None
    fixed = resolve(Namespace(api_base=None, rate=7.0), settings, {})
    assert fixed.limits.rate == 7.0 and fixed.limits.fixed_rate == 7.0
    assert fixed.sources["rate"] == "flag" and fixed.sources["max_rate"] == str(config)


@pytest.mark.parametrize("value", ['"fast"', "true", '"-3"', "[1]"])
def test_a_rate_that_is_neither_a_number_nor_auto_is_refused_with_the_fix(tmp_path, value):
    config = tmp_path / "bulkedit.toml"
    config.write_text(f"[api]\nrate = {value}\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r'rate .*"auto"'):
        resolve(Namespace(api_base=None, rate=None), load_settings(config), {})


def test_max_rate_must_be_more_than_zero():
    with pytest.raises(UsageError, match="max_rate 0"):
        ApiLimits(rate="auto", max_rate=0)


@pytest.mark.parametrize("line", ["max_rate = true", "rate = inf", "rate = nan",
                                  "concurrency = false"])
def test_toml_values_that_only_look_like_numbers_are_refused(tmp_path, line):
    config = tmp_path / "bulkedit.toml"
    config.write_text(f"[api]\n{line}\n", encoding="utf-8")
    with pytest.raises(UsageError, match=str(config).replace("\\", "\\\\") + "|rate"):
        resolve(Namespace(api_base=None, rate=None), load_settings(config), {})
