"""The JSON that `validate --json` and `plan --json` print on stdout: one stable shape each
(docs: "Pipes and verbosity"), with `"version": 1`. A key may be added in a later
version; none is renamed or removed without a new version number."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from bulkedit.core.charclasses import json_visible
from bulkedit.core.problems import PROBLEMS
from bulkedit.core.types import Issue

JSON_VERSION = 1


def dumps(payload: Any) -> str:
    """JSON text for stdout, and a line end: readable (not ASCII-only), with every
    character a terminal must not get raw (controls, bidi, invisible ones) as JSON's own
    escape, so the terminal-safe stream has nothing to change and a reader gets the exact
    value back."""
    text = json.dumps(payload, indent=2, ensure_ascii=False)
    return json_visible(text) + "\n"


def problem_json(issue: Issue) -> dict[str, Any]:
    """One problem: where, what (a stable code), the message (which ends with this cell's
    fix) and the fix in general words, from the problem registry."""
    known = PROBLEMS.get(issue.code)
    return {"row": issue.row, "column": issue.column, "value": issue.value,
            "code": issue.code, "severity": issue.severity.value, "message": issue.message,
            "fix": known.fix if known is not None else ""}


def _problems(issues: Iterable[Issue]) -> list[dict[str, Any]]:
    return [problem_json(issue) for issue in issues]


def validation_json(sheet: Any, result: Any, exit_code: int) -> dict[str, Any]:
    """`validate --json`: the counts, and every problem (errors and warnings)."""
    return {
        "version": JSON_VERSION,
        "command": "validate",
        "sheet": sheet.source,
        "sheet_name": sheet.sheet_name,  # the workbook's tab read (None: a CSV)
        "header_row": sheet.header_row,
        "ok": bool(result.ok),
        "exit_code": int(exit_code),
        "counts": {"rows": result.row_count, "valid": result.valid_count,
                   "invalid": len(result.invalid_rows), "errors": len(result.errors),
                   "warnings": len(result.warnings),
                   "header_errors": len(result.header_errors)},
        "problems": _problems(result.issues),
    }


def refused_plan_json(validation: Any, exit_code: int) -> dict[str, Any]:
    """`plan --json` of a sheet refused before any read (exit 2): `refused` is true, and
    the sheet's problems, as validate's, stand where the plan would."""
    sheet = validation.sheet
    return {
        "version": JSON_VERSION,
        "command": "plan",
        "sheet": sheet.source,
        "sheet_name": sheet.sheet_name,
        "exit_code": int(exit_code),
        "refused": True,
        "complete": False,
        "rows": validation.row_count,
        "problems": _problems(validation.issues),
        "plan": [],
    }


def plan_json(result: Any, exit_code: int, estimate: Any, *,
              reports: dict[str, str | None], saved: str | None) -> dict[str, Any]:
    """`plan --json`: the counts by plan status, the calls an apply would make, and one
    entry per sheet row with its status and each change (live value, new value), as the
    diff report shows them (a secret field masked)."""
    from bulkedit.sheets.diffreport import report_rows

    _, rows = report_rows(result)
    return {
        "version": JSON_VERSION,
        "command": "plan",
        "sheet": result.sheet.source,
        "sheet_name": result.sheet.sheet_name,
        "exit_code": int(exit_code),
        "refused": False,
        "complete": not (result.interrupted or result.aborted),
        "aborted": result.aborted,
        "rows": len(result.outcomes),
        "counts": result.planned(),
        "apply_would_make": {"reads": estimate.reads, "writes": estimate.writes,
                             "read_backs": estimate.read_backs, "calls": estimate.calls,
                             "seconds": round(estimate.seconds, 1)
                             if estimate.seconds is not None else None},
        "warnings": _problems(result.validation.warnings),
        "reports": reports,
        "saved_plan": saved,
        "plan": [{"row": row.row, "video_id": row.video_id or None, "status": row.status,
                  "note": row.note,
                  "changes": [{"field": name, "live": live, "new": new}
                              for name, (live, new, changed) in row.cells.items() if changed]}
                 for row in rows],
    }
