"""Desired against live values: what each row really changes (DESIGN.md §1, §6). Pure.

Values are compared in a normal form, so that equal values never count as a
change: text without outer spaces, enums and country codes in lower case,
lists as sets (the order and repeats of tags do not matter to Dailymotion),
geoblocking as (mode, countries) with "allow everywhere" for empty, dates as
unix seconds. List patches are resolved against the live list into the full
list to send, so that re-sending an edit is harmless.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bulkedit.core.cells import CLEAR_MARK, format_date, is_unset_date, to_cell
from bulkedit.core.protocol import edit_form
from bulkedit.core.schema import FIELDS, FieldSpec, Kind
from bulkedit.core.types import (
    CLEAR,
    ClearValue,
    FieldChange,
    PatchList,
    SetValue,
    Severity,
    TypedRow,
    UnknownValue,
    Value,
)


class RowStatus(StrEnum):
    CHANGE = "change"
    NOOP = "noop"
    NOT_FOUND = "not_found"
    REFUSED = "refused"  # a change that is only wrong against the live value


@dataclass(frozen=True)
class PlanRules:
    """What a change may do, decided against the live value (the run's options)."""

    allow_irreversible: bool = False  # explicit=true on a video that is not yet explicit
    allow_past_expiry: bool = False  # an expiry_date in the past on a video it deletes
    now: float = field(default_factory=time.time)


@dataclass(frozen=True)
class PlanProblem:
    """A change that the live value makes wrong (error) or worth a word (warning)."""

    field: str
    code: str
    message: str
    severity: Severity = Severity.ERROR

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


class PatchRefused(Exception):
    """A patch whose meaning depends on the live value in a way the cell does not say."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


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
    problems: tuple[PlanProblem, ...] = ()

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
    if kind is Kind.DATE:
        seconds = float(value)
        return None if is_unset_date(spec.name, seconds) else seconds
    if kind is Kind.NUMBER:
        return float(value)
    if kind is Kind.GEO_POINT:
        return tuple(round(float(v), 6) for v in value)
    return value


def _show_geo(mode: str, countries: Iterable[str]) -> str:
    listed = sorted(countries)
    return f"{mode}, {', '.join(listed)}" if listed else "everywhere (no restriction)"


def _resolve_geoblocking(change: PatchList, live: Any) -> tuple[Value, str | None]:
    """The geoblocking a patch asks for against the live one, and a warning when the cell
    alone does not show who may watch afterwards; raises PatchRefused where the cell could mean
    two things.

    A plain `+us, -fr` adds to and removes from the live list, which means the same
    (let us watch, stop fr watching) only on an allow list; on a deny list or an
    unrestricted video it means the opposite of granting, so it must name its list:
    `deny +us` blocks us, `allow +us` lets us watch (and only the listed countries).
    """
    mode, countries = _geoblocking(live)
    unrestricted = not countries
    live_text = _show_geo(mode, countries)
    wanted = change.mode
    if wanted is None:
        if unrestricted or mode == "deny":
            example = ", ".join(f"+{c}" for c in change.add) or ", ".join(
                f"-{c}" for c in change.remove)
            raise PatchRefused("ambiguous_patch", (
                f"the live geoblocking is {live_text}, where a plain +/- patch could mean "
                f"two opposite things; write 'deny {example}' to patch the blocked countries, "
                f"or 'allow {example}' to patch the allowed ones (then only the listed "
                "countries may watch)"))
        wanted = "allow"
    if not unrestricted and wanted != mode:
        raise PatchRefused("geoblocking_mode", (
            f"the live geoblocking is {live_text}, not {'an' if wanted == 'allow' else 'a'} "
            f"{wanted} list; write the whole list ({wanted}, …) to change its mode"))
    kept = [c for c in sorted(countries) if c not in change.remove]
    kept += [c for c in change.add if c not in kept]
    if wanted == "allow" and not kept:
        if unrestricted:
            return ("allow",), None  # nothing was restricted, and nothing is added
        raise PatchRefused("no_country_left", (
            f"removing {', '.join(change.remove)} from {live_text} leaves no allowed country, "
            "which Dailymotion reads as 'everywhere'; to hide the video everywhere set "
            "private to true, or write the whole list"))
    if wanted == "deny" and not kept:
        return ("allow",), None  # an empty deny list: everywhere
    warning = None
    if wanted == "allow" and unrestricted:
        warning = (f"the video could be watched everywhere; after this only {', '.join(kept)} "
                   "may watch it")
    return (wanted, *kept), warning


def resolve(spec: FieldSpec, change: FieldChange, live: Any) -> Value | ClearValue:
    """The full value a change asks for, given the live one. Raises PatchRefused for a
    geoblocking patch that cannot be resolved without guessing (plan_row reports it)."""
    if isinstance(change, SetValue):
        return change.value
    if not isinstance(change, PatchList):
        return CLEAR
    if spec.kind is Kind.COUNTRY_LIST:
        return _resolve_geoblocking(change, live)[0]
    items = [i for i in _items(live) if i not in change.remove]
    items += [i for i in change.add if i not in items]
    return tuple(items)


def _case_miss(change: PatchList, live: Any) -> str | None:
    """A warning when an item to remove is not in the live list as written, but is in
    another case: `-Concert` against a live `concert` removes nothing."""
    items = _items(live)
    missed = [(item, other) for item in change.remove if item not in items
              for other in items if other.lower() == item.lower()]
    if not missed:
        return None
    return "; ".join(f"-{item} removes nothing: the live list has {other}" for item, other
                     in missed)


def fields_to_read(changed: Iterable[str]) -> set[str]:
    """The live fields planning needs: those the sheet changes, and the ones that decide
    whether a change is safe (whether an expiry deletes the video)."""
    fields = set(changed)
    if fields & {"expiry_date", "expiry_date_deletion"}:
        fields |= {"expiry_date", "expiry_date_deletion"}
    return fields


def _deletes_on_expiry(typed: TypedRow, live: Mapping[str, Any]) -> bool:
    change = typed.changes.get("expiry_date_deletion")
    if isinstance(change, SetValue):
        return bool(change.value)
    value = live.get("expiry_date_deletion")
    return True if value is None else bool(value)  # Dailymotion's default is to delete


def _check_change(name: str, new: Any, live: Mapping[str, Any], typed: TypedRow,
                  rules: PlanRules) -> PlanProblem | None:
    """A change that is only wrong because of what it changes from."""
    if name == "explicit" and new is True and not rules.allow_irreversible:
        return PlanProblem(name, "irreversible", "setting explicit to true can never be "
                           "undone on Dailymotion; pass --allow-irreversible if you are sure")
    if rules.allow_past_expiry or name not in ("expiry_date", "expiry_date_deletion"):
        return None
    expiry = new if name == "expiry_date" else _expiry_after(typed, live)
    past = isinstance(expiry, int | float) and not isinstance(expiry, bool) and expiry < rules.now
    if past and _deletes_on_expiry(typed, live):
        return PlanProblem(name, "past_expiry_deletes", (
            f"expiry_date {format_date(expiry)} is past and expiry_date_deletion is on: "
            "Dailymotion would delete the video. Fix the date, set expiry_date_deletion to "
            "false, or pass --allow-past-expiry"))
    return None


def _expiry_after(typed: TypedRow, live: Mapping[str, Any]) -> Any:
    """The expiry_date the video will have after the row: the row's, else the live one."""
    change = typed.changes.get("expiry_date")
    value = change.value if isinstance(change, SetValue) else live.get("expiry_date")
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    return None if is_unset_date("expiry_date", value) else value


def plan_row(typed: TypedRow, live: Mapping[str, Any] | None,
             rules: PlanRules | None = None) -> RowPlan:
    """What a valid row changes on its video, whose live values are `live` (None: gone)."""
    if live is None:
        return RowPlan(typed.row, typed.video_id, RowStatus.NOT_FOUND)
    rules = rules or PlanRules()
    diffs: list[FieldDiff] = []
    problems: list[PlanProblem] = []
    for name, change in typed.changes.items():
        spec = FIELDS[name]
        old = live.get(name)
        new: Value | ClearValue
        if isinstance(old, UnknownValue):  # the API would not read it: send as asked
            if isinstance(change, PatchList):
                problems.append(PlanProblem(
                    name, "live_unknown", f"the API would not read {name}, so a +/- patch "
                    "has no list to work on; write the whole list"))
                continue
            new = CLEAR if isinstance(change, ClearValue) else change.value
            problems.append(PlanProblem(
                name, "live_unknown", f"{name}: live value unknown (the API would not read "
                "it); sent as asked, and no rollback sheet can restore it", Severity.WARNING))
            problem = _check_change(name, new, live, typed, rules)
            if problem is not None:
                problems.append(problem)
                continue
            diffs.append(FieldDiff(name, old, new))
            continue
        try:
            if spec.kind is Kind.COUNTRY_LIST and isinstance(change, PatchList):
                new, warning = _resolve_geoblocking(change, old)
                if warning is not None:
                    problems.append(PlanProblem(name, "who_may_watch", warning,
                                                Severity.WARNING))
            else:
                new = resolve(spec, change, old)
                if isinstance(change, PatchList) and (warning := _case_miss(change, old)):
                    problems.append(PlanProblem(name, "patch_case", warning, Severity.WARNING))
        except PatchRefused as refused:
            problems.append(PlanProblem(name, refused.code, str(refused)))
            continue
        # A write-only field (a password) reads back as nothing: it is always sent, or a
        # cleared password would look like no change and stay on the video.
        if spec.write_only or normal(spec, new) != normal(spec, old):
            problem = _check_change(name, new, live, typed, rules)
            if problem is not None:
                problems.append(problem)
                continue
            diffs.append(FieldDiff(name, old, new))
    if any(p.is_error for p in problems):
        return RowPlan(typed.row, typed.video_id, RowStatus.REFUSED, tuple(diffs),
                       problems=tuple(problems))
    if not diffs:
        return RowPlan(typed.row, typed.video_id, RowStatus.NOOP, problems=tuple(problems))
    form = edit_form({d.field: d.new for d in diffs})
    return RowPlan(typed.row, typed.video_id, RowStatus.CHANGE, tuple(diffs), form,
                   tuple(problems))


def drifted(fields: tuple[str, ...] | list[str], reviewed: Mapping[str, Any],
            now: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """(field, reviewed value, live value) for each field that changed since the review."""
    return [(name, reviewed.get(name), now.get(name)) for name in fields
            if not isinstance(now.get(name), UnknownValue)
            and not isinstance(reviewed.get(name), UnknownValue)
            and normal(FIELDS[name], reviewed.get(name)) != normal(FIELDS[name], now.get(name))]


# Changes the API gives no way to undo: it never returns a password, explicit=true is
# permanent, and some fields cannot be emptied once set.
_NOT_RESTORABLE = ("password", "explicit")


def rollback_cell(diff: FieldDiff) -> str | None:
    """The rollback sheet's cell that undoes `diff`, or None when nothing can."""
    spec = FIELDS[diff.field]
    if isinstance(diff.old, UnknownValue):
        return None  # never read: nothing to restore
    text = to_cell(spec, diff.old)
    if diff.field in _NOT_RESTORABLE or (text == CLEAR_MARK and not spec.clearable):
        return None
    return text


def not_restorable(plans: list[RowPlan]) -> list[tuple[str, str]]:
    """(video_id, field) of every change a rollback sheet could not undo."""
    return [(plan.video_id, diff.field) for plan in plans for diff in plan.diffs
            if rollback_cell(diff) is None]
