"""The text Excel shows for a number under a number format code. Pure: values in, text out.

An XLSX cell where someone typed `12.50`, `50%` or `007` stores a float plus a format code;
a text field must take the text Excel shows, not the float. Only what can be rendered
exactly is rendered: anything else (dates, times, fractions, conditions, fills, scaling
commas, unknown tokens) gives None, so the caller can ask the user instead of guessing.

Numbers are first cut to 15 significant digits (Excel keeps no more), starting from
`repr(value)`, the shortest decimal that round-trips (the digits a person typed). Then
they are rounded half away from zero: so 2.675 and 1.005 show as "2.68" and "1.01"
under "0.00", as in Excel, where binary arithmetic would give 2.67 and 1.00.
"""

from __future__ import annotations

import math
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, localcontext
from functools import lru_cache

# Characters Excel shows as themselves without quotes. '/' is handled apart: next to
# digit placeholders it makes a fraction.
_LITERALS = frozenset("$-+():!^&'~{}<>= ")
_COLOURS = frozenset({"black", "blue", "cyan", "green", "magenta", "red", "white", "yellow"})
_INT_LIMIT = Decimal("1e15")  # 16+ digit integers: Excel may have dropped digits already
_SCI_ABOVE = Decimal("1e11")  # General goes scientific for 12+ integer digits
_SCI_BELOW = Decimal("1e-9")  # ...and for values too small to fit 11 characters

Token = tuple[str, str]


def general(value: float) -> str | None:
    """How Excel's General format shows a number typed by a person, or None.

    The text is the number cut to 15 significant digits, without float noise or
    trailing zeros: 0.1+0.2 -> "0.3", 12.5 -> "12.5", 7.0 -> "7", -0.0 -> "0",
    1e-7 -> "0.0000001". It is the value as typed (what the formula bar shows); a
    narrow column may show fewer digits. None when:
    - the value is not finite;
    - it is a whole number with |value| >= 1e15 (16+ digits: Excel keeps 15, so the
      digits shown may not be the ones typed);
    - it is not whole and |value| >= 1e11 or |value| < 1e-9, where General shows
      scientific notation ("1.23457E+11", "1E-10").
    """
    if not math.isfinite(value):
        return None
    if value == 0:
        return "0"
    d = _r15(abs(value))
    if d == d.to_integral_value():
        if d >= _INT_LIMIT:
            return None
        text = str(int(d))
    elif d >= _SCI_ABOVE or d < _SCI_BELOW:
        return None
    else:
        text = f"{d.normalize():f}"
    return "-" + text if value < 0 else text


def render(value: float, code: str) -> str | None:
    """The text Excel shows for `value` under number format `code`, or None when the
    format is one this function cannot render exactly. Never guesses.

    Rendered: "General" (any case) and "@" (via `general`); placeholders 0 and #;
    a decimal point; ',' between integer placeholders (grouping); '%'; scientific
    "0.00E+00" / "0.0E-0" with one integer placeholder; quoted text, backslash-escaped
    characters, the unquoted literals $ - + / ( ) : ! ^ & ' ~ { } < > = space and
    currency signs; "[$€-40C]" -> "€", "[$-409]" -> nothing; colours ([Red], [Color10])
    are dropped; "_x" -> one space; up to four ';' sections (positive; negative; zero;
    text). Excel's quirks kept: "0.##" shows 7 as "7." (the point stays); '#' shows no
    lone leading zero ("#.00" shows 0.5 as ".50", "#" shows 0 as ""); with one section a
    negative that rounds to zero keeps its sign ("-0"); other sections show the absolute
    value, so a minus appears only if the section has one; an empty section shows "".

    None for: dates and times (any unquoted letter other than the E of E+/E-, and
    "[h]"-style blocks), conditions ("[>100]"), other bracket blocks, fractions ('?' or
    an unquoted '/' in a section with digits), '*' fills, '@' in the first three
    sections unless the whole code is "@", commas that scale by 1000 ("#,##0,"),
    engineering notation ("##0.0E+0"), placeholder orders like "0#" or "0.#0",
    a literal-only single section for a negative value, and non-finite values.
    """
    if not math.isfinite(value) or not code.strip():
        return None
    if code.strip().lower() == "general" or code == "@":
        return general(value)
    fixed = _FIXED.fullmatch(code)
    if fixed is not None:  # "0.00", "0%": most codes people use, without the tokenizer
        places, percent = len(fixed[1] or ""), bool(fixed[2])
        rounded = (_r15(abs(value)) * (100 if percent else 1)).quantize(
            Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        # Like the general path: a negative that rounds to zero keeps its sign ("-0").
        return ("-" if value < 0 else "") + f"{rounded:f}" + ("%" if percent else "")
    parsed = _sections(code)
    if parsed is None:
        return None
    sections = parsed
    # The fourth section formats text cells only; '@' elsewhere mixes text and number.
    if len(sections) > 4 or any(t[0] == "at" for s in sections[:3] for t in s):
        return None
    sign = ""
    if value < 0 and len(sections) >= 2:
        section = sections[1]
    elif value == 0 and len(sections) >= 3:
        section = sections[2]
    else:
        section = sections[0]
        sign = "-" if value < 0 else ""
    if not section:
        return ""  # an empty section hides the value, as ";;;" does
    if sign and not any(t[0] == "ph" for t in section):
        return None  # unsure where Excel puts the minus when no digits are shown
    with localcontext() as ctx:
        ctx.prec = 1000  # room for every digit of the largest float
        body = _render_section(section, _r15(abs(value)))
    return None if body is None else sign + body


_FIXED = re.compile(r"0(?:\.(0+))?(%)?")


@lru_cache(maxsize=256)
def _sections(code: str) -> list[list[Token]] | None:
    """The code's tokens split into its ';' sections (a sheet uses few codes: cached)."""
    tokens = _tokenize(code)
    if tokens is None:
        return None
    sections: list[list[Token]] = [[]]
    for token in tokens:
        if token[0] == "sep":
            sections.append([])
        else:
            sections[-1].append(token)
    return sections


def _r15(x: float) -> Decimal:
    """`x` cut to 15 significant digits, half away from zero, as Excel stores it."""
    d = Decimal(repr(float(x)))  # float(): an int or bool from a reader still works
    if d == 0:
        return Decimal(0)
    return d.quantize(Decimal(1).scaleb(d.adjusted() - 14), rounding=ROUND_HALF_UP)


def _tokenize(code: str) -> list[Token] | None:
    """Kinds: ph (0 or #), dot, comma, pct, exp (E+/E-), sep, at, slash, lit."""
    tokens: list[Token] = []
    simple = {"0": "ph", "#": "ph", ".": "dot", ",": "comma", "%": "pct", ";": "sep",
              "@": "at", "/": "slash"}
    i = 0
    while i < len(code):
        c = code[i]
        if c == '"':
            end = code.find('"', i + 1)
            if end < 0:
                return None
            tokens.append(("lit", code[i + 1:end]))
            i = end + 1
        elif c in "\\_":
            if i + 1 >= len(code):
                return None
            tokens.append(("lit", code[i + 1] if c == "\\" else " "))
            i += 2
        elif c == "[":
            end = code.find("]", i)
            if end < 0:
                return None
            body = code[i + 1:end]
            if body.startswith("$"):
                # "[$€-40C]": the currency text, then a locale id that shows nothing
                symbol = body[1:].split("-")[0]
                if symbol:
                    tokens.append(("lit", symbol))
            elif body.lower() not in _COLOURS and not re.fullmatch(r"(?i)color\d{1,2}", body):
                return None  # conditions, [h]/[mm]/[ss] durations, [DBNum1]...
            i = end + 1
        elif c == "E" and code[i + 1:i + 2] in ("+", "-"):
            tokens.append(("exp", code[i + 1]))
            i += 2
        else:
            if c in simple:
                tokens.append((simple[c], c))
            elif c in _LITERALS or unicodedata.category(c) == "Sc":
                tokens.append(("lit", c))
            else:
                return None  # letters (d m y h s, AM/PM, General...), '?', '*', 1-9, ...
            i += 1
    return tokens


def _group(digits: str) -> str:
    """'1234567' -> '1,234,567'."""
    head = len(digits) % 3 or 3
    return ",".join([digits[:head]] + [digits[j:j + 3] for j in range(head, len(digits), 3)])


def _render_section(tokens: list[Token], x: Decimal) -> str | None:
    """One section's text for the non-negative `x`, or None if not renderable exactly."""
    kinds = [kind for kind, _ in tokens]
    if "slash" in kinds and "ph" in kinds:
        return None  # "# 0/0": a fraction
    if kinds.count("dot") > 1 or kinds.count("exp") > 1:
        return None
    exp_at = kinds.index("exp") if "exp" in kinds else len(tokens)
    dot_at = kinds.index("dot") if "dot" in kinds else exp_at
    if dot_at > exp_at:
        return None
    int_ph = [i for i in range(dot_at) if kinds[i] == "ph"]
    dec_ph = [i for i in range(dot_at, exp_at) if kinds[i] == "ph"]
    exp_pat = "".join(tokens[i][1] for i in range(exp_at, len(tokens)) if kinds[i] == "ph")
    int_pat = "".join(tokens[i][1] for i in int_ph)
    dec_pat = "".join(tokens[i][1] for i in dec_ph)
    # Optional digits outside, forced ones inside: other orders are rare and unverified.
    if not re.fullmatch("#*0*", int_pat) or not re.fullmatch("0*#*", dec_pat):
        return None
    commas = [i for i, kind in enumerate(kinds) if kind == "comma"]
    # A comma between integer placeholders groups thousands; after them it divides by
    # 1000 per comma ("#,##0,"), which is not supported.
    if any(not (int_ph and int_ph[0] < i < int_ph[-1]) for i in commas):
        return None
    if commas and any(kinds[i] not in ("ph", "comma") for i in range(int_ph[0], int_ph[-1])):
        return None  # grouping mixed with literals among the digits
    x *= 100 ** kinds.count("pct")
    step = Decimal(1).scaleb(-len(dec_ph))
    exp_text = ""
    if exp_at < len(tokens):
        if len(int_ph) != 1 or not re.fullmatch("0+", exp_pat):
            return None  # engineering notation ("##0.0E+0") or '#' exponent digits
        e = x.adjusted() if x else 0
        mantissa = x.scaleb(-e).quantize(step, rounding=ROUND_HALF_UP)
        if mantissa >= 10:  # 9.999 -> 10.00: one more power of ten
            e += 1
            mantissa = x.scaleb(-e).quantize(step, rounding=ROUND_HALF_UP)
        x = mantissa
        exp_sign = "-" if e < 0 else "+" if tokens[exp_at][1] == "+" else ""
        exp_text = "E" + exp_sign + str(abs(e)).zfill(len(exp_pat))
    int_str, _, frac = f"{x.quantize(step, rounding=ROUND_HALF_UP):f}".partition(".")
    # A leading zero shows only through a '0' placeholder.
    int_str = int_str.lstrip("0").zfill(int_pat.count("0"))
    if int_str and not int_ph and "ph" in kinds:
        return None  # digits left of the point with nowhere to go (".00")
    zeros = dec_pat.count("0")
    frac = frac[:zeros] + frac[zeros:].rstrip("0")  # '#' decimals drop trailing zeros
    pieces: dict[int, str] = {}
    if commas:
        pieces[int_ph[0]] = _group(int_str) if int_str else ""
    else:
        # Right to left, one digit per placeholder; the first placeholder takes the rest,
        # so "(###) ###-####" spreads a phone number over its literals.
        for i in reversed(int_ph[1:]):
            pieces[i], int_str = int_str[-1:], int_str[:-1]
        if int_ph:
            pieces[int_ph[0]] = int_str
    for j, i in enumerate(dec_ph):
        pieces[i] = frac[j:j + 1]
    shown = {"dot": ".", "pct": "%", "exp": exp_text, "slash": "/", "comma": ""}
    out = []
    for i, (kind, text) in enumerate(tokens):
        if kind == "ph":
            out.append(pieces.get(i, ""))  # exponent digits are in exp_text already
        else:
            out.append(text if kind == "lit" else shown[kind])
    return "".join(out)
