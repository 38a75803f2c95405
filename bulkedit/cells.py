"""The sheet grammar, one cell at a time (DESIGN.md §4). Pure: strings in, values out.

`parse_cell(spec, text, tz)` reads one non-blank, trimmed cell of a field column
and returns the `FieldChange` it asks for plus any problems. Every problem's
message says what is wrong and how to fix it; the caller adds row and column.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from functools import cache
from typing import Any

from bulkedit.schema import FieldSpec, ItemKind, Kind, country_codes, language_codes, suggest
from bulkedit.types import CLEAR, ClearValue, FieldChange, PatchList, SetValue, Severity

CLEAR_MARK = "[]"
TRUE_WORDS = frozenset({"true", "yes", "1", "y"})
FALSE_WORDS = frozenset({"false", "no", "0", "n"})

_XID = re.compile(r"x[0-9a-z]{2,20}")
_PRIVATE_ID = re.compile(r"k[0-9A-Za-z]{5,30}")
_URL_ID = re.compile(
    r"^(?:https?://)?(?:www\.|geo\.)?(?:dailymotion\.com/(?:embed/)?video/|dai\.ly/"
    r"|dailymotion\.com/player\.html\?video=|dailymotion\.com/player/[^?]*\?video=)"
    r"([0-9A-Za-z]+)", re.IGNORECASE)
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_QUOTED_COMMA = re.compile(r'"[^"]*,[^"]*"')
# C0 controls but tab, LF and CR, and DEL: invisible in Excel, refused by XML and often by APIs.
CONTROL_CHARS = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
_CONTROL = re.compile(CONTROL_CHARS)

# Unix seconds below this look like an Excel serial day number (1e5 days is the
# year 2173); above the upper bound they look like milliseconds.
_SMALLEST_UNIX_SECONDS = 100_000
_LARGEST_UNIX_SECONDS = 10**11


@dataclass(frozen=True, slots=True)
class CellProblem:
    code: str
    message: str
    severity: Severity = Severity.ERROR


Parsed = tuple[FieldChange | None, tuple[CellProblem, ...]]


def _fail(code: str, message: str) -> Parsed:
    return None, (CellProblem(code, message),)


def parse_video_id(text: str) -> tuple[str | None, CellProblem | None]:
    """A video id, or a Dailymotion video URL reduced to its id."""
    raw = text.strip()
    match = _URL_ID.match(raw)
    candidate = match.group(1) if match else raw
    if _XID.fullmatch(candidate):
        return candidate, None
    if _PRIVATE_ID.fullmatch(candidate) and candidate.startswith("k"):
        return None, CellProblem(
            "private_id",
            "this is a private id (k…), which the API cannot edit; use the video's public "
            "id (x…), shown in Dailymotion Studio")
    if _XID.fullmatch(candidate.lower()):
        return None, CellProblem(
            "bad_id", f"video ids are lower case; write {candidate.lower()}")
    return None, CellProblem(
        "bad_id", "not a video id; write the id (x followed by letters and digits, like "
                  "x8abc12) or the video's Dailymotion URL")


def parse_bool(text: str) -> bool | None:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def parse_date(text: str, tz: tzinfo) -> tuple[int | None, str | None]:
    """Unix seconds for an ISO 8601 date, an Excel date cell or unix seconds.

    Returns (seconds, None) or (None, reason). A date or time without an offset
    is read in `tz`.
    """
    raw = text.strip()
    number = raw[:-2] if raw.endswith(".0") else raw
    if number.isdigit() or (number[:1] in ("-", "+") and number[1:].isdigit()):
        seconds = int(number)
        if 0 <= seconds < _SMALLEST_UNIX_SECONDS:
            return None, ("looks like an Excel serial day number, not a date; format the cell "
                          "as a date, or write ISO 8601 like 2026-12-01T18:00")
        if abs(seconds) >= _LARGEST_UNIX_SECONDS:
            return None, ("looks like milliseconds; write unix seconds (10 digits) or ISO 8601 "
                          "like 2026-12-01T18:00")
        return seconds, None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None, ("not a date; write ISO 8601 like 2026-12-01 or 2026-12-01T18:00:00+01:00, "
                      "or unix seconds")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return int(moment.timestamp()), None


def format_date(seconds: int, tz: tzinfo = UTC) -> str:
    """ISO 8601 text for unix seconds, as reports and exports write dates."""
    return datetime.fromtimestamp(seconds, tz).isoformat()


def _parse_number(spec: FieldSpec, text: str) -> Parsed:
    try:
        number = float(text.replace(" ", ""))
    except ValueError:
        return _fail("type", "not a number; write digits with a dot as decimal separator")
    if not math.isfinite(number):
        return _fail("type", "not a finite number")
    if spec.integer and not number.is_integer():
        return _fail("type", "must be a whole number")
    if spec.minimum is not None and number < spec.minimum:
        return _fail("out_of_range", f"must be at least {spec.minimum:g}")
    if spec.maximum is not None and number > spec.maximum:
        return _fail("out_of_range", f"must be at most {spec.maximum:g}")
    return SetValue(int(number) if spec.integer else number), ()


def _parse_geo_point(text: str) -> Parsed:
    parts = [p.strip() for p in text.split(",")]
    try:
        lon, lat = (float(p) for p in parts) if len(parts) == 2 else (math.nan, math.nan)
    except ValueError:
        lon = lat = math.nan
    if math.isnan(lon) or math.isnan(lat):
        return _fail("type", "write longitude, latitude as two numbers, like -9.14, 38.71")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return _fail("out_of_range", "longitude must be -180..180 and latitude -90..90 "
                                     "(longitude comes first)")
    return SetValue((lon, lat)), ()


@cache
def _allowed_set(spec: FieldSpec) -> frozenset[str]:
    return frozenset(spec.allowed)


def _parse_enum(spec: FieldSpec, text: str) -> Parsed:
    word = text.lower()
    if word in _allowed_set(spec):
        if word in spec.doubtful:
            return SetValue(word), (CellProblem(
                "doubtful_value",
                f"'{word}' is on the edit page but not on Dailymotion's current list; the API "
                "may refuse it", Severity.WARNING),)
        return SetValue(word), ()
    hint = suggest(word, spec.allowed)
    did_you_mean = f"did you mean '{hint}'? " if hint else ""
    if len(spec.allowed) <= 20:
        return _fail("enum", f"not an allowed value; {did_you_mean}allowed: "
                             + ", ".join(spec.allowed))
    what = {"language": "an ISO 639 language code like en or fra",
            "country": "an ISO 3166-1 alpha-2 country code like fr or us"}.get(
                spec.name, "an allowed value")
    return _fail("enum", f"not {what}; {did_you_mean}".rstrip("; ").rstrip())


def _check_item(spec: FieldSpec, item: str) -> str | None:
    """Why a list item is wrong, or None."""
    if (char := control_character(item)) is not None:
        return f"item '{item[:30]}' contains an invisible control character (U+{ord(char):04X})"
    if spec.max_length is not None and len(item) > spec.max_length:
        return f"item '{item[:30]}…' is {len(item)} characters; the limit is {spec.max_length}"
    if spec.item_kind is ItemKind.LANGUAGE and item.lower() not in _language_set():
        hint = suggest(item, language_codes())
        return f"'{item}' is not an ISO 639 language code" + (f"; did you mean '{hint}'?"
                                                               if hint else "")
    if spec.item_kind is ItemKind.VIDEO_ID and not _XID.fullmatch(item):
        return f"'{item}' is not a video id like x8abc12"
    return None


@cache
def _language_set() -> frozenset[str]:
    return frozenset(language_codes())


@cache
def _country_set() -> frozenset[str]:
    return frozenset(country_codes())


def split_items(text: str) -> list[str]:
    """The items of a list cell: trimmed, empty ones dropped, each once, in order."""
    items: list[str] = []
    for part in text.split(","):
        item = part.strip()
        if item and item not in items:
            items.append(item)
    return items


def _split_patch(items: list[str]) -> tuple[list[str], list[str]] | None:
    """(add, remove) if every item is a +/- patch item, else None."""
    if not all(i[0] in "+-" for i in items):
        return None
    add = [i[1:].strip() for i in items if i[0] == "+"]
    remove = [i[1:].strip() for i in items if i[0] == "-"]
    return add, remove


def _parse_json_list(spec: FieldSpec, text: str) -> Parsed:
    """`["-80s", "rock"]`: the exact list, for items a plain cell cannot hold."""
    try:
        items = json.loads(text)
    except ValueError:
        items = None
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        return _fail("type", 'a cell in brackets is a JSON list of texts, like ["-80s", "rock"]')
    items = list(dict.fromkeys(i.strip() for i in items if i.strip()))
    if spec.max_items is not None and len(items) > spec.max_items:
        return _fail("too_many", f"{len(items)} items; {spec.name} takes at most "
                                 f"{spec.max_items}")
    for item in items:
        if "," in item:
            return _fail("comma_in_item", "an item cannot contain a comma: Dailymotion splits "
                                          "lists at every comma")
        if reason := _check_item(spec, item):
            return _fail("bad_item", reason)
    return SetValue(tuple(items)), ()


def _parse_list(spec: FieldSpec, text: str) -> Parsed:
    if text.startswith("[") and text.endswith("]"):
        return _parse_json_list(spec, text)
    if _QUOTED_COMMA.search(text):
        return _fail("comma_in_item", "an item cannot contain a comma: Dailymotion splits "
                                      "lists at every comma; remove the quotes or the comma")
    items = split_items(text)
    if spec.item_kind is not ItemKind.TEXT:
        items = [i.lower() if spec.item_kind is ItemKind.LANGUAGE else i for i in items]
    patch = _split_patch(items)
    mixed = patch is None and any(i[0] in "+-" for i in items)
    if mixed and spec.item_kind is ItemKind.TEXT:
        return _fail("mixed_patch", "mixes +/- patch items with plain items; start every item "
                                    "with + or - to patch the live list, or none to replace it")
    if patch is not None:
        if not spec.patchable:
            return _fail("patch_not_allowed", f"{spec.name} cannot be patched with +/-; write "
                                              "the whole list")
        add, remove = patch
        for item in (*add, *remove):
            if not item:
                return _fail("empty_item", "a + or - must be followed by an item")
            if reason := _check_item(spec, item):
                return _fail("bad_item", reason)
        return PatchList(tuple(add), tuple(remove)), ()
    if spec.max_items is not None and len(items) > spec.max_items:
        return _fail("too_many", f"{len(items)} items; {spec.name} takes at most "
                                 f"{spec.max_items}")
    for item in items:
        if reason := _check_item(spec, item):
            return _fail("bad_item", reason)
    return SetValue(tuple(items)), ()


def _country_problem(code: str) -> str:
    if code == "uk":
        return "'uk' is not an ISO 3166-1 code; the United Kingdom is gb"
    hint = suggest(code, country_codes())
    return (f"'{code}' is not an ISO 3166-1 alpha-2 country code"
            + (f"; did you mean '{hint}'?" if hint else ""))


def _parse_country_list(spec: FieldSpec, text: str) -> Parsed:
    items = [i.lower() for i in split_items(text)]
    patch = _split_patch(items)
    if patch is not None:
        add, remove = patch
        for code in (*add, *remove):
            if code in ("allow", "deny"):
                return _fail("geoblocking_mode", "allow/deny cannot be patched; write the whole "
                                                 "list, like deny, us, ca")
            if code not in _country_set():
                return _fail("bad_country", _country_problem(code) if code else
                             "a + or - must be followed by a country code")
        return PatchList(tuple(add), tuple(remove)), ()
    mode = "allow"
    if items and items[0] in ("allow", "deny"):
        mode, items = items[0], items[1:]
    for code in items:
        if code in ("allow", "deny"):
            return _fail("geoblocking_mode", f"'{code}' may only be the first item; write it "
                                             "once, before the country codes")
        if code not in _country_set():
            return _fail("bad_country", _country_problem(code))
    return SetValue((mode, *items)), ()


def control_character(text: str) -> str | None:
    """The first invisible control character in `text` (tab and newlines are fine)."""
    found = _CONTROL.search(text)
    return found.group(0) if found else None


def _control_problem(text: str) -> Parsed | None:
    char = control_character(text)
    if char is None:
        return None
    return _fail("control_char", f"contains an invisible control character (U+{ord(char):04X})"
                                 "; delete it (retype the cell if you cannot see it)")


def _parse_text(spec: FieldSpec, text: str) -> Parsed:
    if (problem := _control_problem(text)) is not None:
        return problem
    if spec.max_length is not None and len(text) > spec.max_length:
        return _fail("too_long", f"{len(text)} characters; {spec.name} takes at most "
                                 f"{spec.max_length}, shorten it by {len(text) - spec.max_length}")
    if spec.min_length is not None and len(text) < spec.min_length:
        return _fail("too_short", f"{spec.name} needs at least {spec.min_length} characters")
    return SetValue(text), ()


def _parse_url(spec: FieldSpec, text: str) -> Parsed:
    if not _URL.match(text) or len(text) > 2048:
        return _fail("bad_url", "not a web address; write a full URL starting with https://")
    return SetValue(text), ()


def _parse_bool_cell(spec: FieldSpec, text: str) -> Parsed:
    value = parse_bool(text)
    if value is None:
        return _fail("type", "not a yes/no value; write true or false (also yes/no, 1/0, y/n)")
    return SetValue(value), ()


def _parse_date_cell(spec: FieldSpec, text: str, tz: tzinfo) -> Parsed:
    seconds, reason = parse_date(text, tz)
    if seconds is None:
        return _fail("bad_date", reason or "not a date")
    return SetValue(seconds), ()


def _parse_video_id_cell(spec: FieldSpec, text: str) -> Parsed:
    video_id, problem = parse_video_id(text)
    return (SetValue(video_id), ()) if video_id else (None, (problem,) if problem else ())


_PARSERS: dict[Kind, Callable[[FieldSpec, str], Parsed]] = {
    Kind.TEXT: _parse_text,
    Kind.ENUM: _parse_enum,
    Kind.BOOL: _parse_bool_cell,
    Kind.LIST: _parse_list,
    Kind.COUNTRY_LIST: _parse_country_list,
    Kind.URL: _parse_url,
    Kind.NUMBER: _parse_number,
    Kind.GEO_POINT: lambda spec, text: _parse_geo_point(text),
    Kind.VIDEO_ID: _parse_video_id_cell,
}


def parse_cell(spec: FieldSpec, text: str, tz: tzinfo = UTC) -> Parsed:
    """What a non-blank cell asks to do to `spec`'s field."""
    text = text.strip()
    if text == CLEAR_MARK:
        if spec.clearable:
            return CLEAR, ()
        return _fail("not_clearable", f"{spec.name} cannot be cleared; leave the cell blank "
                                      "to keep the current value, or write a new one")
    if spec.kind is Kind.DATE:
        return _parse_date_cell(spec, text, tz)
    return _PARSERS[spec.kind](spec, text)


def _plain_list_safe(items: list[str]) -> bool:
    """Can these items be written comma-separated and read back the same?"""
    return all(i and i[0] not in "+-[" and i == i.strip() and '"' not in i for i in items)


def to_cell(spec: FieldSpec, value: Any, tz: tzinfo = UTC) -> str:
    """A live API value written in the sheet grammar, so that reading it back sets the same
    value: what rollback sheets, diff reports and exports contain. `[]` is an empty value."""
    kind = spec.kind
    if isinstance(value, ClearValue):
        value = None
    if kind is Kind.LIST:
        items = [str(i) for i in (value or [])]
        if not items:
            return CLEAR_MARK
        return ", ".join(items) if _plain_list_safe(items) else json.dumps(items,
                                                                           ensure_ascii=False)
    if kind is Kind.COUNTRY_LIST:
        items = [str(i).lower() for i in (value or [])]
        if not items or items in (["allow"], ["deny"]):
            return CLEAR_MARK
        return ", ".join(items)
    if value is None or value == "":
        return CLEAR_MARK
    if kind is Kind.BOOL:
        return "true" if value else "false"
    if kind is Kind.DATE:
        return format_date(int(value), tz)
    if kind is Kind.GEO_POINT:
        lon, lat = value
        return f"{float(lon)!r}, {float(lat)!r}"
    if kind is Kind.NUMBER:
        number = float(value)
        return str(int(number)) if number.is_integer() else repr(number)
    if kind is Kind.ENUM:
        return str(value).lower()
    return str(value)


# Excel safety (DESIGN.md §5): a CSV cell that Excel would evaluate as a formula is
# written with a leading apostrophe, which Excel shows as text. Reading a CSV
# removes exactly one such apostrophe, so load(write(values)) == values.
_CSV_RISKY = re.compile(r"^'*[=+\-@\t\r]")
_CSV_ESCAPED = re.compile(r"^'+[=+\-@\t\r]")
CSV_ESCAPED_PATTERN = r"^'('*[=+\-@\t\r])"  # the same rule, for Arrow's RE2


def csv_safe(value: str) -> str:
    """The text to write in a CSV cell so that Excel shows `value` as text."""
    return "'" + value if _CSV_RISKY.match(value) else value


def csv_unescape(value: str) -> str:
    """Undo `csv_safe`."""
    return value[1:] if _CSV_ESCAPED.match(value) else value


def date_cell_text(value: date | datetime) -> str:
    """How an Excel date cell becomes sheet text: ISO 8601 without an offset."""
    return value.isoformat()
