"""One apply of a sheet whose rows go to several accounts (issue 30, points 3 to 5), against
the sandbox with the real client on loopback: each account's rows through its own key, at
the same time; one account's revoked key stops only its rows; the next apply finishes them
without sending anything twice; the rollback goes back through the right accounts; a global
rate over all of them is never exceeded."""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path

import pytest
from conftest import results, sheet

from bulkedit.run.accounts import ACCOUNT_ENV
from bulkedit.sandbox.config import accounts
from bulkedit.sandbox.store import video_id

BRANDS = accounts(3, 3)  # video i is channel i % 3's, which is BRANDS[i % 3]'s
NAMES = ("brand1", "brand2", "brand3")
CONFIG = """\
[api]
rate = {rate}
concurrency = 3
default_account = "brand1"
{extra}
""" + "".join(f"""
[accounts.{name}]
key_env = "{name.upper()}_KEY"
secret_env = "{name.upper()}_SECRET"
""" for name in NAMES)


@pytest.fixture
def three(tmp_path, monkeypatch, api):
    """A sandbox of three accounts, a settings file naming them, their keys set; and a
    function writing the settings with another rate or more lines."""
    for name, brand in zip(NAMES, BRANDS, strict=True):
        monkeypatch.setenv(f"{name.upper()}_KEY", brand.key)
        monkeypatch.setenv(f"{name.upper()}_SECRET", brand.secret)
    monkeypatch.delenv(ACCOUNT_ENV, raising=False)
    sandbox = api(keys=BRANDS, owners=3, videos=300)

    def config(rate: float = 0, extra: str = "") -> Path:
        path = tmp_path / "bulkedit.toml"
        path.write_text(CONFIG.format(rate=rate, extra=extra), encoding="utf-8")
        path.chmod(0o600)
        return path

    return sandbox, config


def mixed(tmp_path: Path, count: int, name: str = "edits.csv", title: str = "Mixed"
          ) -> Path:
    """`count` rows of each account, interleaved; brand1's rows leave #account blank
    (default_account routes them)."""
    rows = [{"video_id": video_id(i), "title": f"{title} {i}",
             "#account": "" if i % 3 == 0 else NAMES[i % 3]} for i in range(3 * count)]
    return sheet(tmp_path, rows, name)


def written(sandbox) -> dict[str, dict[str, int]]:
    """The edits the sandbox applied, by key, then video."""
    return {key: {v: n for v, n in videos.items() if n}
            for key, videos in sandbox.counters.writes_by_key.items()
            if sum(videos.values())}


def apply(run_cli, path: Path, config: Path, sandbox, *extra: str):
    return run_cli("apply", str(path), "--config", str(config), "--api-base",
                   sandbox.base_url, "--yes", *extra)


def test_each_account_s_rows_go_through_its_own_key_and_one_summary_says_each(
        three, run_cli, tmp_path):
    sandbox, config = three
    path = mixed(tmp_path, 10)
    done = apply(run_cli, path, config(), sandbox, "--summary-json",
                 str(tmp_path / "summary.json"))
    assert done.code == 0, done.out + done.err
    by_key = written(sandbox)
    for n, brand in enumerate(BRANDS):  # every row through its own account's key, once
        assert by_key[brand.key] == {video_id(i): 1 for i in range(30) if i % 3 == n}
    assert sum(sandbox.counters.not_owner_by_key.values()) == 0
    # The results sheet keeps the #account column; every row updated.
    rows = results(tmp_path / "edits.results.csv")
    assert {row["#status"] for row in rows} == {"updated"}
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["counts"] == {"updated": 30} and summary["exit_code"] == 0
    assert summary["api_calls"]["writes"] == 30
    for name in NAMES:
        block = summary["accounts"][name]
        assert (block["counts"], block["writes"], block["stopped"]) == ({"updated": 10},
                                                                        10, None)
    # Three journal runs, one per account, linked to the first.
    runs = json.loads(run_cli("runs", "--json").out)["runs"]
    assert sorted(run["account"] for run in runs) == sorted(NAMES)
    first = next(run["run"] for run in runs if run["linked"] is None)
    assert all(run["linked"] == first for run in runs if run["run"] != first)
    assert {run["state"] for run in runs} == {"finished"}
    # The console names each account.
    for name in NAMES:
        assert f"{name}: 10 rows" in done.out


def test_a_revoked_key_stops_only_its_account_and_the_next_apply_finishes_it(
        three, run_cli, tmp_path):
    sandbox, config = three
    victim = BRANDS[1]
    revoked = threading.Event()

    def revoke_after_three(_video: str) -> None:  # in the sandbox, as its third edit lands
        if not revoked.is_set() and sum(sandbox.counters.writes_by_key.get(
                victim.key, {}).values()) >= 3:
            sandbox.app.revoke_key(victim.key)
            revoked.set()

    sandbox.app.after_edit.append(revoke_after_three)
    path = mixed(tmp_path, 20)
    settings = config()
    done = apply(run_cli, path, settings, sandbox, "--summary-json",
                 str(tmp_path / "summary.json"))
    sandbox.app.after_edit.remove(revoke_after_three)
    assert revoked.is_set()
    assert done.code == 3, done.out + done.err  # the worst of the accounts' exits
    rows = results(tmp_path / "edits.results.csv")
    status = {name: [r["#status"] for r in rows
                     if (r["#account"] or "brand1") == name] for name in NAMES}
    assert status["brand1"] == status["brand3"] == ["updated"] * 20  # the others finish
    # Its rows written before the key went are `sent` (read back by the next apply); the
    # rest failed, saying why.
    mine = [r for r in rows if r["#account"] == "brand2"]
    landed = [r for r in mine if r["#status"] in ("updated", "sent")]
    stopped = [r for r in mine if r not in landed]
    assert stopped and all(r["#status"] == "failed" and r["#error_class"] == "auth"
                           for r in stopped), stopped
    assert any("not sent: the account brand2 stopped" in r["#error"] for r in stopped)
    # The refused key is said as the account's own: its variables, not the default ones.
    assert all("$BRAND2_KEY, $BRAND2_SECRET" in r["#error"]
               and "DAILYMOTION_API_KEY" not in r["#error"] for r in stopped)
    assert all(r["#status"] == "updated" or "not read back yet" in r["#error"]
               for r in landed)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["accounts"]["brand1"]["stopped"] is None
    assert summary["accounts"]["brand2"]["stopped"]
    assert summary["accounts"]["brand2"]["exit_code"] == 3
    assert "brand2" in done.err
    before = written(sandbox)
    assert sum(before[victim.key].values()) == len(landed) == 20 - len(stopped)

    sandbox.app.restore_key(victim.key)  # the key put right: the same command again
    again = apply(run_cli, path, settings, sandbox)
    assert again.code == 0, again.out + again.err
    after = written(sandbox)
    assert after[BRANDS[0].key] == before[BRANDS[0].key]  # nothing resent
    assert after[BRANDS[2].key] == before[BRANDS[2].key]
    assert after[victim.key] == {video_id(i): 1 for i in range(60) if i % 3 == 1}
    assert {r["#status"] for r in results(tmp_path / "edits.results.csv")} == {"updated"}
    assert "Resuming brand2" in again.err


def test_the_rollback_of_a_mixed_run_restores_through_the_accounts_that_changed_it(
        three, run_cli, tmp_path):
    sandbox, config = three
    before = {video_id(i): sandbox.video(video_id(i))["title"] for i in range(15)}
    settings = config()
    assert apply(run_cli, mixed(tmp_path, 5), settings, sandbox).code == 0
    rollback = tmp_path / "edits.rollback.csv"
    undo = results(rollback)
    assert [row["#account"] for row in undo] == [NAMES[i % 3] for i in range(15)]
    # With no default account, only the #account column can route the rollback's rows.
    bare = config(extra="").read_text().replace('default_account = "brand1"\n', "")
    settings.write_text(bare, encoding="utf-8")
    done = apply(run_cli, rollback, settings, sandbox)
    assert done.code == 0, done.out + done.err
    assert {v: sandbox.video(v)["title"] for v in before} == before
    assert sum(sandbox.counters.not_owner_by_key.values()) == 0
    for n, brand in enumerate(BRANDS):  # each video written twice, by its own key
        assert written(sandbox)[brand.key] == {video_id(i): 2 for i in range(15)
                                               if i % 3 == n}


def test_a_global_rate_below_the_accounts_sum_is_never_exceeded(three, run_cli, tmp_path):
    sandbox, config = three
    settings = config(rate=8, extra="")
    settings.write_text(settings.read_text() + "\n[run]\nglobal_rate = 10\n",
                        encoding="utf-8")
    done = apply(run_cli, mixed(tmp_path, 12), settings, sandbox, "--no-verify")
    assert done.code == 0, done.out + done.err
    counters = sandbox.counters
    assert counters.max_per_second <= 10  # three accounts at 8/s would send up to 24/s
    for brand in BRANDS:
        assert counters.max_per_second_of_key(brand.key) <= 8


def test_one_key_for_a_sheet_of_several_accounts_is_refused_before_anything_is_sent(
        three, run_cli, tmp_path):
    sandbox, config = three
    key = tmp_path / "key.toml"
    key.write_text(f'api_key = "{BRANDS[0].key}"\napi_secret = "{BRANDS[0].secret}"\n',
                   encoding="utf-8")
    key.chmod(0o600)
    done = apply(run_cli, mixed(tmp_path, 2), config(), sandbox, "--credentials", str(key))
    assert done.code == 2, done.out + done.err
    assert "routes its rows to 3 accounts" in done.err and "Nothing was sent" in done.err
    assert sandbox.counters.tokens_issued == 0


def test_every_batch_log_line_of_a_mixed_sheet_names_its_account(three, run_cli, tmp_path):
    sandbox, config = three
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    mixed(inbox, 2)
    log = tmp_path / "night.jsonl"
    done = run_cli("batch", str(inbox), "--config", str(config()), "--api-base",
                   sandbox.base_url, "--log", str(log))
    assert done.code == 0, done.out + done.err
    events = [json.loads(line) for line in log.read_text().splitlines()]
    per_account = [e for e in events if e["event"] == "account_done"]
    assert [(e["account"], e["counts"]) for e in per_account] == [
        (name, {"updated": 2}) for name in NAMES]
    assert all(e["sheet"] == "edits.csv" and e["run"] for e in per_account)
    done_line = next(e for e in events if e["event"] == "sheet_done")
    assert done_line["account"] == ",".join(NAMES)


def test_a_reviewed_plan_of_a_mixed_sheet_binds_each_account_s_rows(three, run_cli, tmp_path):
    sandbox, config = three
    settings = config()
    path = mixed(tmp_path, 2)
    plan = tmp_path / "plan.json"
    done = run_cli("plan", str(path), "--config", str(settings), "--api-base",
                   sandbox.base_url, "--save", str(plan))
    assert done.code == 0, done.out + done.err
    assert json.loads(plan.read_text())["options"]["accounts"] == {name: 2 for name in NAMES}
    # The blank #account rows would now go through brand3: refused, nothing sent.
    other = settings.read_text().replace('default_account = "brand1"',
                                         'default_account = "brand3"')
    settings.write_text(other, encoding="utf-8")
    moved = apply(run_cli, path, settings, sandbox, "--plan", str(plan))
    assert moved.code == 2, moved.out + moved.err
    assert "reviewed reading the videos through the accounts brand1, brand2, brand3" \
        in moved.err
    assert sum(sandbox.counters.writes.values()) == 0
    settings.write_text(other.replace('"brand3"', '"brand1"'), encoding="utf-8")
    assert apply(run_cli, path, settings, sandbox, "--plan", str(plan)).code == 0
    assert sum(sandbox.counters.writes.values()) == 6


def test_the_report_of_one_account_s_run_rebuilds_the_whole_mixed_sheet(
        three, run_cli, tmp_path):
    sandbox, config = three
    assert apply(run_cli, mixed(tmp_path, 3), config(), sandbox).code == 0
    runs = json.loads(run_cli("runs", "--json").out)["runs"]
    second = next(run["run"] for run in runs if run["account"] == "brand2")
    done = run_cli("report", second, "--results", str(tmp_path / "again.results.csv"),
                   "--rollback", str(tmp_path / "again.rollback.csv"))
    assert done.code == 0, done.out + done.err
    assert {r["#status"] for r in results(tmp_path / "again.results.csv")} == {"updated"}
    undo = results(tmp_path / "again.rollback.csv")
    assert undo == results(tmp_path / "edits.rollback.csv")  # the same undo, #account too


def test_ctrl_c_stops_every_account_and_the_same_command_finishes_each(
        three, run_cli, tmp_path):
    sandbox, config = three
    stopped = threading.Event()

    def ctrl_c(_video: str) -> None:  # once ten edits have landed, whichever account's
        if not stopped.is_set() and sum(sandbox.counters.writes.values()) >= 10:
            stopped.set()
            os.kill(os.getpid(), signal.SIGINT)

    sandbox.app.after_edit.append(ctrl_c)
    path = mixed(tmp_path, 20)
    settings = config(rate=20)
    first = apply(run_cli, path, settings, sandbox)
    sandbox.app.after_edit.remove(ctrl_c)
    assert stopped.is_set() and first.code == 130, first.out + first.err
    runs = json.loads(run_cli("runs", "--json").out)["runs"]
    assert sorted(run["state"] for run in runs) == ["interrupted"] * 3
    before = dict(sandbox.counters.writes)
    assert 10 <= sum(before.values()) < 60
    again = apply(run_cli, path, settings, sandbox)
    assert again.code == 0, again.out + again.err
    assert dict(sandbox.counters.writes) == {video_id(i): 1 for i in range(60)}
    assert {r["#status"] for r in results(tmp_path / "edits.results.csv")} == {"updated"}


def test_an_account_s_key_missing_stops_the_whole_sheet_before_anything_is_sent(
        three, run_cli, tmp_path, monkeypatch):
    sandbox, config = three
    monkeypatch.delenv("BRAND3_SECRET")
    done = apply(run_cli, mixed(tmp_path, 2), config(), sandbox)
    assert done.code == 2, done.out + done.err
    assert "account brand3: no API credentials: set BRAND3_SECRET" in done.err
    assert sandbox.counters.tokens_issued == 0 and not sandbox.counters.writes


def test_the_python_api_applies_a_mixed_sheet_and_says_each_row_s_account(
        three, tmp_path):
    import bulkedit

    sandbox, config = three
    path = mixed(tmp_path, 2)
    planned = bulkedit.plan(path, api_base=sandbox.base_url, config=config())
    frame = planned.to_pandas()
    assert list(frame["account"]) == [NAMES[i % 3] for i in range(6)]
    done = bulkedit.apply(path, api_base=sandbox.base_url, config=config())
    assert done.exit_code == 0
    frame = done.to_pandas()
    assert list(zip(frame["status"], frame["account"], strict=True)) == [
        ("updated", NAMES[i % 3]) for i in range(6)]
    for n, brand in enumerate(BRANDS):
        assert written(sandbox)[brand.key] == {video_id(i): 1 for i in range(6) if i % 3 == n}
