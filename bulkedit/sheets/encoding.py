"""Which text encoding a CSV is in: a BOM, UTF-8 (with a stray byte or two), or the
Windows code page Excel wrote it in; a code page that cannot be told apart is refused
rather than guessed."""

from __future__ import annotations

import codecs
import re

from bulkedit.core.errors import LoadError, UsageError
from bulkedit.sheets.source import SheetInput


def text_encoding(named: str) -> str:
    """The codec's canonical name for an --encoding the user gave; UsageError if it is no
    text encoding."""
    try:
        encoding = codecs.lookup(named).name
        b"x".decode(encoding)  # base64, rot13…: codecs, but not text encodings
    except (LookupError, TypeError, ValueError):
        raise UsageError(f"--encoding {named}: unknown text encoding; use a name like "
                         "utf-8, cp1252, cp1251 or cp932") from None
    return "utf-8" if encoding == "utf-8-sig" else encoding


UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def decode_sample(head: bytes, forced: str | None = None) -> tuple[str, str]:
    """(encoding, decoded sample) by BOM, else UTF-8, else "legacy" (decided on the whole
    file), or the encoding the user named."""
    if forced is not None:
        return forced, head.decode(forced, "replace")
    if head.startswith(UTF8_BOM):
        return "utf-8", head[3:].decode("utf-8", "ignore")
    if head[:2] in UTF16_BOMS:
        return "utf-16", head.decode("utf-16", "ignore")
    try:
        head.decode("utf-8")
        encoding = "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the sample's end is not an encoding error.
        encoding = "utf-8" if exc.start >= len(head) - 3 else "legacy"
    return encoding, head.decode("utf-8" if encoding == "utf-8" else "cp1252", "replace")


def looks_binary(sample: bytes) -> bool:
    head = sample[:8192]
    if not head:
        return False
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    # A stray control character or two is a typo in a sheet (the validator names its
    # cell); many of them are a binary file.
    return controls >= 16 and controls / len(head) > 0.05


# Names of the code pages Excel writes a "CSV" in, by the system's language.
CODE_PAGES = {"cp1252": "Windows-1252 (Western European)",
              "cp850": "DOS code page 850 (Western European, Excel's 'CSV (MS-DOS)')",
              "cp437": "DOS code page 437 (US, Excel's 'CSV (MS-DOS)')",
              "mac-roman": "Mac Roman (Excel for Mac's 'CSV (Macintosh)')"}
STRAY_BYTES = "utf-8 (with stray bytes)"
NON_ASCII = re.compile(r"[^\x00-\x7f]")
# Read as Windows-1252, another code page's letters come out as runs of accented capitals
# and symbols inside words (Привет is Ïðèâåò, Łódź is £ódŸ, Günaydın is Günaydýn).
_LATIN_SYMBOLS = set("¹²³£¥¤¦¨ª¯´¸º¼½¾µ¿¡¢§©®°±¶·¬")
_TURKISH_TELLS = set("ðÐýÝþÞ")


def is_utf8(source: SheetInput, head: bytes) -> bool:
    if head.startswith((UTF8_BOM, *UTF16_BOMS)):
        return True
    data = source.all()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not data.isascii()  # ASCII reads the same in every encoding named


def not_utf8(label: str, data: bytes) -> tuple[str, str]:
    """Text and encoding of a CSV that is not valid UTF-8: UTF-8 with a few stray bytes
    (their cells become problems), else Windows-1252 when it reads as Western text; any
    other code page is refused rather than guessed (--encoding says which it is)."""
    as_utf8 = data.decode("utf-8", "replace")
    bad = as_utf8.count("\ufffd")
    good = len(NON_ASCII.findall(as_utf8)) - bad
    # UTF-8 with a stray byte or two (a character pasted from a Windows program) holds
    # many more good sequences than bad bytes; a legacy file matches UTF-8 only by chance.
    if good and bad <= max(2, good // 4):
        return as_utf8.removeprefix("\ufeff"), STRAY_BYTES
    readings = _western_readings(data)
    clean: dict[str, str] = {}
    for encoding, (text, foreign) in readings.items():
        if foreign is None and text not in clean.values():
            clean[encoding] = text  # cp437 and cp850 often read the same: one of them
    if "cp1252" in clean and (len(clean) == 1 or not _GLUED_ELLIPSIS.search(clean["cp1252"])):
        # What Excel's "CSV" is on Western Windows. Only an ellipsis glued to a word
        # (Voil…) may as well be a DOS à (Voilà): then the bytes do not say which.
        return clean["cp1252"], "cp1252"
    if len(clean) == 1:
        [(encoding, text)] = clean.items()
        return text, encoding
    fix = ("Save it from Excel as 'CSV UTF-8 (Comma delimited)', or pass --encoding with "
           "its code page (cp850 or cp437 for Excel's 'CSV (MS-DOS)', mac_roman for 'CSV "
           "(Macintosh)', cp1250 central European, cp1251 Cyrillic, cp1253 Greek, cp1254 "
           "Turkish, cp932 Japanese…)")
    if clean:
        shown = "; ".join(f"as {CODE_PAGES[e]} '{_first_word(t)}'" for e, t in clean.items())
        raise LoadError(label, f"the file is not UTF-8, and it reads as Western text in more "
                               f"than one code page ({shown})", fix)
    if "cp1252" not in readings:
        decoded(label, data, "cp1252")  # raises: names the line and the byte
    word = readings["cp1252"][1]
    raise LoadError(label, f"the file is not UTF-8, and read as Windows-1252 it shows "
                           f"'{word}', which looks like another encoding", fix)


# Western code pages a CSV without a BOM may be in, in the order preferred when two read
# the same: Excel's "CSV" on Windows, its "CSV (MS-DOS)" (the OEM code page: 850 in
# Western Europe, 437 in the US) and Excel for Mac's "CSV (Macintosh)".
WESTERN = ("cp1252", "cp850", "cp437", "mac-roman")
# In Windows-1252, bytes 0x80-0x9F are punctuation; in the DOS and Mac code pages they are
# accented letters (é is 0x82 in cp850, ‚ in cp1252). These marks never touch a letter in
# Western text, so one that does is a letter of another code page.
_NEVER_BY_LETTERS = set("‚ƒ†‡ˆ‰‹›˜¤¦¨¬¯¸")
# Marks that sit at a word's edge, never inside one (Gr”ße is Größe in cp850).
_NEVER_INSIDE = set("„“”…\xa0«»•™®©°±×÷")


# What may touch a letter in any Western text: apostrophes, quotes, dashes, the ellipsis.
_MARKS_BY_LETTERS = set("’‘“”„‚‹›–—…«»°ºª·´¿¡")


_GLUED_ELLIPSIS = re.compile(r"[^\W\d_]…")


def _western_readings(data: bytes) -> dict[str, tuple[str, str | None]]:
    """For each Western code page the bytes decode in: the text, and the first word that
    does not read as Western text in it (None when every word does)."""
    readings: dict[str, tuple[str, str | None]] = {}
    for encoding in WESTERN:
        try:
            text = data.decode(encoding).removeprefix("\ufeff")
        except UnicodeDecodeError:
            continue  # 0x81, 0x8D, 0x8F, 0x90 and 0x9D are no character in cp1252
        readings[encoding] = text, _first_foreign(text, strict=encoding != "cp1252")
    return readings


def _first_foreign(text: str, *, strict: bool) -> str | None:
    for match in NON_ASCII.finditer(text):
        at = match.start()
        char = text[at]
        before = text[at - 1] if at else " "
        after = text[at + 1] if at + 1 < len(text) else " "
        by_letter = before.isalpha() or after.isalpha()
        if not char.isalpha() and (
                (char in _NEVER_BY_LETTERS and by_letter)
                or (char in _NEVER_INSIDE and before.isalpha() and after.isalpha())
                # In the DOS and Mac pages the letters' neighbours are box drawing, Greek
                # and maths (Caf╔, αrea): a symbol by a letter is a letter of another page.
                or (strict and by_letter and char not in _MARKS_BY_LETTERS)):
            return word_at(text, at)
        if char.isalpha() and strict and not _latin(char):
            return word_at(text, at)
        word = word_at(text, at)
        if _foreign(word):
            return word
    return None


def _latin(char: str) -> bool:
    return ord(char) < 0x250 and char not in "ıƒ"


def _first_word(text: str) -> str:
    match = NON_ASCII.search(text)
    return word_at(text, match.start()) if match else ""


def word_at(text: str, at: int) -> str:
    start, end = at, at + 1
    while start > 0 and not text[start - 1].isspace() and text[start - 1] not in ',;\t"':
        start -= 1
    while end < len(text) and not text[end].isspace() and text[end] not in ',;\t"':
        end += 1
    return text[start:end][:40]


# The accented letters of the languages written in Windows-1252. A word read as
# Windows-1252 whose accented letters no single one of them uses (Pøítelkynì, Czech in
# Windows-1250) is another code page's text.
_WESTERN_ALPHABETS = tuple(frozenset(letters) for letters in (
    "àâæçéèêëîïôœùûüÿ",  # French
    "äöüß", "áéíñóúü",  # German, Spanish
    "àèéìíîòóù", "áâãàçéêíóôõú",  # Italian, Portuguese
    "éèëïóöüáà", "àçéèíïòóú",  # Dutch, Catalan
    "æøåéóô", "åäöé", "äöåšž", "äöõüšž",  # Danish and Norwegian, Swedish, Finnish, Estonian
    "áðéíóúýþæö", "áéíóú", "ñü",  # Icelandic, Irish, Basque
))


def _foreign(word: str) -> bool:
    """Does this word, read as Windows-1252, look like another code page's letters?"""
    accented = {c for c in word.lower() if ord(c) > 0x7F and c.isalpha()}
    if accented and not any(accented <= alphabet for alphabet in _WESTERN_ALPHABETS):
        return True
    run = 0
    for index, char in enumerate(word):
        high = ord(char) > 0x7F
        run = run + 1 if high and char.isalpha() else 0
        if run >= 3 or char in _TURKISH_TELLS:
            return True
        neighbours = word[max(index - 1, 0):index] + word[index + 1:index + 2]
        if char in _LATIN_SYMBOLS and any(n.isalpha() for n in neighbours) and not (
                char in "¿¡" and index == 0):  # ¿Qué? ¡Hola!
            return True
        if high and char.isupper() and index and word[index - 1].islower():
            return True
    return False


def decoded(label: str, data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding).removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise LoadError(label, f"line {line} has a byte (0x{data[exc.start]:02X}) that is not "
                               f"{CODE_PAGES.get(encoding, encoding)}",
                        "Save it from Excel as 'CSV UTF-8 (Comma delimited)', or pass "
                        "--encoding with the file's encoding") from None

