"""Cells another program or another locale could mean two ways (issue 25). Pure.

Each reader here either finds the one meaning a cell has or says, with both readings,
why it refuses: the sheet grammar (cells.py) calls them, and validation.py finds the
cells that need them with the Arrow patterns defined beside them.

- Null markers: what a program writes for "no value" (`NULL`, `\\N`, `NaN`, `None`…).
- List separators other than the comma: `a; b`, `a|b`, one per line, `a / b`, `#a #b`.
- Numbers whose separators a locale reads two ways: `12.000`, `1,500`.
- Coordinates valid in both orders: `2.35, 48.85`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# ----------------------------------------------------------------------------- null markers

# A whole cell that is exactly one of these is what a program wrote for "no value", in
# any case, whoever wrote it. `#NULL!` and `#N/A` are spreadsheet errors (charclasses).
NULL_MARKERS: dict[str, str] = {
    "null": "SQL tools and JSON",
    "\\n": "MySQL and PostgreSQL exports",
    "(null)": "C programs and database clients",
    "<null>": "database clients",
    "[null]": "DBeaver",
    "nan": "pandas and numpy",
    "none": "Python",
    "nat": "pandas",
    "<na>": "pandas",
    "n/a": "reports and people",
    "undefined": "JavaScript",
    "<nil>": "Go",
}
# Markers in this exact case only: R writes NA, while na is Namibia (and Nauru's language).
CASED_NULL_MARKERS: dict[str, str] = {"NA": "R"}

_MARKER_WORDS = "|".join(re.escape(m) for m in NULL_MARKERS)
_CASED_WORDS = "|".join(re.escape(m) for m in CASED_NULL_MARKERS)
# For Arrow's RE2: a cell that is a marker, with apostrophes before it or not (`'None` is
# the text None, see `unescape_null`).
NULL_MARKER_CELL = (rf"^\s*'*(?i:{_MARKER_WORDS})\s*$|^\s*'*(?:{_CASED_WORDS})\s*$")
# ...and a list item that is one (`a, NaN, b`: a list joined from values, one missing).
NULL_MARKER_ITEM = (rf"(?:^|,)\s*'*(?:(?i:{_MARKER_WORDS})|{_CASED_WORDS})\s*(?:,|$)")
_ESCAPED_NULL = re.compile(rf"^'+(?:(?i:{_MARKER_WORDS})|{_CASED_WORDS})$")


# An HTML character reference (&amp;, &#39;, &eacute;) is what a CMS export keeps of a
# character: in a title it stands for the character, never for its five letters.
HTML_ENTITY = r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});"
_HTML_ENTITY = re.compile(HTML_ENTITY)


def html_decoded(text: str) -> str | None:
    """The text a cell written with HTML character references stands for, or None when it
    holds none that HTML knows."""
    import html

    if _HTML_ENTITY.search(text) is None:
        return None
    decoded = html.unescape(text)
    return decoded if decoded != text else None


def null_marker(text: str) -> str | None:
    """Who writes `text` (stripped) for "no value", or None when it is not a null marker."""
    return CASED_NULL_MARKERS.get(text) or NULL_MARKERS.get(text.lower())


def unescape_null(text: str) -> str | None:
    """`'None` is the text None, sent as written: one apostrophe removed (the convention
    that makes '#N/A the text #N/A); None when `text` is not such a cell."""
    return text[1:] if _ESCAPED_NULL.match(text) else None


def escape_null(text: str) -> str:
    """The cell that reads back as `text` when `text` looks like a null marker."""
    return "'" + text if _ESCAPED_NULL.match("'" + text) else text


# ----------------------------------------------------------------------------- list separators

@dataclass(frozen=True, slots=True)
class Separator:
    name: str
    pattern: str  # Python re, also read by RE2
    in_items: bool  # may an item hold it (written as a JSON list)?


# What exporters and people put between list items instead of a comma. `AC/DC` (no
# space) and `#1 hit` (one hashtag) are single items; `a / b` and `#a #b` are two.
SEPARATORS: tuple[Separator, ...] = (
    Separator("semicolons (;)", r"[;\uff1b]", False),
    Separator("vertical bars (|)", r"[|\uff5c]", False),
    Separator("line breaks", r"\r\n|[\r\n\u2028\u2029]", False),
    Separator("tabs", r"\t", False),
    Separator("slashes with spaces ( / )", r"[ \t]+/[ \t]*|[ \t]*/[ \t]+", True),
    Separator("other scripts' commas (，、،)", r"[\uff0c\u3001\u060c]", True),
    Separator("spaces (#a #b)", r"(?P<tag>#[^\s#,;|]+)[ \t]+(?=#[^\s#,])",
              True),
)
# For Arrow's RE2, which has no look-behind: the same cells, found a little more widely
# (the grammar then decides).
LIST_SEPARATOR_CELL = ("[;|\r\n\t\u2028\u2029\uff1b\uff5c\uff0c\u3001\u060c]"
                       r"|\s/|/\s|#[^\s#,]+\s+#|^\s*,[\s,]*$")
_ANY_SEPARATOR = re.compile("|".join(f"(?:{s.pattern})" for s in SEPARATORS))
_NEVER_IN_ITEMS = re.compile("|".join(f"(?:{s.pattern})" for s in SEPARATORS
                                      if not s.in_items))


def separators_in(text: str) -> list[Separator]:
    """The separators other than the comma found in `text`, in table order."""
    return [s for s in SEPARATORS if re.search(s.pattern, text)]


def split_at_separators(text: str) -> str:
    """`text` with every separator other than the comma replaced by one."""
    return _ANY_SEPARATOR.sub(lambda m: (m.group("tag") or "") + ",", text)


def never_in_item(item: str) -> bool:
    """Does the item hold a character no item may hold (; | a line break, a tab)?"""
    return _NEVER_IN_ITEMS.search(item) is not None


def needs_json(item: str) -> bool:
    """Would this item, written in a plain comma list, read back as something else?"""
    return _ANY_SEPARATOR.search(item) is not None or null_marker(item.strip()) is not None


# ----------------------------------------------------------------------------- numbers

DECIMAL_SEPARATORS = (".", ",")
_SIGN = r"[+-]?"
_PLAIN = re.compile(r"\d+")
_SCIENTIFIC = re.compile(r"(\d+)(?:([.,])(\d+))?[eE][+-]?\d+")
_ONE_MARK = re.compile(r"(\d*)([.,])(\d+)")
# 1.234.567, 1,234,567.5, 1.234,5: groups of three after the first, then a decimal part.
_GROUPED = re.compile(r"\d{1,3}(?:(?P<g>[.,])\d{3})(?:(?P=g)\d{3})*(?:(?P<d>[.,])\d+)?")
_WORDS = {".": "a decimal point, as in English", ",": "a decimal comma, as in German or French"}
_GROUP_WORDS = {".": "a thousands separator, as in German or French",
                ",": "a thousands separator, as in English"}
DECIMAL_FIX = "pass --decimal-separator . or --decimal-separator , to read every such number"


@dataclass(frozen=True, slots=True)
class NumberReading:
    value: float | None
    code: str = ""  # "ambiguous_number" or "type" when value is None
    reason: str = ""
    decimal_comma: bool = False  # read with a decimal comma (for "must be whole" hints)


def _plain(digits: str) -> str:
    return digits.lstrip("0") or "0"


def read_number(text: str, decimal_separator: str | None, grouping: bool = True
                ) -> NumberReading:
    """The number a cell holds, read the one way it can be read.

    Ambiguous, unless `decimal_separator` decides: one `.` or `,`, once, with 1 to 3
    digits before it (not starting with 0) and exactly 3 after (`12.000`, `1,500`): a
    decimal part or a group of thousands. Everything else has at most one reading:
    `12.5`, `1,5`, `0.500`, `1234.567` (no group of three there), `1.234.567` and
    `1,234.5` (only groups of thousands), `12 000` (a space groups in every locale).
    With `decimal_separator`, a number written with the other convention is refused.
    `grouping=False` (coordinates, never 1000 or more): every mark is a decimal one.
    """
    compact = text.replace(" ", "")
    sign, body = ("-", compact[1:]) if compact[:1] == "-" else ("", compact.lstrip("+"))
    if compact[:1] in ("+", "-") and compact[1:2] in ("+", "-"):
        body = "?"
    other = {".": ",", ",": "."}
    if _PLAIN.fullmatch(body):
        return NumberReading(float(sign + body))
    if (found := _SCIENTIFIC.fullmatch(body)) is not None:
        mark = found.group(2)
        if mark and decimal_separator and mark != decimal_separator:
            return _not_under(text, decimal_separator)
        return NumberReading(float(sign + body.replace(",", ".")), decimal_comma=mark == ",")
    if (found := _ONE_MARK.fullmatch(body)) is not None:
        before, mark, after = found.groups()
        decimal = float(f"{sign}{before or '0'}.{after}")
        grouped = (grouping and 1 <= len(before) <= 3 and before[0] != "0"
                   and len(after) == 3)
        if decimal_separator is not None:
            if mark == decimal_separator:
                return NumberReading(decimal, decimal_comma=mark == ",")
            if grouped:
                return NumberReading(float(sign + before + after))
            return _not_under(text, decimal_separator)
        if grouped:
            thousands = sign + _plain(before + after)
            shown = f"{sign}{before}.{after}".rstrip("0").rstrip(".")
            return NumberReading(None, "ambiguous_number", (
                f"{text} reads two ways: {shown} ({_WORDS[mark]}) or {thousands} "
                f"({_GROUP_WORDS[mark]}); write {shown} or {thousands}, or "
                f"{DECIMAL_FIX} one way"))
        return NumberReading(decimal, decimal_comma=mark == ",")
    if grouping and (found := _GROUPED.fullmatch(body)) is not None:
        group, point = found.group("g"), found.group("d")
        if point is None or point != group:
            decimal_mark = point or other[group]
            if decimal_separator is not None and decimal_separator != decimal_mark:
                return _not_under(text, decimal_separator)
            number = body.replace(group, "").replace(decimal_mark, ".")
            return NumberReading(float(sign + number), decimal_comma=decimal_mark == ",")
    hint = (f"with --decimal-separator {decimal_separator}" if decimal_separator else
            "with a dot as decimal separator")
    return NumberReading(None, "type", f"not a number; write digits, {hint}")


def _not_under(text: str, decimal_separator: str) -> NumberReading:
    group = "," if decimal_separator == "." else "."
    return NumberReading(None, "type", (
        f"{text} is not a number under --decimal-separator {decimal_separator}, where "
        f"'{decimal_separator}' is the decimal separator and '{group}' only groups "
        "thousands in threes"))


# ----------------------------------------------------------------------------- coordinates

# A coordinate with its hemisphere: 48.85N, 2.35 E, 48.85°N, N48.85 (no sign then).
_HEMISPHERE = re.compile(r"(?i)^(?:([NSEW])\s*)?(\d+(?:[.,]\d+)?)\s*°?\s*(?(1)|([NSEW]))$")
GEO_HINT = ("write longitude, latitude with hemisphere letters, like 9.14W, 38.71N (or "
            "38.71N, 9.14W: the letters decide)")


def _letter(value: float, axis: str) -> str:
    """9.14W: a coordinate with its hemisphere letter."""
    letters = "EW" if axis == "lon" else "NS"
    number = repr(abs(float(value)))
    number = number[:-2] if number.endswith(".0") else number
    return number + (letters[1] if value < 0 else letters[0])


def geo_cell(lon: float, lat: float) -> str:
    """The cell that says (lon, lat) in either reading order: `9.14W, 38.71N`."""
    return f"{_letter(lon, 'lon')}, {_letter(lat, 'lat')}"


def _split_pair(text: str) -> list[str] | None:
    if ";" in text:
        parts = text.split(";")
    elif text.count(",") == 1:
        parts = text.split(",")
    else:
        return None
    return [p.strip() for p in parts] if len(parts) == 2 else None


def read_geo_point(text: str, decimal_separator: str | None
                   ) -> tuple[tuple[float, float] | None, str, str]:
    """(longitude, latitude), or (None, code, reason).

    The API's order is longitude, latitude. A bare pair that is a place in both orders
    (`2.35, 48.85`) is refused with both readings, unless both are the same point; one
    valid only as written is read so; one valid only the other way round is refused.
    Hemisphere letters (`48.85N, 2.35E`) say which number is which, in any order.
    """
    parts = _split_pair(text)
    if parts is None:
        return None, "type", ("write longitude, latitude as two numbers separated by a "
                              "comma (or by ; when they use a decimal comma); " + GEO_HINT)
    lettered = [_HEMISPHERE.match(p) for p in parts]
    if any(lettered):
        return _read_lettered(parts, lettered, decimal_separator)
    values: list[float] = []
    for part in parts:
        number = read_number(part, decimal_separator, grouping=False)
        if number.value is None:
            return None, "type", f"'{part}': {number.reason}"
        values.append(number.value)
    first, second = values
    as_written = -180 <= first <= 180 and -90 <= second <= 90
    reversed_ = -180 <= second <= 180 and -90 <= first <= 90
    if as_written and (not reversed_ or first == second):
        return (first, second), "", ""
    if as_written:
        return None, "geoloc_order", (
            f"a place in both orders: longitude {first:g}, latitude {second:g} "
            f"({geo_cell(first, second)}) or latitude {first:g}, longitude {second:g} "
            f"({geo_cell(second, first)}); write the one you mean with its letters, "
            f"like {geo_cell(first, second)}")
    if reversed_:
        return None, "geoloc_order", (
            f"longitude comes first, and {second:g} is not a latitude (-90..90); if you "
            f"mean latitude {first:g}, longitude {second:g}, write {geo_cell(second, first)}")
    return None, "out_of_range", ("longitude must be -180..180 and latitude -90..90 "
                                  "(longitude comes first)")


def _read_lettered(parts: list[str], lettered: list[re.Match[str] | None],
                   decimal_separator: str | None
                   ) -> tuple[tuple[float, float] | None, str, str]:
    if not all(lettered):
        return None, "type", ("write a hemisphere letter on both numbers, or on neither; "
                              + GEO_HINT)
    axes: dict[str, float] = {}
    for part, found in zip(parts, lettered, strict=True):
        assert found is not None
        letter = (found.group(1) or found.group(3)).upper()
        number = read_number(found.group(2), decimal_separator, grouping=False)
        if number.value is None:
            return None, "type", f"'{part}': {number.reason}"
        axis = "lat" if letter in "NS" else "lon"
        if axis in axes:
            return None, "type", ("one number needs N or S (latitude), the other E or W "
                                  "(longitude); " + GEO_HINT)
        axes[axis] = -number.value if letter in "SW" else number.value
    lon, lat = axes["lon"], axes["lat"]
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None, "out_of_range", "longitude must be 0..180 E or W and latitude 0..90 N or S"
    return (lon, lat), "", ""
