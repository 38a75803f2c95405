"""The reviewed plan file: `plan --save PLAN` writes it, `apply --plan PLAN` checks drift.

It keeps, for every row of the sheet that was read, the live values of the fields the
sheet touches as they were when someone reviewed the dry run, and a digest of the
sheet so that a plan is never checked against a sheet edited since.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bulkedit.core.errors import UsageError
from bulkedit.sheets.files import write_text

FORMAT = "bulkedit-plan/1"


@dataclass(frozen=True)
class ReviewedRow:
    video_id: str
    status: str
    live: dict[str, Any]


@dataclass(frozen=True)
class SavedPlan:
    sheet: str
    sheet_sha256: str
    created: str
    rows: dict[int, ReviewedRow]  # by sheet row number


def sheet_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_plan(path: Path, sheet_path: Path, digest: str, rows: dict[int, ReviewedRow]) -> None:
    """`digest`: of the bytes the plan was made from (not of the file now, which may
    have been saved again since)."""
    payload = {
        "format": FORMAT,
        "sheet": str(sheet_path),
        "sheet_sha256": digest,
        "created": datetime.now(UTC).isoformat(),
        "rows": {str(number): {"video_id": r.video_id, "status": r.status, "live": r.live}
                 for number, r in rows.items()},
    }
    write_text(path, json.dumps(payload, ensure_ascii=False, indent=1) + "\n")


def load_plan(path: Path, sheet_path: Path) -> SavedPlan:
    """The plan, checked against the sheet it must belong to."""
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        if payload.get("format") != FORMAT:
            raise ValueError("not a bulkedit plan")
        rows = {int(number): ReviewedRow(r["video_id"], r["status"], dict(r["live"]))
                for number, r in payload["rows"].items()}
        plan = SavedPlan(payload["sheet"], payload["sheet_sha256"], payload["created"], rows)
    except FileNotFoundError:
        raise UsageError(f"--plan {path}: no such file") from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise UsageError(f"--plan {path}: not a plan saved by `bulkedit plan --save`") from None
    if plan.sheet_sha256 != sheet_digest(sheet_path):
        raise UsageError(f"{sheet_path} has changed since the plan {path} was saved; run "
                         "`bulkedit plan --save` again and review it")
    return plan
