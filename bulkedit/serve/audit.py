"""The audit trail as a CSV: one line per event of the journal (who, when, what, which sheet
version, its hashes, the comment), every cell written as bulkedit writes every CSV cell,
so that Excel shows a comment like `=HYPERLINK(...)` as text and never evaluates it
(sheets/report.py's guard)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from bulkedit.run.journal import Event

HEADERS = ("seq", "time_utc", "actor", "action", "sheet", "version", "sheet_sha256",
           "plan_sha256", "comment", "detail")


def when(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cells(event: Event) -> Sequence[str | int | None]:
    return (event.seq, when(event.at), event.actor, event.action, event.sheet,
            event.version, event.sheet_sha256, event.plan_sha256, event.comment, event.detail)


def csv_bytes(folder: Path, events: Iterable[Event]) -> bytes:
    from bulkedit.sheets.report import write_table

    path = folder / f".audit.{os.getpid()}.{secrets.token_hex(8)}.csv"  # 0600, gone at once
    try:
        write_table(path, HEADERS, (cells(e) for e in events), mode=0o600)
        return path.read_bytes()
    finally:
        path.unlink(missing_ok=True)
