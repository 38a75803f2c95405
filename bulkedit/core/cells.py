"""The sheet grammar, one cell at a time (DESIGN.md §4). Pure: strings in, values out.

`parse_cell(spec, text, tz)` reads one non-blank, trimmed cell of a field column
and returns the `FieldChange` it asks for plus any problems. Every problem's
message says what is wrong and how to fix it; the caller adds row and column.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from functools import cache
from typing import Any

from bulkedit.core.charclasses import CONTROL_CHARS, EXCEL_ERROR, INVISIBLE_CHARS, SPACE_CHARS
from bulkedit.core.codes import country_hint, country_name, language_hint, language_name
from bulkedit.core.doubts import (
    escape_null,
    geo_cell,
    html_decoded,
    needs_json,
    never_in_item,
    null_marker,
    read_geo_point,
    read_number,
    separators_in,
    split_at_separators,
    unescape_null,
)
from bulkedit.core.schema import (
    MASK,
    FieldSpec,
    ItemKind,
    Kind,
    country_codes,
    language_codes,
    suggest,
)
from bulkedit.core.types import CLEAR, ClearValue, FieldChange, PatchList, SetValue, Severity

CLEAR_MARK = "[]"
# English, then what Excel writes (and people type) for TRUE/FALSE and yes/no in the
# languages it ships in most: fr, de, es, it, pt, nl, and the Nordic and central
# European ones. No word is true in one language and false in another (a test checks).
TRUE_WORDS = frozenset({
    "true", "yes", "1", "y",
    "vrai", "oui",  # fr
    "wahr", "ja",  # de (ja: also nl, sv, da, nb)
    "verdadero", "si", "sí",  # es
    "vero", "sì",  # it
    "verdadeiro", "sim",  # pt
    "waar",  # nl
    "sant", "sand", "sann", "tosi", "prawda", "pravda", "igaz", "doğru",  # sv da nb fi pl cs hu tr
})
FALSE_WORDS = frozenset({
    "false", "no", "0", "n",
    "faux", "non",  # fr
    "falsch", "nein",  # de
    "falso",  # es, it, pt
    "não", "nao",  # pt
    "onwaar", "nee",  # nl
    "falskt", "falsk", "usann", "epätosi", "fałsz", "nepravda", "hamis", "yanliş",
    "yanlış", "nej",  # sv da nb fi pl cs hu tr, sv/da no
})
BOOL_HINT = ("write true or false (also yes/no, 1/0, y/n, and Excel's words in other "
             "languages: VRAI/FAUX, WAHR/FALSCH, VERDADERO/FALSO, VERO/FALSO, "
             "VERDADEIRO/FALSO, WAAR/ONWAAR, oui/non, ja/nein, sí/no, sim/não, ja/nee)")

_XID = re.compile(r"x[0-9a-z]{2,20}")
_PRIVATE_ID = re.compile(r"k[0-9A-Za-z]{5,30}")
_URL_ID = re.compile(
    r"^(?:https?://)?(?:www\.|geo\.|m\.)?(?:dailymotion\.com/(?:embed/)?video/|dai\.ly/"
    r"|dailymotion\.com/player\.html\?video=|dailymotion\.com/player/[^?]*\?video=)"
    r"([0-9A-Za-z]+)", re.IGNORECASE)
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_QUOTED_COMMA = re.compile(r'"[^"]*,[^"]*"')
_CONTROL = re.compile(CONTROL_CHARS)

_INVISIBLE = re.compile(INVISIBLE_CHARS)
_SPACE = re.compile(SPACE_CHARS)
_INVISIBLE_EDGES = re.compile(f"^(?:\\s|{INVISIBLE_CHARS})+|(?:\\s|{INVISIBLE_CHARS})+$")

# Dates a video's metadata can plausibly hold: Dailymotion opened in 2005, and the API
# reads dates as 32-bit unix seconds, of which 2038-01-19T03:14:07Z is the last (a later
# expiry_date is the documented way to say "never expires").
PLAUSIBLE_FROM = 1_104_537_600  # 2005-01-01T00:00:00Z
PLAUSIBLE_UNTIL = 2_147_483_647  # 2038-01-19T03:14:07Z
# The documented resets: a publish_date before 1990, an expiry_date after 2038-01-19,
# mean "no date", like null.
PUBLISH_DATE_NONE_BEFORE = 631_152_000  # 1990-01-01T00:00:00Z


def is_unset_date(field_name: str, seconds: float) -> bool:
    """Does this live date mean "no date" (one of the documented reset values)?"""
    return ((field_name == "publish_date" and seconds < PUBLISH_DATE_NONE_BEFORE)
            or (field_name == "expiry_date" and seconds > PLAUSIBLE_UNTIL))
# Unix seconds are read only as 10 digits inside that window: 8 digits are YYYYMMDD,
# 5 or fewer an Excel serial day number, 13 milliseconds; anything else is refused.
_SMALLEST_UNIX_SECONDS = 1_000_000_000
# 01/12/2026, 1.12.2026, 01-12-26 (with an optional time): day or month first?
_DAY_MONTH = re.compile(r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{2}|\d{4})"
                        r"(?:[ T]+(\d{1,2}:\d{2}(?::\d{2})?))?$")
# 2026/12/01 and 2026.12.01: year first is read year-month-day in every locale.
_YEAR_FIRST = re.compile(r"^(\d{4})([/.])(\d{1,2})\2(\d{1,2})(?:[ T]+(\d{1,2}:\d{2}(?::\d{2})?))?$")
DATE_ORDERS = ("dmy", "mdy")


@dataclass(frozen=True, slots=True)
class CellProblem:
    code: str
    message: str
    severity: Severity = Severity.ERROR


Parsed = tuple[FieldChange | None, tuple[CellProblem, ...]]


def _fail(code: str, message: str) -> Parsed:
    return None, (CellProblem(code, message),)


def remove_invisible(text: str) -> tuple[str, str | None]:
    """`text` without invisible characters (a fixed space becomes a plain one), and a
    warning naming those removed (or None)."""
    found = _INVISIBLE.findall(text)
    if not found:
        return text, None
    names = ", ".join(describe_char(c) for c in dict.fromkeys(found))
    return _INVISIBLE.sub("", _SPACE.sub(" ", text)), f"removed invisible {names}"


def trim_invisible(text: str) -> tuple[str, str | None]:
    """Free text without invisible characters at its ends (inside, they may be meant),
    and a warning naming those removed."""
    removed = [c for edge in _INVISIBLE_EDGES.findall(text) for c in _INVISIBLE.findall(edge)]
    if not removed:
        return text, None
    names = ", ".join(describe_char(c) for c in dict.fromkeys(removed))
    return _INVISIBLE_EDGES.sub("", text), f"removed invisible {names} at the ends"


def describe_char(char: str) -> str:
    """`U+200B ZERO WIDTH SPACE`: a character a person cannot see, named."""
    return f"U+{ord(char):04X} {unicodedata.name(char, 'CONTROL CHARACTER')}"


def _invisible_warning(removed: str) -> CellProblem:
    return CellProblem("invisible_char", removed + " (pasted from a web page or another "
                       "program, it would make the value differ from what you see)",
                       Severity.WARNING)


def parse_video_id(text: str) -> tuple[str | None, CellProblem | None]:
    """A video id, or a Dailymotion video URL reduced to its id."""
    raw, removed = remove_invisible(text.strip())
    raw = raw.strip()
    match = _URL_ID.match(raw)
    candidate = match.group(1) if match else raw
    if _XID.fullmatch(candidate):
        return candidate, _invisible_warning(removed) if removed else None
    if _PRIVATE_ID.fullmatch(candidate):
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


_ISO_HINT = "write ISO 8601 like 2026-12-01 or 2026-12-01T18:00:00+01:00"


def _clock_time(text: str | None) -> str:
    if not text:
        return ""
    hours, rest = text.split(":", 1)
    return f"T{int(hours):02d}:{rest}"


def _day_month(match: re.Match[str], order: str | None) -> tuple[str | None, str | None]:
    """ISO text for a day-first or month-first date, or (None, reason)."""
    first, _, second, year, clock = match.groups()
    if len(year) == 2:
        return None, f"the year has two digits; {_ISO_HINT}"
    readings = {"dmy": (int(second), int(first)), "mdy": (int(first), int(second))}
    valid = {name: f"{year}-{month:02d}-{day:02d}" for name, (month, day) in readings.items()
             if _is_date(int(year), month, day)}
    if order is not None:
        if order not in valid:
            return None, f"not a date in {order} order; {_ISO_HINT}"
        return valid[order] + _clock_time(clock), None
    if not valid:
        return None, f"not a date; {_ISO_HINT}"
    if len(valid) == 2 and len(set(valid.values())) == 1:  # 05/05/2026: both orders agree
        return next(iter(valid.values())) + _clock_time(clock), None
    words = {"dmy": "day first", "mdy": "month first"}
    if len(valid) == 1:
        # 13/04/2031 is a date one way only, but a sheet that writes it so may hold
        # 12/04/2031 on the next row: the order is the sheet's to say, not this cell's.
        (name, iso), = valid.items()
        iso += _clock_time(clock)
        return None, (f"reads as a date only {words[name]} ({iso}); write {iso}, or pass "
                      f"--date-order {name} to read every such date {words[name]}")
    options = " or ".join(f"{iso}{_clock_time(clock)} ({words[name]})"
                          for name, iso in valid.items())
    return None, (f"day and month could be either way round; write {options}, or pass "
                  "--date-order dmy (or mdy) to read every such date one way")


def _yyyymmddhh(number: str) -> str | None:
    """`2026120118` read as a date and hour, or None when it is not one."""
    year, month, day, hour = (int(number[i:j]) for i, j in ((0, 4), (4, 6), (6, 8), (8, 10)))
    if 2005 <= year <= 2038 and _is_date(year, month, day) and hour < 24:
        return f"{year}-{month:02d}-{day:02d}T{hour:02d}:00"
    return None


def _is_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


# The offset at the end of a date and time Python read: ±HH:MM, ±HHMM, with seconds and a
# fraction (. or ,) or not. Only called when Python found an offset, so a date's own
# hyphens (2026-12-01, 2026-W01-1) never end the text with one.
_OFFSET_TAIL = re.compile(r"[+-]\d{2}:?(\d{2})(?::?(\d{2})(?:[.,]\d+)?)?$")


def _bad_offset(iso: str) -> str | None:
    """Why the offset of a date Python read is not one, or None.

    `datetime.fromisoformat` carries 60 minutes over into the hour: `+05:60` becomes
    `+06:00`, an hour the user did not write.
    """
    found = _OFFSET_TAIL.search(iso)
    if found is None or all(int(part) < 60 for part in found.groups() if part):
        return None
    return (f"the offset {found.group()} is not a time zone offset: its minutes (and "
            "seconds) go from 00 to 59; write it as +HH:MM, like +05:30")


def parse_date(text: str, tz: tzinfo, order: str | None = None
               ) -> tuple[int | None, str | None]:
    """Unix seconds for an ISO 8601 date, an Excel date cell, YYYYMMDD or unix seconds.

    Returns (seconds, None) or (None, reason). A date or time without an offset is read
    in `tz`. Numbers are read only where they cannot mean anything else: 8 digits are
    YYYYMMDD, 10 digits unix seconds. Day-first and month-first forms are refused as
    ambiguous unless `order` ("dmy" or "mdy") says which they are.
    """
    raw = text.strip()
    number = raw[:-2] if raw.endswith(".0") else raw
    if number.isascii() and number.isdigit():  # not ², ①: str.isdigit() takes those
        if len(number) == 8:
            year, month, day = int(number[:4]), int(number[4:6]), int(number[6:])
            if not _is_date(year, month, day):
                return None, (f"8 digits are read as a date YYYYMMDD, and {number} is not "
                              f"one; {_ISO_HINT}")
            raw = f"{number[:4]}-{number[4:6]}-{number[6:]}"
        elif len(number) == 10 and int(number) >= _SMALLEST_UNIX_SECONDS:
            hourly = _yyyymmddhh(number)
            # A YYYYMMDDHH reading has a year of 2005-2038, and 2005000000-2038999999 as
            # unix seconds fall in 2033-2034: both readings are dates a video can hold.
            if hourly is not None:
                return None, (f"could be unix seconds ({format_date(int(number))}) or the "
                              f"date and hour YYYYMMDDHH ({hourly}); {_ISO_HINT}")
            return int(number), None
        elif len(number) <= 5:
            return None, ("looks like an Excel serial day number, not a date; format the cell "
                          f"as a date, or {_ISO_HINT}")
        elif len(number) in (12, 13, 14):
            return None, f"looks like milliseconds; write unix seconds (10 digits), or {_ISO_HINT}"
        else:
            return None, f"a number that is not a date; {_ISO_HINT}"
    elif (match := _DAY_MONTH.match(raw)) is not None:
        iso, reason = _day_month(match, order)
        if iso is None:
            return None, reason
        raw = iso
    elif (match := _YEAR_FIRST.match(raw)) is not None:
        first_year, _, month_text, day_text, clock = match.groups()
        raw = f"{first_year}-{int(month_text):02d}-{int(day_text):02d}{_clock_time(clock)}"
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None, f"not a date; {_ISO_HINT}, or unix seconds"
    if moment.tzinfo is not None and (reason := _bad_offset(raw)) is not None:
        return None, reason
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
        early, late = moment.replace(fold=0), moment.replace(fold=1)
        if early.utcoffset() != late.utcoffset():
            # A clock change: the time happens twice, or not at all, in that zone.
            shifted = datetime.fromtimestamp(early.timestamp(), tz).replace(tzinfo=None)
            what = "does not exist" if shifted != moment.replace(tzinfo=None) else "happens twice"
            return None, (f"{raw.replace('T', ' ')} {what} in {tz} (the clocks change); write "
                          "the offset, like 2026-10-25T02:30:00+01:00")
    return int(moment.timestamp()), None


def date_problems(spec: FieldSpec, seconds: int, now: float,
                  allow_past_expiry: bool = False) -> tuple[CellProblem, ...]:
    """What is wrong or worth a word about a date a cell sets (cells.parse_date's result).
    `allow_past_expiry`: the user passed --allow-past-expiry, so the warning says what
    will happen rather than what would be refused."""
    if not PLAUSIBLE_FROM <= seconds <= PLAUSIBLE_UNTIL:
        shown = format_date(seconds) if -62135596800 <= seconds < 253402300800 else str(seconds)
        return (CellProblem("implausible_date", f"reads as {shown}, outside the dates a video "
                            "can hold (2005-01-01 to 2038-01-19); check the year, or write [] "
                            "to remove the date"),)
    if spec.name in ("publish_date", "expiry_date") and seconds < now:
        deleted = ("the video expires at once, and is deleted where expiry_date_deletion "
                   "is on (the default)")
        effect = ("the video is published at once" if spec.name == "publish_date" else
                  f"{deleted}: with --allow-past-expiry, plan and apply will send it"
                  if allow_past_expiry else
                  f"{deleted}: plan and apply refuse that without --allow-past-expiry")
        return (CellProblem("past_date", f"{format_date(seconds)} is in the past: {effect}",
                            Severity.WARNING),)
    return ()


def zone_named(name: str, option: str = "--timezone") -> tzinfo:
    """The time zone dates without an offset are read in; UsageError for an unknown name."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from bulkedit.core.errors import UsageError

    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"{option} {name}: unknown time zone; use an IANA name like "
                         "Europe/Paris or UTC") from None


def format_date(seconds: int, tz: tzinfo = UTC) -> str:
    """ISO 8601 text for unix seconds, as reports and exports write dates."""
    return datetime.fromtimestamp(seconds, tz).isoformat()


def _parse_number(spec: FieldSpec, text: str, decimal_separator: str | None = None) -> Parsed:
    reading = read_number(text, decimal_separator)
    if reading.value is None:
        return _fail(reading.code, reading.reason)
    number = reading.value
    if not math.isfinite(number):
        return _fail("type", "not a finite number")
    if spec.integer and not number.is_integer():
        read_as = f" (read as {number:g}, with a decimal comma)" if reading.decimal_comma else ""
        return _fail("type", f"must be a whole number{read_as}")
    if spec.minimum is not None and number < spec.minimum:
        return _fail("out_of_range", f"must be at least {spec.minimum:g}")
    if spec.maximum is not None and number > spec.maximum:
        return _fail("out_of_range", f"must be at most {spec.maximum:g}")
    return SetValue(int(number) if spec.integer else number), ()


def _parse_geo_point(text: str, decimal_separator: str | None = None) -> Parsed:
    point, code, reason = read_geo_point(text, decimal_separator)
    return (SetValue(point), ()) if point is not None else _fail(code, reason)


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
    if spec.name in ("language", "country"):
        return _fail("enum", _code_problem(spec.name, text))
    hint = suggest(word, spec.allowed)
    did_you_mean = f"did you mean '{hint}'? " if hint else ""
    if len(spec.allowed) <= 20:
        return _fail("enum", f"not an allowed value; {did_you_mean}allowed: "
                             + ", ".join(spec.allowed))
    return _fail("enum", f"not an allowed value; {did_you_mean}".rstrip("; ").rstrip())


def _code_problem(kind: str, word: str) -> str:
    """Why `word` is not a language (or country) code, with the code it stands for."""
    if kind == "language":
        hint = language_hint(word, _language_set())
        what, named = "an ISO 639 language code like en or fra", language_name
    else:
        hint = country_hint(word, _country_set())
        what, named = "an ISO 3166-1 alpha-2 country code like fr or us", country_name
    shown = word if len(word) <= 40 else word[:40] + "…"
    return (f"'{shown}' is not {what}"
            + (f"; did you mean '{hint}' ({named(hint)})?" if hint else ""))


def _check_item(spec: FieldSpec, item: str) -> str | None:
    """Why a list item is wrong, or None."""
    if (char := control_character(item)) is not None:
        return f"item '{item[:30]}' contains an invisible control character (U+{ord(char):04X})"
    if spec.max_length is not None and len(item) > spec.max_length:
        return f"item '{item[:30]}…' is {len(item)} characters; the limit is {spec.max_length}"
    if spec.item_kind is ItemKind.LANGUAGE and item.lower() not in _language_set():
        return _code_problem("language", item)
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


def _trim_invisible(items: list[str]) -> tuple[list[str], CellProblem | None]:
    """List items without invisible characters at their ends (inside, an emoji's zero-width
    joiner is meant), and a warning naming what was removed. The caller reads the items
    again as a cell, which drops those left empty and those now repeated."""
    removed = [c for item in items for edge in _INVISIBLE_EDGES.findall(item)
               for c in _INVISIBLE.findall(edge)]
    if not removed:
        return items, None
    names = ", ".join(describe_char(c) for c in dict.fromkeys(removed))
    return ([_INVISIBLE_EDGES.sub("", item) for item in items],
            _invisible_warning(f"removed invisible {names} around items"))


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
    if items and not any(i.strip() for i in items):
        return _fail("only_separators", _ONLY_SEPARATORS)
    items = list(dict.fromkeys(i.strip() for i in items if i.strip()))
    if spec.max_items is not None and len(items) > spec.max_items:
        return _fail("too_many", f"{len(items)} items; {spec.name} takes at most "
                                 f"{spec.max_items}")
    for item in items:
        if "," in item:
            return _fail("comma_in_item", "an item cannot contain a comma: Dailymotion splits "
                                          "lists at every comma")
        if never_in_item(item):
            return _fail("separator_in_item", f"the item {json.dumps(item[:60])} holds a ; | tab "
                                              "or line break, which other programs put between "
                                              "items; write each item on its own")
        if reason := _check_item(spec, item):
            return _fail("bad_item", reason)
    return SetValue(tuple(items)), ()


_ONLY_SEPARATORS = ("the cell holds separators but no item; leave it blank to keep the "
                    "list as it is, or write [] to clear it")


def _parse_any_list(spec: FieldSpec, text: str, split_lists: bool = False) -> Parsed:
    """A list cell, with other separators than the comma (`a; b`, one per line, `#a #b`)
    refused with the split shown, or split at them when the user asked (--split-lists)."""
    parse = _parse_list if spec.kind is Kind.LIST else _parse_country_list
    if spec.kind is Kind.LIST and text.startswith("[") and text.endswith("]"):
        return parse(spec, text)
    found = [s.name for s in separators_in(text)]
    split = split_at_separators(text)
    if spec.kind is Kind.COUNTRY_LIST and (spaced := _spaced_codes(split)) != split:
        found.append("spaces (fr us)")
        split = spaced
    items = split_items(split)
    if not items:
        return _fail("only_separators", _ONLY_SEPARATORS)
    if not found or split_lists:
        return parse(spec, split)
    fixed = ", ".join(items)
    fixed = fixed if len(fixed) <= 120 else fixed[:120] + "…"
    message = (f"the items are separated by {' and '.join(found)}, but {spec.name} takes "
               f'commas: use "{fixed}" (commas), or pass --split-lists to split such cells')
    if spec.kind is Kind.LIST and not never_in_item(text):
        message += f"; if it is one item, write it as {json.dumps([text], ensure_ascii=False)}"
    return _fail("list_separator", message)


def _spaced_codes(text: str) -> str:
    """`fr us ca` (codes separated by spaces) as `fr, us, ca`; other text as it is."""
    items = []
    for item in text.split(","):
        words = item.lower().split()
        if len(words) > 1 and all(w in _country_set() or w in ("allow", "deny")
                                  for w in words):
            item = ", ".join(words)
        items.append(item)
    return ",".join(items)


def _parse_list(spec: FieldSpec, text: str) -> Parsed:
    if text.startswith("[") and text.endswith("]"):
        return _parse_json_list(spec, text)
    if _QUOTED_COMMA.search(text):
        return _fail("comma_in_item", "an item cannot contain a comma: Dailymotion splits "
                                      "lists at every comma; remove the quotes or the comma")
    items, trimmed = _trim_invisible(split_items(text))
    if trimmed is not None:
        change, problems = _parse_list(spec, ", ".join(items))
        return change, (trimmed, *problems)
    if spec.item_kind is not ItemKind.TEXT:
        items = [i.lower() if spec.item_kind is ItemKind.LANGUAGE else i for i in items]
    for item in items:
        if (who := null_marker(item)) is not None:
            return _fail("null_marker", (
                f"the item {item} is a null marker (what {who} put for a missing value); "
                "remove it, or write the list as JSON, like "
                f"{json.dumps(items[:3], ensure_ascii=False)}, to send it as an item"))
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
    if re.search(r"\s[+\-]", code):
        return f"'{code}' holds several items; separate them with commas, like +us, +ca"
    if code == "uk":
        return "'uk' is not an ISO 3166-1 code; the United Kingdom is gb"
    if len(words := code.split()) > 1 and all(w.lstrip("+-") in _country_set() for w in words):
        return (f"'{code}' holds several country codes; separate them with commas, like "
                + ", ".join(words))
    return _code_problem("country", code)


_GEO_MODE_PATCH = re.compile(r"^(allow|deny)\s*:?\s*(?=[+\-])")


def _parse_country_list(spec: FieldSpec, text: str) -> Parsed:
    """`deny, us, ca` (the whole list), `+us, -fr` (a patch whose meaning the live list's
    mode decides) or `deny +us, -fr` (a patch of the named list)."""
    lowered = text.lower().strip()
    mode_patch = _GEO_MODE_PATCH.match(lowered)
    patch_mode = mode_patch.group(1) if mode_patch else None
    if mode_patch:
        lowered = lowered[mode_patch.end():]
    items = split_items(lowered)
    if patch_mode is None and len(items) > 1 and items[0] in ("allow", "deny") and all(
            i[0] in "+-" for i in items[1:]):
        patch_mode, items = items[0], items[1:]  # `deny, +us`: the same as `deny +us`
    patch = _split_patch(items)
    if patch_mode is not None and patch is None:
        return _fail("mixed_patch", f"after '{patch_mode}', start every country with + or - "
                                    f"to patch the {patch_mode} list (like {patch_mode} +us, "
                                    "-fr), or write the whole list without +/-")
    if patch is not None:
        add, remove = patch
        for code in (*add, *remove):
            if code in ("allow", "deny"):
                return _fail("geoblocking_mode", "allow/deny cannot be patched; write the whole "
                                                 "list, like deny, us, ca, or name the list you "
                                                 "patch first, like deny +us")
            if code not in _country_set():
                return _fail("bad_country", _country_problem(code) if code else
                             "a + or - must be followed by a country code")
        return PatchList(tuple(add), tuple(remove), patch_mode), ()
    if any(i[0] in "+-" for i in items):
        return _fail("mixed_patch", "mixes +/- patch items with plain items; start every "
                                    "country with + or - to patch the live list, or none to "
                                    "replace it")
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
        return _fail("type", f"not a yes/no value; {BOOL_HINT}")
    return SetValue(value), ()


def _parse_date_cell(spec: FieldSpec, text: str, tz: tzinfo, order: str | None) -> Parsed:
    seconds, reason = parse_date(text, tz, order)
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
    Kind.URL: _parse_url,
    Kind.VIDEO_ID: _parse_video_id_cell,
}


def is_free_text(spec: FieldSpec) -> bool:
    """Text a person writes (titles, tags), where invisible characters may be meant."""
    return spec.kind is Kind.TEXT or (spec.kind is Kind.LIST and spec.item_kind is ItemKind.TEXT)


def _null_problem(spec: FieldSpec, text: str, who: str) -> CellProblem:
    keep = ("leave the cell blank to keep the value, or write [] to clear it" if spec.clearable
            else f"leave the cell blank to keep the value ({spec.name} cannot be cleared)")
    message = (f"{text} is a null marker (what {who} put for a missing value), so the value "
               f"the cell stands for is unknown; {keep}")
    if spec.kind in (Kind.TEXT, Kind.LIST) or text.lower() in _allowed_set(spec):
        message += (f". To send the text {text} itself, write '{text} (with an apostrophe; "
                    f"in Excel, type two: ''{text})")
    return CellProblem("null_marker", message)


def parse_cell(spec: FieldSpec, text: str, tz: tzinfo = UTC,
               date_order: str | None = None, *, decimal_separator: str | None = None,
               split_lists: bool = False) -> Parsed:
    """What a non-blank cell asks to do to `spec`'s field.

    `decimal_separator` ("." or ",") decides numbers a locale reads two ways (`12.000`),
    which are refused without it; `split_lists` splits a list cell at another separator
    than the comma (`a; b`), which is refused without it."""
    text = text.strip()
    warnings: tuple[CellProblem, ...] = ()
    text, removed = (trim_invisible if is_free_text(spec) else remove_invisible)(text)
    if removed:
        text = text.strip()
        warnings = (_invisible_warning(removed),)
        if not text:  # nothing visible: blank, "keep", as the user sees it
            return None, warnings
    if spec.sensitive and text == MASK:
        return _fail("masked_secret", f"*** is how bulkedit masks a {spec.name} in its "
                                      "results and reports, not a value to send; write the "
                                      f"{spec.name} itself, or leave the cell blank to keep it")
    if (forced := unescape_null(text)) is not None:  # 'None: the text None
        if spec.kind is Kind.LIST:
            change, problems = _parse_json_list(spec, json.dumps([forced]))
            return change, warnings + problems
        text = forced
    elif (who := null_marker(text)) is not None:
        return None, (*warnings, _null_problem(spec, text, who))
    if is_free_text(spec) and (decoded := html_decoded(text)) is not None:
        return _fail("html_entity", (
            f"holds HTML character references (like &amp;), what a web export keeps of a "
            f"character: it would be sent as those letters. Write the text as it should "
            f"read: {decoded}"))
    if text == CLEAR_MARK:
        if spec.clearable:
            return CLEAR, warnings
        return _fail("not_clearable", f"{spec.name} cannot be cleared; leave the cell blank "
                                      "to keep the current value, or write a new one")
    if spec.kind is Kind.DATE:
        change, problems = _parse_date_cell(spec, text, tz, date_order)
    elif spec.kind in (Kind.LIST, Kind.COUNTRY_LIST):
        change, problems = _parse_any_list(spec, text, split_lists)
    elif spec.kind is Kind.NUMBER:
        change, problems = _parse_number(spec, text, decimal_separator)
    elif spec.kind is Kind.GEO_POINT:
        change, problems = _parse_geo_point(text, decimal_separator)
    else:
        change, problems = _PARSERS[spec.kind](spec, text)
    return change, warnings + problems


def _plain_list_safe(items: list[str]) -> bool:
    """Can these items be written comma-separated and read back the same? (A live item
    with a comma in it would come back as two: JSON keeps it one, and reading it back is
    refused, as the API would split it, rather than taken as two items.)"""
    return all(i and i[0] not in "+-[" and i == i.strip() and '"' not in i and "," not in i
               and not needs_json(i) for i in items)


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
        if len(items) == 1 and null_marker(items[0]) is not None:
            return escape_null(items[0])
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
        seconds = int(value)
        return CLEAR_MARK if is_unset_date(spec.name, seconds) else format_date(seconds, tz)
    if kind is Kind.GEO_POINT:
        lon, lat = value
        return geo_cell(float(lon), float(lat))  # with hemisphere letters: either order reads
    if kind is Kind.NUMBER:
        number = float(value)
        return str(int(number)) if number.is_integer() else repr(number)
    if kind is Kind.ENUM:
        return escape_null(str(value).lower())
    return escape_null(str(value))


# A whole CSV cell that is an error (what Excel writes for a failed formula), for RE2.
EXCEL_ERROR_CELL = r"(?i)^\s*" + EXCEL_ERROR + r"\s*$"
_ERROR_CAUSES = {
    **dict.fromkeys(("#N/A", "#NV", "#N/D", "#N/B"),
                    "a lookup such as VLOOKUP or XLOOKUP found no match"),
    "#REF!": "a formula refers to a cell or sheet that was deleted",
    "#VALUE!": "a formula got a value of the wrong type",
    "#DIV/0!": "a formula divides by zero or by an empty cell",
    "#NAME?": "a formula uses a function or name that does not exist",
    "#NUM!": "a formula's number is invalid",
    "#NULL!": "a formula's ranges do not meet",
    "#SPILL!": "a formula's results are blocked by other cells",
}


def excel_error_problem(text: str, formula: str = "", *, csv: bool = False) -> CellProblem:
    """The problem of a cell that holds a spreadsheet error instead of a value. In a CSV
    a leading apostrophe is the user's own text, so there the way to send the error's
    text is Excel's text formula ="…", which the CSV reader reads as its text."""
    error = text.strip()
    cause = _ERROR_CAUSES.get(error.upper(), "a formula failed")
    if formula:
        cause = f"the formula ={formula} failed: {cause}"
        if re.fullmatch(r"[+\-]\s*[\w#][\w\s#.-]*", formula):
            return CellProblem("excel_error", (
                f"the cell holds the spreadsheet error {error}: Excel read what you typed, "
                f"{formula}, as a formula. Type it with an apostrophe first ('{formula}) so "
                "Excel keeps it as text"))
    how = (f'write ="{error}" (Excel\'s text formula)' if csv
           else f"write '{error} (with an apostrophe)")
    return CellProblem("excel_error", (
        f"the cell holds the spreadsheet error {error} ({cause}), so the value it stood for is "
        f"unknown; fix the formula or type the value. To send the text {error} itself, {how}"))


# Excel safety (DESIGN.md §5): a CSV cell that Excel would evaluate as a formula (or read
# as an error value) is written with a leading apostrophe, which Excel shows as text.
# Reading a CSV removes exactly one such apostrophe, so load(write(values)) == values.
_CSV_RISKY = re.compile(r"^'*(?:[=+\-@\t\r]|" + EXCEL_ERROR + r"$)", re.IGNORECASE)
_CSV_ESCAPED = re.compile(r"^'+(?:[=+\-@\t\r]|" + EXCEL_ERROR + r"$)", re.IGNORECASE)
# The same rule, for Arrow's RE2.
CSV_ESCAPED_PATTERN = r"(?i)^'('*(?:[=+\-@\t\r]|" + EXCEL_ERROR + r"$))"


def csv_safe(value: str) -> str:
    """The text to write in a CSV cell so that Excel shows `value` as text."""
    return "'" + value if _CSV_RISKY.match(value) else value


def csv_unescape(value: str) -> str:
    """Undo `csv_safe`."""
    return value[1:] if _CSV_ESCAPED.match(value) else value


def date_cell_text(value: date | datetime) -> str:
    """How an Excel date cell becomes sheet text: ISO 8601 without an offset."""
    return value.isoformat()
