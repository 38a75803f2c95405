"""bulkedit export: past the 1,000-result cap, and the round trip export → edit → apply."""

from __future__ import annotations

import csv

import openpyxl
import pytest
from conftest import apply

from bulkedit.sandbox.store import owner_id


def export(run_cli, sandbox, *extra: str):
    return run_cli("export", "--api-base", sandbox.base_url, "--rate", "0", *extra)


@pytest.fixture
def big_channel(api):
    """One channel of 5,000 videos, about 2 % of them sharing a creation second."""
    sandbox = api(videos=5000, owners=1)
    created = [sandbox.video(i)["created_time"] for i in
               sandbox.store.owner_videos(owner_id(0), None, None, True)]
    assert len(created) == 5000 and len(set(created)) < 4950
    return sandbox


def test_export_walks_past_the_cap_without_missing_or_repeating(run_cli, big_channel, tmp_path):
    sandbox = big_channel
    out = tmp_path / "videos.csv"
    result = export(run_cli, sandbox, "--owner", owner_id(0), "-o", str(out))
    assert result.code == 0, result.err
    assert "5000 videos exported" in result.out and "time windows" in result.out
    with out.open(encoding="utf-8-sig", newline="") as handle:
        ids = [row["video_id"] for row in csv.DictReader(handle)]
    assert len(ids) == len(set(ids)) == 5000
    assert set(ids) == set(sandbox.store.owner_videos(owner_id(0), None, None, True))
    assert sandbox.counters.statuses[400] == 0  # never asked past the cap


def test_round_trip_changes_exactly_what_was_edited(run_cli, big_channel, tmp_path):
    sandbox = big_channel
    sheet = tmp_path / "videos.xlsx"
    assert export(run_cli, sandbox, "--owner", owner_id(0), "-o", str(sheet)).code == 0
    planned = run_cli("plan", str(sheet), "--api-base", sandbox.base_url, "--rate", "0")
    assert planned.code == 0 and "5000 rows — 5000 noop" in planned.out
    book = openpyxl.load_workbook(sheet)
    rows = book["Videos"]
    header = [c.value for c in rows[1]]
    assert header[:4] == ["video_id", "title", "description", "tags"]
    assert rows.freeze_panes == "B2" and rows.auto_filter.ref.startswith("A1:")
    assert rows["B1"].comment is not None and rows.data_validations.dataValidation
    edited = {}
    for row_number, column, value in ((2, "title", "Edited in Excel"), (50, "tags", "a, b"),
                                      (4000, "private", "true")):
        video = rows.cell(row=row_number, column=1).value
        rows.cell(row=row_number, column=header.index(column) + 1, value=value)
        edited[video] = column
    book.save(sheet)
    before = {v: sandbox.video(v) for v in sandbox.store.owner_videos(owner_id(0), None, None,
                                                                      True)}
    done = apply(run_cli, sandbox, sheet)
    assert done.code == 0, done.out
    assert sum(sandbox.counters.writes.values()) == len(edited)
    changed = {v: {k for k in sandbox.video(v) if sandbox.video(v)[k] != before[v][k]
                   and k != "updated_time"} for v in before}
    assert {v: c for v, c in changed.items() if c} == {v: {f} for v, f in edited.items()}


def test_export_by_ids_from_any_sheet(run_cli, api, tmp_path):
    sandbox = api()
    ids = tmp_path / "ids.txt"
    ids.write_text("x800003\nhttps://dai.ly/x800001\nxnothere\n", encoding="utf-8")
    out = tmp_path / "some.csv"
    result = export(run_cli, sandbox, "--ids", str(ids), "-o", str(out), "--fields",
                    "title,publish_date", "--timezone", "Europe/Paris")
    assert result.code == 1 and "1 ids were not found: xnothere" in result.out
    with out.open(encoding="utf-8-sig", newline="") as handle:
        assert [r["video_id"] for r in csv.DictReader(handle)] == ["x800003", "x800001"]
    again = tmp_path / "again.csv"
    assert export(run_cli, sandbox, "--ids", str(out), "-o", str(again)).code == 0


def test_export_filters_and_usage(run_cli, api, tmp_path):
    sandbox = api(videos=300, owners=1)
    out = tmp_path / "private.csv"
    assert export(run_cli, sandbox, "--owner", owner_id(0), "--private", "yes", "-o",
                  str(out)).code == 0
    with out.open(encoding="utf-8-sig", newline="") as handle:
        exported = [r["video_id"] for r in csv.DictReader(handle)]
    assert exported and all(sandbox.video(v)["private"] for v in exported)
    assert "say which videos" in export(run_cli, sandbox, "-o", str(out)).err
    assert "no channel xnobody" in export(run_cli, sandbox, "--owner", "xnobody", "-o",
                                          str(out)).err
    assert "an export is .xlsx or .csv" in export(run_cli, sandbox, "--owner", "x", "-o",
                                                  "v.json").err


def test_exported_cells_are_excel_safe(run_cli, api, tmp_path):
    sandbox = api()
    sandbox.store.update("x800002", {"title": "=HYPERLINK(\"http://evil\")",
                                     "tags": ["-80s", "rock"]})
    out = tmp_path / "v.csv"
    assert export(run_cli, sandbox, "--ids", str(_ids(tmp_path, "x800002")), "-o",
                  str(out)).code == 0
    text = out.read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text and '"[""-80s"", ""rock""]"' in text
    planned = run_cli("plan", str(out), "--api-base", sandbox.base_url, "--rate", "0")
    assert "1 noop" in planned.out


def _ids(folder, *ids):
    path = folder / "ids.txt"
    path.write_text("\n".join(ids), encoding="utf-8")
    return path
