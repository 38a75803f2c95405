"""The reviewed plan file: `plan --save PLAN` writes it, `apply --plan PLAN` is bound by it.

It keeps what someone reviewed, so that an apply sends exactly that:
  * a digest of the sheet's bytes, so a plan is never applied to a sheet edited since;
  * the options that decide what the cells mean (time zone, date order, consents, the
    worksheet, the encoding, skip-invalid): an apply takes them from the plan, and
    refuses one that contradicts them (run/options.py);
  * for every row that was read, the live values of the fields the sheet touches (drift)
    and the exact form the row would send. A secret's value (a video password) is never
    written to the file: its place in the form says only that one is sent; the sheet's
    digest and the bound options decide it as surely.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bulkedit.core.errors import UsageError
from bulkedit.core.schema import FIELDS, MASK
from bulkedit.sheets.files import write_text

if TYPE_CHECKING:
    from bulkedit.core.outcomes import RunResult

FORMAT = "bulkedit-plan/2"
_OLDER = ("bulkedit-plan/1",)


@dataclass(frozen=True)
class ReviewedRow:
    video_id: str
    status: str
    live: dict[str, Any]
    form: dict[str, str]  # what the row sends, secrets masked ({} when it sends nothing)


@dataclass(frozen=True)
class SavedPlan:
    sheet: str
    sheet_sha256: str
    created: str
    rows: dict[int, ReviewedRow]  # by sheet row number
    options: dict[str, Any]  # the value-shaping options it was made with


_FLAG_OPTIONS = ("allow_irreversible", "allow_live_fields", "allow_past_expiry",
                 "skip_invalid", "spread_merged", "strip_apostrophes", "split_lists")
_TEXT_OPTIONS = ("sheet_name", "timezone", "date_order", "encoding", "hidden",
                 "decimal_separator")


def _checked_options(options: dict[str, Any]) -> dict[str, Any]:
    """The plan's options, each of the type it must have (a hand-edited "no" is not
    false): else ValueError, which the caller reports as not a plan."""
    for name, value in options.items():
        if name in _FLAG_OPTIONS and not isinstance(value, bool):
            raise ValueError(f"{name} is not true or false")
        if name in _TEXT_OPTIONS and value is not None and not isinstance(value, str):
            raise ValueError(f"{name} is not a text")
    if not isinstance(options.get("account", ""), str):
        raise ValueError("account is not a text")
    several = options.get("accounts", {})
    if not isinstance(several, dict) or not all(
            isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
            for k, v in several.items()):
        raise ValueError("accounts is not each account's rows")
    if options.get("date_order") not in (None, "dmy", "mdy") or not options.get("timezone"):
        raise ValueError("date_order or timezone")
    if options.get("hidden", "refuse") not in ("refuse", "skip", "include") or options.get(
            "decimal_separator") not in (None, ".", ","):
        raise ValueError("hidden or decimal_separator")
    return options


def masked_form(form: Mapping[str, str]) -> dict[str, str]:
    """A row's wire form as a plan file may keep it: secrets replaced by a mark."""
    return {name: (MASK if name in FIELDS and FIELDS[name].sensitive and value else value)
            for name, value in form.items()}


def reviewed_rows(result: RunResult) -> dict[int, ReviewedRow]:
    """What a dry run showed of each row it planned: the live values of the fields the row
    touches (those the API read) and the form it would send."""
    from bulkedit.core.planning import RowStatus
    from bulkedit.core.types import UnknownValue

    typed = {row.row: row for row in result.validation.rows()}
    reviewed = {}
    for plan in result.plans.values():
        live = result.live.get(plan.video_id, {})
        touched = typed[plan.row].changes if plan.row in typed else {}
        form = plan.form if plan.status is RowStatus.CHANGE else {}
        reviewed[plan.row] = ReviewedRow(
            plan.video_id, plan.status.value,
            {name: (MASK if FIELDS[name].sensitive and live.get(name) else live.get(name))
             for name in touched if not isinstance(live.get(name), UnknownValue)},
            dict(form))
    return reviewed


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("not a text")
    return value


def sheet_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_plan(path: Path, sheet_path: Path, digest: str, rows: dict[int, ReviewedRow],
              options: Mapping[str, Any]) -> None:
    """`digest`: of the bytes the plan was made from (not of the file now, which may
    have been saved again since)."""
    payload = {
        "format": FORMAT,
        "sheet": str(sheet_path),
        "sheet_sha256": digest,
        "created": datetime.now(UTC).isoformat(),
        "options": dict(options),
        "rows": {str(number): {"video_id": r.video_id, "status": r.status, "live": r.live,
                               "form": masked_form(r.form)}
                 for number, r in rows.items()},
    }
    write_text(path, json.dumps(payload, ensure_ascii=False, indent=1) + "\n")


def load_plan(path: Path, sheet_path: Path) -> SavedPlan:
    """The plan, checked against the sheet it must belong to."""
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(payload, dict):
            raise ValueError("not a bulkedit plan")
        if payload.get("format") in _OLDER:
            raise UsageError(f"--plan {path} was saved by an older bulkedit, which kept "
                             "neither the options nor the forms reviewed; run `bulkedit plan "
                             "--save` again and review it")
        if payload.get("format") != FORMAT:
            raise ValueError("not a bulkedit plan")
        rows = {int(number): ReviewedRow(_text(r["video_id"]), _text(r["status"]),
                                         dict(r["live"]),
                                         {_text(k): _text(v) for k, v in dict(r["form"]).items()})
                for number, r in payload["rows"].items()}
        options = _checked_options(dict(payload["options"]))
        plan = SavedPlan(str(payload["sheet"]), str(payload["sheet_sha256"]),
                         str(payload["created"]), rows, options)
    except FileNotFoundError:
        raise UsageError(f"--plan {path}: no such file") from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise UsageError(f"--plan {path}: not a plan saved by `bulkedit plan --save`") from None
    try:
        current = sheet_digest(sheet_path)
    except OSError as exc:
        raise UsageError(f"{sheet_path}: cannot be read ({exc.strerror or exc})") from None
    if plan.sheet_sha256 != current:
        raise UsageError(f"{sheet_path} has changed since the plan {path} was saved; run "
                         "`bulkedit plan --save` again and review it")
    return plan
