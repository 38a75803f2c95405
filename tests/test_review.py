"""Know before you change: the dry run, the rollback sheet, drift and verification."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import openpyxl
import pytest
from conftest import KEY, apply, results, sheet, titles
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bulkedit.core.cells import EXCEL_ERROR_CELL, parse_cell, to_cell
from bulkedit.core.schema import FIELDS
from bulkedit.core.types import CLEAR, SetValue
from bulkedit.sandbox import ApiKey, SandboxConfig, running_sandbox
from bulkedit.sandbox.store import video_id


def plan(run_cli, sandbox, path: Path, *extra: str):
    return run_cli("plan", str(path), "--api-base", sandbox.base_url, "--rate", "0", *extra)


# ----------------------------------------------------------------------------- grammar

@pytest.mark.parametrize("field,value", [
    ("title", "Summer"), ("description", ""), ("tags", ["a", "b c"]), ("tags", []),
    ("tags", ["-80s", "rock"]), ("tags", ["+1", "[x]"]), ("channel", "travel"),
    ("country", "FR"), ("private", True), ("private", False), ("publish_date", 1796144400),
    ("publish_date", None), ("geoblocking", ["deny", "us"]), ("geoblocking", ["allow"]),
    ("geoloc", [-9.14, 38.71]), ("soundtrack_popularity", 7), ("language", "fra"),
])
def test_to_cell_reads_back_as_the_same_value(field, value):
    spec = FIELDS[field]
    change, problems = parse_cell(spec, to_cell(spec, value))
    assert not problems
    if value in (None, "", [], ["allow"]):
        assert change is CLEAR
    else:
        expected = tuple(value) if isinstance(value, list) else value
        if field == "country":
            expected = value.lower()
        assert change == SetValue(expected)


def test_json_list_cells():
    change, problems = parse_cell(FIELDS["tags"], '["-80s", "rock", "-80s"]')
    assert change == SetValue(("-80s", "rock")) and not problems
    assert parse_cell(FIELDS["tags"], '["a", 3]')[1][0].code == "type"
    assert parse_cell(FIELDS["tags"], '["a,b"]')[1][0].code == "comma_in_item"


# ----------------------------------------------------------------------------- plan

def test_plan_reads_in_batches_and_writes_nothing(run_cli, api, tmp_path):
    sandbox = api(videos=300)
    rows = [*titles(250), {"video_id": "xmissing", "title": "x"}]
    rows[3]["title"] = sandbox.video(video_id(3))["title"]  # already so: a no-op
    path = sheet(tmp_path, rows)
    result = plan(run_cli, sandbox, path, "--rate", "50")
    assert result.code == 1  # one video not found
    assert sandbox.counters.requests["list_videos"] == math.ceil(251 / 100)
    assert sandbox.counters.requests["edit_video"] == 0
    lines = result.out.splitlines()
    assert lines[0] == f"Reading {path} (header on row 1)"  # before any read of the API
    assert lines[1].endswith("251 rows — 249 change, 1 noop, 1 not_found")
    assert ("249 videos to change; an apply will make 255 API calls (3 reads, 249 writes, 3 to "
            "read them back), "
            "about 5 s at --rate 50.") in result.out
    assert "Nothing was sent." in result.out
    book = openpyxl.load_workbook(tmp_path / "edits.plan.xlsx")
    plan_sheet = book["Plan"]
    header = [c.value for c in plan_sheet[1]]
    assert header == ["row", "video_id", "status", "title (live)", "title (new)", "note"]
    second = [c for c in plan_sheet[2]]
    assert second[2].value == "change" and second[4].value == "New title 0"
    assert second[4].fill.fgColor.rgb.endswith("FFF2A8")  # the new value is highlighted
    summary = {r[0].value: r[1].value for r in book["Summary"].iter_rows() if r and r[0].value}
    assert summary["change"] == 249 and summary["title"] == 249
    page = (tmp_path / "edits.plan.html").read_text(encoding="utf-8")
    assert page.count("<tr data-status=") == 251 and "<ins>" in page and "http" not in page


def test_plan_refuses_an_invalid_sheet(run_cli, api, tmp_path):
    sandbox = api()
    result = plan(run_cli, sandbox, sheet(tmp_path, [{"video_id": "X1", "title": "t"}]))
    assert result.code == 2 and sum(sandbox.counters.requests.values()) == 0


# ----------------------------------------------------------------------------- rollback

def test_rollback_sheet_is_written_before_the_first_edit_and_undoes_the_run(
        run_cli, api, tmp_path):
    sandbox = api()
    before = {video_id(i): sandbox.video(video_id(i)) for i in range(20)}
    rows = [{"video_id": video_id(i), "title": f"T{i}", "tags": "+new, -" + (
        before[video_id(i)]["tags"] or ["none"])[0], "description": "[]",
        "geoblocking": "deny, fr", "publish_date": "2027-01-01T10:00:00Z",
        "private": "true"} for i in range(20)]
    path = sheet(tmp_path, rows)
    rollback = tmp_path / "edits.rollback.csv"
    existed_at_first_edit = []
    sandbox.app.after_edit.append(lambda _v: existed_at_first_edit.append(rollback.exists()))
    assert apply(run_cli, sandbox, path).code == 0
    assert existed_at_first_edit and all(existed_at_first_edit)
    restored = apply(run_cli, sandbox, rollback)
    assert restored.code == 0, restored.out
    for vid, video in before.items():
        now = sandbox.video(vid)
        assert {k: v for k, v in now.items() if k != "updated_time"} == {
            k: v for k, v in video.items() if k != "updated_time"}


def _reads_as_itself(title: str) -> bool:
    """Not "[]", and not a spreadsheet error such as #A? (a CSV cell the sheet refuses)."""
    change, problems = parse_cell(FIELDS["title"], title)
    return change == SetValue(title) and not problems \
        and not re.match(EXCEL_ERROR_CELL, title)


_FIELD_VALUES = {
    # Any title the grammar takes as itself (not "[]", not a spreadsheet error like #A?).
    "title": st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
                     min_size=1, max_size=40).filter(
        lambda t: t.strip() == t and _reads_as_itself(t)),
    "description": st.sampled_from(["", "[]", "A new description.", "Ligne 1\nLigne 2"]),
    "tags": st.lists(st.sampled_from(["a", "b", "-80s", "rock", "été"]), max_size=3).map(
        lambda items: json.dumps(items) if items else "[]"),
    "channel": st.sampled_from(["news", "music", "sport", "travel"]),
    "private": st.sampled_from(["true", "false"]),
    "geoblocking": st.sampled_from(["[]", "deny, us", "fr, de", "allow"]),
    "publish_date": st.sampled_from(["[]", "2027-03-01T08:30:00Z", "1796144400"]),
    "country": st.sampled_from(["[]", "fr", "US"]),
    "soundtrack_isrc": st.sampled_from(["[]", "FR-6V8-21-83311"]),
}


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 29), st.dictionaries(
    st.sampled_from(sorted(_FIELD_VALUES)), st.just(None), min_size=1)), min_size=1,
    max_size=8, unique_by=lambda r: r[0]), st.data())
def test_apply_then_rollback_leaves_the_catalogue_as_it_was(tmp_path_factory, run_cli,
                                                           monkeypatch, rows, data):
    monkeypatch.setenv("DAILYMOTION_API_KEY", KEY.key)
    monkeypatch.setenv("DAILYMOTION_API_SECRET", KEY.secret)
    folder = tmp_path_factory.mktemp("roundtrip")
    with running_sandbox(SandboxConfig(videos=30, keys=(KEY,))) as sandbox:
        before = {video_id(i): sandbox.video(video_id(i)) for i in range(30)}
        sheet_rows = []
        for index, fields in rows:
            row = {"video_id": video_id(index)}
            for name in fields:
                row[name] = data.draw(_FIELD_VALUES[name])
            sheet_rows.append(row)
        path = sheet(folder, sheet_rows)
        assert apply(run_cli, sandbox, path).code == 0
        rollback = folder / "edits.rollback.csv"
        if rollback.exists():
            assert apply(run_cli, sandbox, rollback).code == 0
        for vid, video in before.items():
            now = sandbox.video(vid)
            assert {k: v for k, v in now.items() if k != "updated_time"} == {
                k: v for k, v in video.items() if k != "updated_time"}, vid


# ----------------------------------------------------------------------------- drift

def test_drift_since_the_review_is_a_conflict(run_cli, api, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, titles(5))
    saved = tmp_path / "reviewed.plan.json"
    assert plan(run_cli, sandbox, path, "--save", str(saved)).code == 0
    sandbox.store.update(video_id(2), {"title": "Edited in Studio meanwhile"})
    result = apply(run_cli, sandbox, path, "--plan", str(saved))
    assert result.code == 1
    rows = results(tmp_path / "edits.results.csv")
    assert [r["#status"] for r in rows] == ["updated", "updated", "conflict", "updated",
                                            "updated"]
    assert rows[2]["#error_class"] == "drift" and rows[2]["#changed_fields"] == "title"
    assert "title was " in rows[2]["#error"]
    assert "now 'Edited in Studio meanwhile'" in rows[2]["#error"]
    assert sandbox.video(video_id(2))["title"] == "Edited in Studio meanwhile"
    forced = apply(run_cli, sandbox, path, "--plan", str(saved), "--force")
    assert forced.code == 0 and sandbox.video(video_id(2))["title"] == "New title 2"


def test_a_plan_belongs_to_its_sheet(run_cli, api, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, titles(3))
    saved = tmp_path / "p.json"
    assert plan(run_cli, sandbox, path, "--save", str(saved)).code == 0
    path.write_text(path.read_text() + "x800009,Another\n", encoding="utf-8")
    result = apply(run_cli, sandbox, path, "--plan", str(saved))
    assert result.code == 2 and "has changed since the plan" in result.err
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    assert "not a plan saved by" in apply(run_cli, sandbox, path, "--plan", str(bad)).err


# ----------------------------------------------------------------------------- verify, batches

def test_verify_catches_a_change_the_api_ignored(run_cli, api, tmp_path, monkeypatch):
    no_thumbnails = ApiKey("thumbless", "thumbless-secret")
    sandbox = api(keys=(no_thumbnails,))
    monkeypatch.setenv("DAILYMOTION_API_KEY", no_thumbnails.key)
    monkeypatch.setenv("DAILYMOTION_API_SECRET", no_thumbnails.secret)
    path = sheet(tmp_path, [
        {"video_id": video_id(1), "title": "Fine", "thumbnail_url": ""},
        {"video_id": video_id(2), "title": "", "thumbnail_url": "https://example.com/t.jpg"},
    ])
    result = apply(run_cli, sandbox, path, "--verify")
    assert result.code == 1
    rows = results(tmp_path / "edits.results.csv")
    assert [r["#status"] for r in rows] == ["updated", "failed"]
    assert rows[1]["#error_class"] == "ignored" and "thumbnail_url" in rows[1]["#error"]
    assert "Read back: 1 of 2 written rows read back as sent" in result.out


def test_a_refused_batch_size_is_halved(run_cli, api, tmp_path):
    sandbox = api(max_ids=30)
    result = apply(run_cli, sandbox, sheet(tmp_path, titles(100)))
    assert result.code == 0
    # 100, 2 x 50, 4 x 25; the read-back starts at 25: 4 x 25.
    assert sandbox.counters.requests["list_videos"] == 1 + 2 + 4 + 4
    assert sum(sandbox.counters.writes.values()) == 100


def test_changes_no_rollback_can_undo_are_announced(run_cli, api, tmp_path):
    sandbox = api()
    original_title = sandbox.video(video_id(4))["title"]
    assert sandbox.video(video_id(4))["geoloc"] is None
    path = sheet(tmp_path, [{"video_id": video_id(4), "geoloc": "2.35E, 48.85N",
                             "password": "hunter2", "title": "Kept"}])
    planned = plan(run_cli, sandbox, path)
    assert ("2 changes could not be undone by a rollback sheet (geoloc, password)"
            in planned.out)
    applied = apply(run_cli, sandbox, path)
    assert applied.code == 0
    assert "The rollback sheet cannot undo 2 changes (geoloc, password)" in applied.out
    rollback = results(tmp_path / "edits.rollback.csv")
    assert rollback == [{"video_id": video_id(4), "title": original_title}]
    assert "hunter2" not in (tmp_path / "edits.rollback.csv").read_text(encoding="utf-8-sig")
