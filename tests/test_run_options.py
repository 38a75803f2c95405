"""One options path: the CLI, the nightly batch and the Python API build the same frozen
RunOptions from the same choices, and the engine's policies (read-back on, the canary away
from this machine) reach every one of them.

The front ends are run for real up to the engine, whose run is replaced by one that keeps
its options and stops: against Dailymotion's own address, nothing may be sent, so the
stand-in refuses before any connection is made.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import ClassVar

import pytest
from conftest import sheet, titles

import bulkedit
from bulkedit.core.errors import RunAborted, UsageError
from bulkedit.run import batch as batch_module
from bulkedit.run.config import load_settings
from bulkedit.run.options import RunOptions, run_options
from bulkedit.run.runner import SheetRun

REMOTE = "https://partner.api.dailymotion.com"


class Kept(SheetRun):
    """A run that keeps its options and refuses to go on: nothing is read or sent."""

    seen: ClassVar[list[RunOptions]] = []

    async def run(self):  # type: ignore[override]
        Kept.seen.append(self.options)
        raise RunAborted("stopped before any connection (test)")


@pytest.fixture
def kept(monkeypatch):
    Kept.seen = []
    for module in ("bulkedit.cli.commands", "bulkedit.api"):
        monkeypatch.setattr(f"{module}.SheetRun", Kept)
    monkeypatch.setattr(batch_module, "SheetRun", Kept)
    monkeypatch.setenv("DAILYMOTION_API_KEY", "k")
    monkeypatch.setenv("DAILYMOTION_API_SECRET", "s")
    monkeypatch.delenv("DAILYMOTION_API_BASE", raising=False)
    return Kept.seen


SHAPING = ("timezone", "date_order", "allow_past_expiry", "verify", "canary_size", "rate",
           "concurrency", "batch_size", "api_base", "skip_invalid")


def facts(options: RunOptions) -> dict[str, object]:
    return {name: getattr(options, name) for name in SHAPING}


def test_every_front_end_gets_the_same_options_and_the_engines_defaults(kept, run_cli,
                                                                        tmp_path):
    path = sheet(tmp_path, titles(2))
    cli = run_cli("apply", str(path), "--api-base", REMOTE, "--yes", "--timezone",
                  "Asia/Tokyo", "--date-order", "dmy")
    assert cli.code == 3 and "stopped before any connection" in cli.out + cli.err
    with pytest.raises(RunAborted):
        bulkedit.apply(path, api_base=REMOTE, credentials=("k", "s"), timezone="Asia/Tokyo",
                       date_order="dmy")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    sheet(inbox, titles(2))
    config = tmp_path / "night.toml"
    config.write_text('[run]\ntimezone = "Asia/Tokyo"\ndate_order = "dmy"\n', encoding="utf-8")
    config.chmod(0o600)
    night = run_cli("batch", str(inbox), "--api-base", REMOTE, "--config", str(config))
    assert night.code == 3
    assert len(kept) == 3
    assert facts(kept[0]) == facts(kept[1]) == facts(kept[2])
    assert kept[0].verify is True and kept[0].canary_size == 3  # away from this machine
    assert str(kept[0].timezone) == "Asia/Tokyo" and kept[0].date_order == "dmy"


def test_opting_out_is_said_the_same_way_everywhere(kept, run_cli, tmp_path):
    path = sheet(tmp_path, titles(1))
    run_cli("apply", str(path), "--api-base", REMOTE, "--yes", "--no-verify", "--no-canary")
    with pytest.raises(RunAborted):
        bulkedit.apply(path, api_base=REMOTE, credentials=("k", "s"), verify=False, canary=0)
    config = tmp_path / "bulkedit.toml"
    config.write_text("[run]\nverify = false\ncanary = 0\n", encoding="utf-8")
    config.chmod(0o600)
    run_cli("apply", str(path), "--api-base", REMOTE, "--yes", "--config", str(config))
    assert [(o.verify, o.canary_size) for o in kept] == [(False, 0)] * 3


def test_a_flag_wins_over_the_settings_file_which_wins_over_the_default(tmp_path):
    config = tmp_path / "bulkedit.toml"
    config.write_text('[run]\nverify = false\ntimezone = "Europe/Paris"\n', encoding="utf-8")
    config.chmod(0o600)
    settings = load_settings(config)
    assert run_options(settings).verify is False
    assert run_options(settings, verify=True).verify is True
    assert str(run_options(settings).timezone) == "Europe/Paris"
    assert str(run_options(settings, timezone="UTC").timezone) == "UTC"
    assert run_options().verify is True and str(run_options().timezone) == "UTC"


def test_run_options_are_frozen():
    options = run_options(api_base=REMOTE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.verify = False  # type: ignore[misc]


@pytest.mark.parametrize("text,message", [
    ("[run]\nverify = true\n[batch]\nverify = false\n",
     "verify is set under both [run] and [batch]"),
    ("[run]\ncanary = -1\n", "canary is a number of rows, 0 or more"),
    ("[run]\ncanary = true\n", "canary is a number of rows, 0 or more"),
    ("[run]\ntimezone = \"Mars/Olympus\"\n", "[run] timezone Mars/Olympus: unknown time zone"),
    ("[run]\nverify = \"yes\"\n", "[run] verify has the wrong type"),
    ("[run]\ninbox = \"x\"\n", "[run] has no setting 'inbox'"),
    ('[run]\nhidden = "yes"\n', '[run] hidden is "refuse", "skip" or "include"'),
    ('[run]\ndecimal_separator = ";"\n', '[run] decimal_separator is "." or ","'),
    ("[run]\nsplit_lists = 1\n", "[run] split_lists has the wrong type"),
])
def test_wrong_run_settings_are_refused_with_the_fix(tmp_path, text, message):
    config = tmp_path / "bulkedit.toml"
    config.write_text(text, encoding="utf-8")
    config.chmod(0o600)
    with pytest.raises(UsageError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_settings(config)


def test_unknown_choices_and_a_negative_canary_are_refused():
    with pytest.raises(UsageError, match="unknown option"):
        run_options(colour="blue")
    with pytest.raises(UsageError, match="canary takes a number of rows"):
        run_options(canary=-2)


def test_a_plan_needs_its_sheet(tmp_path):
    with pytest.raises(UsageError, match="a saved plan needs the sheet"):
        run_options(plan=tmp_path / "p.json")
    with pytest.raises(UsageError, match="no such file"):
        run_options(plan=tmp_path / "p.json", sheet=Path(sheet(tmp_path, titles(1))))


@pytest.mark.parametrize("name", ["base_delay", "reviewed", "colour"])
def test_only_the_choices_a_user_can_make_are_taken(name):
    with pytest.raises(UsageError, match=f"unknown option.*{name}"):
        run_options(**{name: 9.0})


def test_validate_reads_the_sheet_whatever_the_api_settings_say(run_cli, tmp_path,
                                                                monkeypatch):
    monkeypatch.setenv("DAILYMOTION_API_BASE", "https://api.example.test")
    path = sheet(tmp_path, titles(2))
    assert run_cli("validate", str(path)).code == 0  # validate sends nothing, reads nothing
    shown = run_cli("config", "--allow-api-host", "api.example.test")
    assert shown.code == 0 and "https://api.example.test" in shown.out


def test_validate_reads_the_run_settings_as_plan_and_apply_do(run_cli, tmp_path):
    path = sheet(tmp_path, [{"video_id": "x800001", "publish_date": "01/12/2027 10:00"}])
    assert run_cli("validate", str(path)).code == 1  # ambiguous without a date order
    config = tmp_path / "run.toml"
    config.write_text('[run]\ndate_order = "dmy"\n', encoding="utf-8")
    config.chmod(0o600)
    assert run_cli("validate", str(path), "--config", str(config)).code == 0
    assert bulkedit.validate(path, config=config).ok
    assert not bulkedit.validate(path).ok


def test_a_python_keyword_that_contradicts_a_saved_plan_is_refused(api, run_cli, tmp_path):
    sandbox = api()
    path, saved = sheet(tmp_path, titles(2)), tmp_path / "p.json"
    assert run_cli("plan", str(path), "--api-base", sandbox.base_url, "--allow-irreversible",
                   "--save", str(saved)).code == 0
    with pytest.raises(UsageError, match=r"--allow-irreversible \(off\) contradicts the plan"):
        bulkedit.apply(path, api=sandbox, saved_plan=saved, allow_irreversible=False)
    done = bulkedit.apply(path, api=sandbox, saved_plan=saved)  # the plan's consent holds
    assert done.exit_code == 0 and done.counts() == {"updated": 2}
    assert sum(sandbox.counters.writes.values()) == 2


def test_the_fields_that_cannot_be_read_back_are_listed(run_cli):
    import json

    listed = json.loads(run_cli("fields", "--format", "json", "--all").out)["fields"]
    assert [f["field"] for f in listed if f["write_only"]] == ["password"]


def test_a_settings_file_with_an_unknown_encoding_is_refused(tmp_path):
    config = tmp_path / "bulkedit.toml"
    config.write_text('[run]\nencoding = "bogus-enc"\n', encoding="utf-8")
    config.chmod(0o600)
    with pytest.raises(UsageError, match="encoding 'bogus-enc' is not an encoding"):
        load_settings(config)


# How a doubtful sheet reads (issue 25): each choice, said on every path, lands the same.
READING_CHOICES = [  # (flag, toml line, Python keyword, RunOptions field, its value)
    ("--skip-hidden", 'hidden = "skip"', {"hidden": "skip"}, "hidden", "skip"),
    ("--include-hidden", 'hidden = "include"', {"hidden": "include"}, "hidden", "include"),
    ("--spread-merged", "spread_merged = true", {"spread_merged": True}, "spread_merged", True),
    ("--strip-apostrophes", "strip_apostrophes = true", {"strip_apostrophes": True},
     "strip_apostrophes", True),
    ("--split-lists", "split_lists = true", {"split_lists": True}, "split_lists", True),
    ("--decimal-separator=,", 'decimal_separator = ","', {"decimal_separator": ","},
     "decimal_separator", ","),
    ("--decimal-separator=.", 'decimal_separator = "."', {"decimal_separator": "."},
     "decimal_separator", "."),
]


@pytest.mark.parametrize("flag,line,keyword,name,value", READING_CHOICES,
                         ids=[c[0] for c in READING_CHOICES])
def test_each_reading_choice_reaches_the_engine_from_every_front_end(
        kept, run_cli, tmp_path, flag, line, keyword, name, value):
    from bulkedit.run.runner import validation_options

    path = sheet(tmp_path, titles(1))
    assert run_cli("apply", str(path), "--api-base", REMOTE, "--yes", flag).code == 3
    with pytest.raises(RunAborted):
        bulkedit.apply(path, api_base=REMOTE, credentials=("k", "s"), **keyword)
    config = tmp_path / "bulkedit.toml"
    config.write_text(f"[run]\n{line}\n", encoding="utf-8")
    config.chmod(0o600)
    assert run_cli("apply", str(path), "--api-base", REMOTE, "--yes", "--config",
                   str(config)).code == 3
    assert [getattr(o, name) for o in kept] == [value] * 3
    assert getattr(run_options(), name) != value  # the default is the refusal
    options = kept[0]
    if name in ("hidden", "spread_merged", "strip_apostrophes"):  # the loader's
        assert getattr(options.reading, name) == value
    else:  # the validator's
        assert getattr(validation_options(options), name) == value


def test_a_reading_choice_that_contradicts_a_saved_plan_is_refused(api, run_cli, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, titles(1))
    saved = tmp_path / "plan.json"
    assert run_cli("plan", str(path), "--api-base", sandbox.base_url, "--save",
                   str(saved)).code == 0
    refused = run_cli("apply", str(path), "--api-base", sandbox.base_url, "--plan",
                      str(saved), "--yes", "--decimal-separator", ",")
    assert refused.code == 2
    assert "--decimal-separator , contradicts the plan" in refused.err
    assert sandbox.counters.requests["edit_video"] == 0


def test_skip_and_include_hidden_together_are_refused(run_cli, tmp_path):
    path = sheet(tmp_path, titles(1))
    result = run_cli("validate", str(path), "--skip-hidden", "--include-hidden")
    assert result.code == 2 and "not allowed with argument" in result.err
