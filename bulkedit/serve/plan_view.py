"""What the sheet page shows of a plan: the same rows, statuses and counts as `bulkedit
plan` (its diff report's rows, sheets/diffreport.py, from the engine's dry run), counted per
status and per field, the rows no rollback sheet can undo first, and the calls and time an
apply would take (the plan's own estimate). Pure: built from a RunResult, no I/O."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from bulkedit.core.display import clipped, counted
from bulkedit.core.outcomes import Estimate, RunResult
from bulkedit.core.planning import RowStatus, not_restorable
from bulkedit.sheets.diffreport import field_counts, report_rows

PAGE_SIZE = 50
SHOWN_CHARS = 300


@dataclass(frozen=True)
class Change:
    field: str
    live: str
    new: str
    changed: bool
    lasting: bool  # no rollback sheet can undo it


@dataclass(frozen=True)
class PlanRow:
    row: int
    video_id: str
    status: str
    note: str
    changes: tuple[Change, ...]

    @property
    def lasting(self) -> bool:
        return any(c.lasting for c in self.changes)


@dataclass(frozen=True)
class PlanView:
    rows: tuple[PlanRow, ...]  # the rows no rollback can undo first, then in sheet order
    fields: tuple[str, ...]
    by_status: tuple[tuple[str, int], ...]
    by_field: tuple[tuple[str, int], ...]  # most changed first
    lasting: int  # rows with a change no rollback sheet can undo
    estimate: Estimate
    complete: bool  # every row was read: the plan can be saved and approved
    blocked: int  # rows refused against the live values (an apply sends nothing)
    conflicts: int  # rows that drifted from an approved plan (an apply does not send them)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(len(self.rows) / PAGE_SIZE))

    def page(self, number: int) -> tuple[int, tuple[PlanRow, ...]]:
        number = min(max(1, number), self.pages)
        return number, self.rows[(number - 1) * PAGE_SIZE:number * PAGE_SIZE]


def plan_view(result: RunResult, estimate: Estimate) -> PlanView:
    fields, rows = report_rows(result)
    lasting_by_row = {
        plan.row: {name for _, name in not_restorable([plan])}
        for plan in result.plans.values() if plan.status is RowStatus.CHANGE}
    shown = []
    for row in rows:
        gone = lasting_by_row.get(row.row, set())
        shown.append(PlanRow(row.row, row.video_id, row.status, clipped(row.note, SHOWN_CHARS),
                             tuple(Change(name, clipped(live, SHOWN_CHARS),
                                          clipped(new, SHOWN_CHARS), changed, name in gone)
                                   for name, (live, new, changed) in row.cells.items())))
    ordered = sorted(shown, key=lambda r: not r.lasting)  # stable: sheet order kept
    statuses = Counter(r.status for r in rows)
    return PlanView(tuple(ordered), tuple(fields), tuple(sorted(statuses.items())),
                    tuple(field_counts(rows).most_common()),
                    sum(r.lasting for r in shown), estimate,
                    not (result.interrupted or result.aborted), result.blocked,
                    statuses.get("conflict", 0))


def estimate_words(estimate: Estimate) -> str:
    """What an apply will cost, in the words of `bulkedit plan`'s footer."""
    back = f", {estimate.read_backs:,} to read them back" if estimate.read_backs else ""
    pace = (f"{estimate.time} at {estimate.rate:g} requests a second"
            if estimate.seconds is not None and estimate.rate else
            "as fast as the API answers (no fixed rate)")
    return (f"An apply will make {counted(estimate.calls, 'API call')} "
            f"({counted(estimate.reads, 'read')}, {counted(estimate.writes, 'write')}{back}),"
            f" {pace}.")
