"""The frozen data that flows between stages (DESIGN.md §3).

Sheets themselves live in sheet.py (`Sheet`, `Column`) because they carry Arrow
arrays; everything here is plain Python so pure modules can use it freely.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeAlias

# A typed field value, as the validator produces it and the protocol sends it:
# text/enum/url/id -> str, bool -> bool, date -> int (unix seconds, UTC),
# number -> int | float, list -> tuple[str, ...], geo point -> tuple[float, float].
Value: TypeAlias = str | bool | int | float | tuple[str, ...] | tuple[float, float]


@dataclass(frozen=True, slots=True)
class SetValue:
    """Set the field to this value."""

    value: Value


@dataclass(frozen=True, slots=True)
class ClearValue:
    """Clear the field (the cell said `[]`)."""


CLEAR = ClearValue()


class UnknownValue:
    """A live value the API would not read (a 400 naming the field in `fields=`): the
    plan sends what the sheet asks, warns, and no rollback can restore it."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = UnknownValue()


@dataclass(frozen=True, slots=True)
class PatchList:
    """Add and remove items against the live list (the cell said `+a, -b`).

    `mode` is for geoblocking: "deny" or "allow" when the cell names the list it patches
    (`deny +us`), None when it does not (plain `+us`, whose meaning depends on the live
    list's mode and is checked against it when planning).
    """

    add: tuple[str, ...]
    remove: tuple[str, ...]
    mode: str | None = None


FieldChange: TypeAlias = SetValue | ClearValue | PatchList


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem in a sheet: where it is, what it is, how to fix it.

    `row` is the row number Excel shows (the header is row 1 when it is the first
    row); `column` is the header as the user wrote it ("" for whole-row problems).
    `code` is stable and meant for machines; `message` is for people and ends
    with the fix.
    """

    row: int
    column: str
    value: str
    code: str
    message: str
    severity: Severity = Severity.ERROR

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


@dataclass(frozen=True, slots=True)
class TypedRow:
    """A valid row: which video, and what to do to each field the row touches."""

    row: int
    video_id: str
    changes: dict[str, FieldChange]
