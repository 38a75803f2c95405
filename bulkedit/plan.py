"""Desired against live values: what each row really changes (DESIGN.md §1, §6). Pure.

Values are compared in a normal form, so that equal values never count as a
change: text without outer spaces, enums and country codes in lower case,
lists as sets (the order and repeats of tags do not matter to Dailymotion),
geoblocking as (mode, countries) with "allow everywhere" for empty, dates as
unix seconds. List patches are resolved against the live list into the full
list to send, so that re-sending an edit is harmless.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bulkedit.cells import CLEAR_MARK, to_cell
from bulkedit.protocol import edit_form
from bulkedit.schema import FIELDS, FieldSpec, Kind
from bulkedit.types import CLEAR, ClearValue, FieldChange, PatchList, SetValue, TypedRow, Value


class RowStatus(StrEnum):
    CHANGE = "change"
    NOOP = "noop"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class FieldDiff:
    field: str
    old: Any  # the live value, as the API returned it
    new: Value | ClearValue  # what will be sent (patches resolved)


@dataclass(frozen=True)
class RowPlan:
    row: int
    video_id: str
    status: RowStatus
    diffs: tuple[FieldDiff, ...] = ()
    form: dict[str, str] = field(default_factory=dict)

    @property
    def changed_fields(self) -> tuple[str, ...]:
        return tuple(d.field for d in self.diffs)


def _items(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [i.strip() for i in value.split(",") if i.strip()]
    return [str(i).strip() for i in value if str(i).strip()]


def _geoblocking(value: Any) -> tuple[str, frozenset[str]]:
    items = [i.lower() for i in _items(value)]
    mode = items.pop(0) if items and items[0] in ("allow", "deny") else "allow"
    countries = frozenset(items)
    return ("allow", frozenset()) if mode == "deny" and not countries else (mode, countries)


def normal(spec: FieldSpec, value: Any) -> Any:
    """The comparable form of a field value, live or desired (CLEAR means empty)."""
    if isinstance(value, ClearValue):
        value = None
    kind = spec.kind
    if kind is Kind.LIST:
        return frozenset(_items(value))
    if kind is Kind.COUNTRY_LIST:
        return _geoblocking(value)
    if value is None or value == "":
        return None
    if kind is Kind.TEXT or kind is Kind.URL or kind is Kind.VIDEO_ID:
        return str(value).strip() or None
    if kind is Kind.ENUM:
        return str(value).strip().lower() or None
    if kind is Kind.BOOL:
        return bool(value)
    if kind is Kind.DATE or kind is Kind.NUMBER:
        return float(value)
    if kind is Kind.GEO_POINT:
        return tuple(round(float(v), 6) for v in value)
    return value


def resolve(spec: FieldSpec, change: FieldChange, live: Any) -> Value | ClearValue:
    """The full value a change asks for, given the live one."""
    if isinstance(change, SetValue):
        return change.value
    if not isinstance(change, PatchList):
        return CLEAR
    if spec.kind is Kind.COUNTRY_LIST:
        mode, countries = _geoblocking(live)
        kept = [c for c in sorted(countries) if c not in change.remove]
        return (mode, *kept, *(c for c in change.add if c not in kept))
    items = [i for i in _items(live) if i not in change.remove]
    items += [i for i in change.add if i not in items]
    return tuple(items)


def plan_row(typed: TypedRow, live: Mapping[str, Any] | None) -> RowPlan:
    """What a valid row changes on its video, whose live values are `live` (None: gone)."""
    if live is None:
        return RowPlan(typed.row, typed.video_id, RowStatus.NOT_FOUND)
    diffs: list[FieldDiff] = []
    for name, change in typed.changes.items():
        spec = FIELDS[name]
        old = live.get(name)
        new = resolve(spec, change, old)
        if normal(spec, new) != normal(spec, old):
            diffs.append(FieldDiff(name, old, new))
    if not diffs:
        return RowPlan(typed.row, typed.video_id, RowStatus.NOOP)
    form = edit_form({d.field: d.new for d in diffs})
    return RowPlan(typed.row, typed.video_id, RowStatus.CHANGE, tuple(diffs), form)


def drifted(fields: tuple[str, ...] | list[str], reviewed: Mapping[str, Any],
            now: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """(field, reviewed value, live value) for each field that changed since the review."""
    return [(name, reviewed.get(name), now.get(name)) for name in fields
            if normal(FIELDS[name], reviewed.get(name)) != normal(FIELDS[name], now.get(name))]


# Changes the API gives no way to undo: it never returns a password, explicit=true is
# permanent, and some fields cannot be emptied once set.
_NOT_RESTORABLE = ("password", "explicit")


def rollback_cell(diff: FieldDiff) -> str | None:
    """The rollback sheet's cell that undoes `diff`, or None when nothing can."""
    spec = FIELDS[diff.field]
    text = to_cell(spec, diff.old)
    if diff.field in _NOT_RESTORABLE or (text == CLEAR_MARK and not spec.clearable):
        return None
    return text


def not_restorable(plans: list[RowPlan]) -> list[tuple[str, str]]:
    """(video_id, field) of every change a rollback sheet could not undo."""
    return [(plan.video_id, diff.field) for plan in plans for diff in plan.diffs
            if rollback_cell(diff) is None]
