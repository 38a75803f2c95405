"""batch's inbox subfolders named after accounts (issue 30, point 2): a sheet in
inbox/brand_de/ goes through brand_de (its rows' #account cells may only say the same),
is named `brand_de/NAME` in the log and the summary, and is filed in done/brand_de/ or
failed/brand_de/; a subfolder named after no account is said, never quietly left."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import test_accounts
from conftest import results, sheet
from test_accounts import DE, FR, videos_of, writes_by_key

# The two accounts' settings file and their sandbox: test_accounts.py's own fixtures.
two = test_accounts.two
sandbox = test_accounts.sandbox


@pytest.fixture
def inbox(tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


def night(run_cli, two, sandbox, inbox, *extra):
    log = inbox.parent / "night.log"
    done = run_cli("batch", str(inbox), "--config", str(two), "--api-base", sandbox.base_url,
                   "--rate", "0", "--log", str(log), *extra)
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    return done, lines


def subfolder(inbox: Path, name: str) -> Path:
    folder = inbox / name
    folder.mkdir(mode=0o700)
    return folder


def test_a_sheet_in_an_account_s_folder_goes_through_that_account(
        two, sandbox, inbox, run_cli):
    sheet(subfolder(inbox, "brand_de"), [{"video_id": v, "title": "Nuit"}
                                        for v in videos_of(1, 3)], "edits.csv")
    sheet(inbox, [{"video_id": v, "title": "Nuit"} for v in videos_of(0, 2)], "fr.csv")
    done, lines = night(run_cli, two, sandbox, inbox)
    assert done.code == 0, done.out + done.err
    assert writes_by_key(sandbox) == {DE.key: 3, FR.key: 2}  # no --account, no #account
    assert sandbox.counters.not_owner_by_key == {} or not any(
        sandbox.counters.not_owner_by_key.values())
    finished = {line["sheet"]: line for line in lines if line["event"] == "sheet_done"}
    assert set(finished) == {"brand_de/edits.csv", "fr.csv"}
    assert finished["brand_de/edits.csv"]["moved_to"] == str(inbox / "done" / "brand_de")
    assert (inbox / "done" / "brand_de" / "edits.csv").exists()
    assert not (inbox / "brand_de" / "edits.csv").exists()


def test_two_accounts_sheets_of_one_name_are_kept_apart(two, sandbox, inbox, run_cli):
    for name, channel in (("brand_fr", 0), ("brand_de", 1)):
        sheet(subfolder(inbox, name), [{"video_id": v, "title": f"For {name}"}
                                       for v in videos_of(channel, 2)], "edits.csv")
    done, _ = night(run_cli, two, sandbox, inbox)
    assert done.code == 0, done.out + done.err
    for name, channel in (("brand_fr", 0), ("brand_de", 1)):
        rows = results(inbox / "done" / name / "edits.results.csv")
        assert [(r["video_id"], r["title"], r["#status"]) for r in rows] == [
            (v, f"For {name}", "updated") for v in videos_of(channel, 2)]


def test_a_row_naming_another_account_than_its_folder_is_refused_and_nothing_is_sent(
        two, sandbox, inbox, run_cli):
    sheet(subfolder(inbox, "brand_fr"), [
        {"video_id": videos_of(0, 1)[0], "title": "A", "#account": ""},
        {"video_id": videos_of(1, 1)[0], "title": "B", "#account": "brand_de"}], "mixed.csv")
    done, lines = night(run_cli, two, sandbox, inbox)
    assert done.code == 2
    assert writes_by_key(sandbox) == {}
    invalid = [line for line in lines if line["event"] == "sheet_invalid"]
    assert [line["sheet"] for line in invalid] == ["brand_fr/mixed.csv"]
    problems = results(inbox / "failed" / "brand_fr" / "mixed.problems.csv")
    assert [p["code"] for p in problems] == ["account_not_folder"]


def test_a_folder_named_after_no_account_is_said_with_the_closest_and_left(
        two, sandbox, inbox, run_cli):
    sheet(subfolder(inbox, "brand_dee"), [{"video_id": videos_of(1, 1)[0], "title": "X"}])
    subfolder(inbox, "notes")  # no sheet in it: nothing to say
    done, lines = night(run_cli, two, sandbox, inbox)
    assert done.code == 0, done.out + done.err
    warned = [line for line in lines if line["event"] == "inbox_warning"]
    assert [line["folder"] for line in warned] == ["brand_dee/"]
    assert "(did you mean brand_de/?)" in warned[0]["warning"]
    assert "its sheets are not applied" in warned[0]["warning"]
    assert (inbox / "brand_dee" / "edits.csv").exists() and writes_by_key(sandbox) == {}


def test_only_the_accounts_given_have_their_folders_applied(two, sandbox, inbox, run_cli):
    sheet(subfolder(inbox, "brand_de"), [{"video_id": videos_of(1, 1)[0], "title": "X"}])
    sheet(subfolder(inbox, "brand_fr"), [{"video_id": videos_of(0, 1)[0], "title": "Y"}])
    done, lines = night(run_cli, two, sandbox, inbox, "--account", "brand_fr")
    assert done.code == 0, done.out + done.err
    assert writes_by_key(sandbox) == {FR.key: 1}
    warned = [line["warning"] for line in lines if line["event"] == "inbox_warning"]
    assert len(warned) == 1 and "not among the accounts given (--account brand_fr)" in (
        warned[0])
    assert (inbox / "brand_de" / "edits.csv").exists()


def test_an_account_folder_that_is_a_link_is_never_read(two, sandbox, inbox, run_cli,
                                                        tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    sheet(elsewhere, [{"video_id": videos_of(1, 1)[0], "title": "X"}])
    os.symlink(elsewhere, inbox / "brand_de")
    done, lines = night(run_cli, two, sandbox, inbox)
    assert done.code == 2
    refused = [line for line in lines if line["event"] == "sheet_refused"]
    assert [line["sheet"] for line in refused] == ["brand_de"]
    assert "symbolic link" in refused[0]["error"] and "copy the folder itself" in (
        refused[0]["error"])
    assert writes_by_key(sandbox) == {} and (elsewhere / "edits.csv").exists()
