"""The journal's format moves forward (issue 30, point 4): a journal written before
accounts existed (tests/data/journal-v0.sqlite, made by bulkedit at 3b3e0f5 with a real
apply and an interrupted run) is brought forward losing nothing; a journal from a later
bulkedit is refused; runs are per (sheet, account), and the runs of one sheet linked. A
journal of format 1 (tests/data/journal-v1.sqlite, made as tests/data/make_journal_v1.py
says) gains the events table of the review page's audit trail (issue 31, point 9), losing
nothing."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from bulkedit.core.errors import UsageError
from bulkedit.run.journal import SCHEMA_VERSION, Journal

V0 = Path(__file__).parent / "data" / "journal-v0.sqlite"
V1 = Path(__file__).parent / "data" / "journal-v1.sqlite"
TABLES = ("runs", "rows", "outputs", "carried")


def _old_journal(tmp_path: Path, fixture: Path = V0) -> Path:
    folder = tmp_path / "state"
    folder.mkdir(mode=0o700)
    shutil.copyfile(fixture, folder / "journal.sqlite")
    (folder / "journal.sqlite").chmod(0o600)
    return folder


def _dump(path: Path, kept: tuple[str, ...] = ()) -> dict[str, list[tuple]]:
    """Every row of every table, in the columns the v0 journal had (and those `kept`)."""
    db = sqlite3.connect(path)
    try:
        out = {}
        for table in TABLES:
            columns = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
            v0 = [c for c in columns if c not in ("account", "linked") or c in kept]
            out[table] = sorted(db.execute(f"SELECT {', '.join(v0)} FROM {table}").fetchall())
        return out
    finally:
        db.close()


def test_a_journal_from_before_accounts_is_brought_forward_losing_nothing(tmp_path):
    folder = _old_journal(tmp_path)
    before = _dump(folder / "journal.sqlite")
    assert sqlite3.connect(folder / "journal.sqlite").execute(
        "PRAGMA user_version").fetchone()[0] == 0
    journal = Journal(folder)
    try:
        runs = journal.runs()
        assert [(r.state, r.account, r.linked) for r in runs] == [
            ("finished", "default", None), ("interrupted", "default", None)]
        interrupted = runs[1]
        # The interrupted run resumes as before: found for the default account, its rows,
        # its plans and the values it carried over intact.
        assert journal.unfinished_run(interrupted.sheet, interrupted.sheet_sha256) == \
            interrupted
        rows = journal.rows(interrupted.id)
        assert [(r.state, r.status) for r in rows.values()] == [
            ("done", "updated"), ("sent", "sent"), ("pending", "pending")]
        assert rows[2].plan == {"form": {"tags": "x,y"}, "old": {"tags": []}}
        assert journal.carried(interrupted.id) == {"x800005": (2, {"title": "Original"})}
        assert set(journal.outputs(runs[0].id)) == {"results", "rollback"}
        assert journal.status_counts(runs[0].id) == {"updated": 3, "invalid": 1}
        assert journal.events() == []  # format 2's events table, from 0 in one go
    finally:
        journal.close()
    assert _dump(folder / "journal.sqlite") == before  # every value of every table
    db = sqlite3.connect(folder / "journal.sqlite")
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    Journal(folder).close()  # opened again: already forward, nothing to do
    assert _dump(folder / "journal.sqlite") == before


def test_a_journal_of_format_1_gains_the_events_table_losing_nothing(tmp_path):
    folder = _old_journal(tmp_path, V1)
    path = folder / "journal.sqlite"
    before = _dump(path, kept=("account", "linked"))
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    assert not db.execute("SELECT name FROM sqlite_master WHERE name = 'events'").fetchall()
    db.close()
    journal = Journal(folder)
    try:
        runs = journal.runs()
        assert [(r.state, r.account) for r in runs] == [
            ("finished", "default"), ("finished", "brand1"), ("interrupted", "brand2")]
        assert runs[2].linked == runs[1].id
        assert [r.id for r in journal.linked_runs(runs[2].id)] == [runs[1].id, runs[2].id]
        assert journal.unfinished_run(runs[2].sheet, runs[2].sheet_sha256, "brand2") == runs[2]
        rows = journal.rows(runs[2].id)
        assert [(r.state, r.status) for r in rows.values()] == [("sent", "sent"),
                                                                ("pending", "pending")]
        assert rows[0].plan == {"form": {"tags": "p,q"}, "old": {"tags": ["z"]}}
        assert journal.carried(runs[2].id) == {"x800011": (3, {"tags": ["z"]})}
        assert journal.status_counts(runs[0].id) == {"updated": 3}
        assert set(journal.outputs(runs[0].id)) == {"results", "rollback"}
        assert journal.events() == []
        event = journal.record_event("ana", "upload", sheet="night.csv", version=1,
                                     sheet_sha256="cd" * 32, comment="=1+1", at=5.0)
    finally:
        journal.close()
    assert _dump(path, kept=("account", "linked")) == before
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 2 \
        == SCHEMA_VERSION
    again = Journal(folder)  # opened again: already forward, the event kept
    try:
        assert again.events() == [event]
        assert event.seq == 1 and event.actor == "ana" and event.comment == "=1+1"
    finally:
        again.close()


def test_a_journal_from_a_later_bulkedit_is_refused_and_left_as_it_is(tmp_path):
    folder = _old_journal(tmp_path)
    db = sqlite3.connect(folder / "journal.sqlite")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    before = (folder / "journal.sqlite").read_bytes()
    with pytest.raises(UsageError, match=r"written by a later bulkedit .*upgrade bulkedit"):
        Journal(folder)
    assert (folder / "journal.sqlite").read_bytes() == before


def test_runs_are_per_sheet_and_account_and_the_runs_of_one_sheet_are_linked(tmp_path):
    journal = Journal(tmp_path / "state")
    try:
        first = journal.start_run("/s.csv", "d1", {}, account="brand1")
        second = journal.start_run("/s.csv", "d1", {}, account="brand2", linked=first.id)
        alone = journal.start_run("/s.csv", "d1", {})
        assert journal.unfinished_run("/s.csv", "d1", "brand1") == first
        assert journal.unfinished_run("/s.csv", "d1", "brand2") == second
        assert journal.unfinished_run("/s.csv", "d1") == alone  # the account `default`
        assert journal.unfinished_runs("/s.csv", "brand2") == [second]
        assert [r.id for r in journal.linked_runs(second.id)] == [first.id, second.id]
        assert [r.id for r in journal.linked_runs(first.id)] == [first.id, second.id]
        assert [r.id for r in journal.linked_runs(alone.id)] == [alone.id]
    finally:
        journal.close()


def test_bulkedit_runs_names_each_runs_account_once_a_run_used_one(run_cli, tmp_path):
    folder = _old_journal(tmp_path)
    plain = run_cli("runs", "--state-dir", str(folder))
    assert plain.code == 0 and "account" not in plain.out.splitlines()[0]  # as before
    journal = Journal(folder)
    try:
        journal.start_run("/srv/sheets/night.csv", "cd" * 32, {}, account="brand1")
    finally:
        journal.close()
    table = run_cli("runs", "--state-dir", str(folder))
    assert "account" in table.out.splitlines()[0].split()
    assert any("brand1" in line.split() for line in table.out.splitlines()[2:])
    listed = json.loads(run_cli("runs", "--state-dir", str(folder), "--json").out)["runs"]
    assert [r["account"] for r in listed] == ["default", "default", "brand1"]
    assert [r["linked"] for r in listed] == [None, None, None]


def test_a_named_accounts_run_is_running_while_its_sheet_is_locked(run_cli, tmp_path):
    # A run of any account holds its sheet's one lock (runner.py): `bulkedit runs` must
    # not call a live run of the account brand1 interrupted.
    from bulkedit.run.lock import SheetLock

    folder = tmp_path / "state"
    journal = Journal(folder)
    try:
        journal.start_run("/srv/sheets/live.csv", "ef" * 32, {}, account="brand1")
    finally:
        journal.close()

    def state() -> str:
        listed = json.loads(run_cli("runs", "--state-dir", str(folder), "--json").out)
        return listed["runs"][0]["state"]

    with SheetLock("/srv/sheets/live.csv", "live.csv"):
        assert state() == "running"
    assert state() == "interrupted"  # its process gone: `apply` again resumes it
