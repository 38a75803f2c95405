"""Classes of characters a person cannot see, and the texts of spreadsheet errors, as
regular expressions that both Python's re and Arrow's RE2 read (a character class holds
the characters themselves).

Kept apart so that the sheet grammar (cells.py), the workbook scanner and what is printed
(cli/console.py) agree, without importing the grammar; and `visible`, the one way any of
them is shown in a terminal or a log.
"""

from __future__ import annotations

import re

# C0 controls but tab, LF and CR, DEL, and the C1 controls (U+0080-U+009F, among them
# U+009B, a terminal's CSI, and U+0085 NEXT LINE): invisible in Excel, refused by XML
# and often by APIs. The class holds the characters themselves, so Arrow's RE2 can use it.
CONTROL_CHARS = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
# Characters that show as nothing, or as a plain space, but make "tags" differ from
# "tags": every format character (Unicode category Cf: zero-width ones, the byte order
# mark, bidi marks and embeddings, tag characters), every space other than U+0020
# (category Zs: no-break, thin, ideographic…), and the blanks of other scripts (combining
# grapheme joiner, Hangul fillers, Khmer inherent vowels, the blank Braille pattern,
# variation selectors). A test checks the classes against Python's Unicode database.
# Removed from ids, headers and coded values with a warning (a space becomes a plain one);
# kept inside free text, where they may be meant, and trimmed at its ends.
SPACE_CHARS = "[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]"
INVISIBLE_CHARS = ("[\u00a0\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891"
                   "\u08e2\u115f\u1160\u1680\u17b4\u17b5\u180b-\u180f\u2000-\u200f"
                   "\u202a-\u202f\u205f-\u2064\u2066-\u206f\u2800\u3000\u3164\ufe00-\ufe0f"
                   "\ufeff\uffa0\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
                   "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
                   "\U000e0100-\U000e01ef]")

# What a cell whose formula failed shows, in Excel, LibreOffice and Google Sheets, and in
# the languages Excel ships in (German #NV, French #VALEUR!, Spanish #¡VALOR!, Polish
# #ARG!, Russian #ЗНАЧ!, Swedish #SAKNAS!…). Beyond the list, any # and upper-case word
# ending in ! or ? is taken for an error too, and refused with the way to write it as text.
EXCEL_ERROR = (
    r"(?:#(?:NULL!|DIV/0!|VALUE!|REF!|NAME\?|NUM!|N/A|GETTING_DATA|SPILL!|CALC!|FIELD!"
    r"|BLOCKED!|CONNECT!|BUSY!|UNKNOWN!|EXTERNAL!|PYTHON!|ERROR!"
    r"|NV|WERT!|BEZUG!|ZAHL!|VALEUR!|NOM\?|NOMBRE!|NUL!|N/D|¡VALOR!|¡REF!|¡DIV/0!"
    r"|¿NOMBRE\?|¡NUM!|¡NULO!|VALORE!|RIF!|NOME\?|NULLO!|VALOR!|NÚM!|NULO!|N/B|WAARDE!"
    r"|VERW!|DEEL/0!|NAAM\?|GETAL!|LEEG!|N/D!|I/T|Н/Д|YOK|HIÁNYZIK|PUUTTUU!|SAKNAS!"
    r"|NENÍ_K_DISPOZICI"
    r"|(?-i:[A-ZÀ-ÖØ-ÞĀ-ſА-ЯЁ¡¿][A-ZÀ-ÖØ-ÞĀ-ſА-ЯЁ0-9_/.¡¿]{0,24}[!?]))|Err:[0-9]{3})")


# What a cell or a file name must never send to a terminal or a log as it is: C0 controls
# but tab and newline, DEL, the C1 controls (U+009B is a CSI, like ESC [), the bidi
# controls that reorder what is shown (U+202E), and the invisible characters that make
# two different values look the same.
UNSAFE_BUT_CR = re.compile(f"{CONTROL_CHARS}|{INVISIBLE_CHARS}|[\u2028\u2029]")
UNSAFE = re.compile(f"\r|{UNSAFE_BUT_CR.pattern}")  # a carriage return rewrites the line


def escape_match(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group(0)):04x}"


def json_escape_match(match: re.Match[str]) -> str:
    """JSON's own escape for one character: a surrogate pair beyond the BMP (U+E0041 as
    \\udb40\\udc41), which `\\uNNNN` with five digits would not be."""
    code = ord(match.group(0))
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_visible(json_text: str) -> str:
    """JSON text with every unsafe character as JSON's own escape: the same value to a
    JSON reader, nothing raw for a person reading the stream (valid JSON in, valid out,
    since every unsafe character may appear only inside a string)."""
    return UNSAFE.sub(json_escape_match, json_text)


def visible(text: str) -> str:
    """Unsafe characters as \\uNNNN: a cell must never drive the terminal
    (escape codes), reorder what is shown (bidi overrides) or hide in it (zero-width)."""
    return UNSAFE.sub(escape_match, text)
