"""A sheet is taken only once it has stopped changing (issue 26, point 1): a writer that
flushes half a sheet, pauses, then writes the rest (cp, scp, SMB) is never applied half."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from pathlib import Path

import pytest
from conftest import KEY, grow_while_read, titles

from bulkedit.client.transport import Credentials
from bulkedit.core.errors import UsageError
from bulkedit.run.batch import Batch, JsonLog
from bulkedit.run.config import Settings, load_settings
from bulkedit.run.options import run_options
from bulkedit.run.settle import Seen, observe, unsettled, writers
from bulkedit.sandbox.store import video_id

ROWS = 200


def _rows(rows: list[dict[str, str]], header: bool) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, ["video_id", "title"], lineterminator="\n")
    if header:
        writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


class Writer:
    """A copy arriving in pieces: the first half now, the rest each time the night waits
    (its sleep is the writer's pause), `pieces` times."""

    def __init__(self, path: Path, pieces: int):
        self.path = path
        rows = titles(ROWS, prefix="Copied")
        self.pieces = [_rows(rows[: ROWS // 2], header=True)]
        step = max(1, (ROWS // 2) // max(pieces, 1))
        rest = rows[ROWS // 2:]
        self.pieces += [_rows(rest[i:i + step], header=False) for i in range(0, len(rest), step)]
        self.handle = path.open("wb")
        self.write()
        self.waits: list[float] = []

    def write(self) -> None:
        if self.pieces:
            self.handle.write(self.pieces.pop(0))
            self.handle.flush()
        if not self.pieces:
            self.handle.close()

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.write()


def _night(sandbox, inbox: Path, writer: Writer, tmp_path: Path, settle: float = 30):
    log = tmp_path / "night.jsonl"
    batch = Batch(Settings(), inbox, Credentials(KEY.key, KEY.secret),
                  {"api_base": sandbox.base_url, "rate": 0, "settle": settle},
                  JsonLog(log, None), sleep=writer.sleep)
    code = batch.run()
    return code, [json.loads(line) for line in log.read_text().splitlines()]


def test_a_sheet_written_in_two_halves_is_applied_whole(api, tmp_path):
    sandbox = api(videos=ROWS)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    path = inbox / "copied.csv"
    writer = Writer(path, pieces=1)  # 100 rows flushed; the rest after a pause
    code, events = _night(sandbox, inbox, writer, tmp_path)
    assert code == 0, events
    assert writer.waits and writer.waits[0] == 30  # it waited a settle, as configured
    assert sum(sandbox.counters.writes.values()) == ROWS  # all of it, once each
    assert sandbox.video(video_id(ROWS - 1))["title"] == f"Copied {ROWS - 1}"
    filed = inbox / "done" / "copied.csv"
    complete = _rows(titles(ROWS, prefix="Copied"), header=True)
    assert hashlib.sha256(filed.read_bytes()).digest() == hashlib.sha256(complete).digest()
    waited = [e for e in events if e["event"] == "sheet_waited"]
    assert len(waited) == 1 and "looked at again after the other sheets" in waited[0]["note"]


def test_a_sheet_still_being_written_all_night_is_left_for_the_next(api, tmp_path):
    sandbox = api(videos=ROWS)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    path = inbox / "slow.csv"
    writer = Writer(path, pieces=10)  # still writing at every look of the night
    code, events = _night(sandbox, inbox, writer, tmp_path)
    assert code == 1  # told, not exit 0
    assert sum(sandbox.counters.requests.values()) == 0  # nothing of it was sent
    assert path.exists() and not list((inbox / "done").iterdir())
    left = [e for e in events if e["event"] == "sheet_not_settled"]
    assert len(left) == 1 and left[0]["sheet"] == "slow.csv"
    assert "left in the inbox for the next night" in left[0]["error"]
    night = json.loads(next((inbox / "summaries").iterdir()).read_text())
    assert night["sheets"] == [{"sheet": "slow.csv", "exit_code": 1, "left_in_inbox": True,
                                "error": left[0]["error"].split(":")[0]}]


def test_a_sheet_a_process_still_holds_open_for_writing_is_not_taken(api, tmp_path):
    """Settle 0 (no waiting at all): the writer's open file is still seen, in /proc."""
    sandbox = api(videos=ROWS)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    path = inbox / "open.csv"
    writer = Writer(path, pieces=10)
    writer.sleep = _no_write  # type: ignore[method-assign]  # the writer never finishes
    try:
        code, events = _night(sandbox, inbox, writer, tmp_path, settle=0)
    finally:
        writer.handle.close()
    assert code == 1 and sum(sandbox.counters.requests.values()) == 0
    left = [e for e in events if e["event"] == "sheet_not_settled"]
    assert f"process {os.getpid()} still has it open for writing" in left[0]["error"]


async def _no_write(_seconds: float) -> None:
    return None


def test_a_sheet_that_has_not_changed_for_a_settle_is_taken_at_once(api, tmp_path):
    sandbox = api(videos=ROWS)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "old.csv").write_bytes(_rows(titles(ROWS), header=True))  # whole, long ago
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    log = tmp_path / "night.jsonl"
    later = observe(inbox / "old.csv").last_change + 31  # type: ignore[union-attr]
    batch = Batch(Settings(), inbox, Credentials(KEY.key, KEY.secret),
                  {"api_base": sandbox.base_url, "rate": 0, "settle": 30},
                  JsonLog(log, None), sleep=sleep, clock=lambda: later)
    assert batch.run() == 0
    assert waits == []  # no wait at all
    assert sum(sandbox.counters.writes.values()) == ROWS


def test_unsettled_decides_from_two_looks():
    seen = Seen(1, 2, 100, 10**18, 10**18)
    grown = Seen(1, 2, 200, 10**18 + 5, 10**18 + 5)
    assert unsettled(None, seen, [], now=1e9 + 1, interval=5) == "it changed a moment ago"
    assert unsettled(None, seen, [], now=1e9 + 6, interval=5) is None
    assert unsettled(seen, seen, [], now=1e9 + 1, interval=5) is None  # a settle apart
    assert "still being written" in unsettled(seen, grown, [], now=1e9 + 6, interval=5)
    assert "process 7 still has it open" in unsettled(seen, seen, [7], now=2e9, interval=5)
    assert unsettled(seen, None, [], now=2e9, interval=5) == "it is gone"


def test_writers_sees_only_an_open_for_writing(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"x")
    seen = observe(path)
    assert seen is not None
    with path.open("rb"):
        assert writers([seen]) == {}  # a reader is no writer
    with path.open("ab"):
        assert writers([seen]) == {(seen.device, seen.inode): [os.getpid()]}


def test_the_settle_interval_comes_through_the_one_options_path(tmp_path, monkeypatch):
    monkeypatch.delenv("BULKEDIT_SETTLE")
    assert run_options(Settings()).settle == 5.0
    config = tmp_path / "bulkedit.toml"
    config.write_text("[batch]\nsettle = 12\n", encoding="utf-8")
    settings = load_settings(config)
    assert run_options(settings).settle == 12.0
    monkeypatch.setenv("BULKEDIT_SETTLE", "3")
    assert run_options(settings).settle == 3.0
    assert run_options(settings, settle=0.5).settle == 0.5  # the flag wins
    with pytest.raises(UsageError, match="settle is a number of seconds"):
        run_options(settings, settle=-1)
    monkeypatch.setenv("BULKEDIT_SETTLE", "soon")
    with pytest.raises(UsageError, match="BULKEDIT_SETTLE='soon'"):
        run_options(settings)


def test_the_batch_flag_sets_the_settle_interval(run_cli, api, tmp_path):
    sandbox = api()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    result = run_cli("batch", str(inbox), "--api-base", sandbox.base_url, "--settle", "-2")
    assert result.code == 2 and "settle is a number of seconds" in result.err


def test_a_sheet_that_changes_while_it_is_read_is_left_not_failed(run_cli, api, tmp_path,
                                                                   monkeypatch):
    """A writer starting again just as the night reads the sheet: the pin refuses the
    changing bytes, and the sheet is left in the inbox for the next night, not filed in
    failed/ as a bad sheet (it is not one: it is not finished)."""
    sandbox = api()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    path = inbox / "uploading.csv"
    path.write_bytes(b"video_id,title\n" + f"{video_id(1)},One\n".encode() * 200_000)
    grown = grow_while_read(monkeypatch, path, f"{video_id(2)},Two\n".encode())
    night = run_cli("batch", str(inbox), "--api-base", sandbox.base_url, "--rate", "0")
    assert grown and night.code == 1, night.out + night.err
    assert "sheet_not_settled sheet=uploading.csv" in night.out
    assert "changed while it was being read" in night.out
    assert path.exists() and not list((inbox / "failed").iterdir())
    assert sum(sandbox.counters.requests.values()) == 0
