"""Read a CSV, XLSX or ODS sheet into a `Sheet`: strings plus the row numbers Excel shows.

Format is decided by content, not by extension. Every cell becomes text
(typed XLSX cells are written the way the grammar reads them), blank rows are
skipped, and headers are resolved to field names (aliases, case, spaces).
Anything that makes the file unreadable raises one `LoadError` naming the file
and the fix; row-level oddities travel as `Issue`s in `Sheet.issues`.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import os
import re
import sys
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc

from bulkedit.core.cells import (
    CSV_ESCAPED_PATTERN,
    EXCEL_ERROR_CELL,
    CellProblem,
    date_cell_text,
    excel_error_problem,
    remove_invisible,
)
from bulkedit.core.charclasses import INVISIBLE_CHARS
from bulkedit.core.errors import LoadError, UsageError
from bulkedit.core.schema import FIELDS, ID_COLUMN, Kind, header_key, is_id_alias, resolve_header
from bulkedit.core.sheet import Column, Sheet, column_letter
from bulkedit.core.types import Issue, Severity
from bulkedit.sheets.workbook_scan import CellScan, scan_workbook

Source = str | os.PathLike[str] | BinaryIO

MAX_COLUMNS = 1000
# XLSX parts are XML that Excel compresses 5-20x. A part that inflates more than
# this, or a workbook bigger than this in all, is a zip bomb, not a spreadsheet.
MAX_UNCOMPRESSED_BYTES = 4 * 1024**3
MAX_COMPRESSION_RATIO = 200

_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_ZIP_MAGIC = b"PK\x03\x04"
_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_DELIMITERS = (",", ";", "\t")
_BLANK = rf"^(?:\s|{INVISIBLE_CHARS})*$"  # nothing a person can see
_BLOCK_SIZE = 1 << 25  # 32 MiB: a cell this long is refused by the validator, not the reader
_SEP_HINT = re.compile(r"^sep=([,;\t|])\r?\n")


@dataclass(frozen=True)
class _Input:
    """Where the bytes come from: a path (read lazily) or a file-like object's content."""

    label: str
    path: Path | None
    data: bytes | None

    def head(self, size: int = 65536) -> bytes:
        if self.data is not None:
            return self.data[:size]
        with self.path.open("rb") as handle:  # type: ignore[union-attr]
            return handle.read(size)

    def all(self) -> bytes:
        return self.data if self.data is not None else self.path.read_bytes()  # type: ignore[union-attr]

    def stream(self) -> str | pa.BufferReader:
        """What Arrow reads: the path itself, so a big file is never copied into Python."""
        return str(self.path) if self.data is None else pa.BufferReader(self.data)

    def binary(self) -> BinaryIO:
        return self.path.open("rb") if self.data is None else io.BytesIO(self.data)  # type: ignore[union-attr]


def load_sheet(source: Source, *, sheet: str | None = None, name: str | None = None,
               encoding: str | None = None) -> Sheet:
    """Read a sheet from a path or a binary file-like object. `encoding` names a CSV's
    encoding (any Python codec name, like cp1251) instead of finding it."""
    if encoding is not None:
        named = encoding
        try:
            encoding = codecs.lookup(encoding).name
            b"x".decode(encoding)  # base64, rot13…: codecs, but not text encodings
        except (LookupError, TypeError, ValueError):
            raise UsageError(f"--encoding {named}: unknown text encoding; use a name like "
                             "utf-8, cp1252, cp1251 or cp932") from None
        if encoding == "utf-8-sig":
            encoding = "utf-8"
    source_input = _open_source(source, name)
    label = source_input.label
    head = source_input.head()
    if not head.strip(b" \t\r\n\x00," + _UTF8_BOM) and len(source_input.head(1 << 20)) < 1 << 20:
        raise LoadError(label, "the file is empty", "Save the sheet with a header row and "
                                                    "one row per video")
    if head.startswith(_ZIP_MAGIC):
        return _load_workbook(source_input, sheet)
    if head.startswith(_CFB_MAGIC):
        if _ENCRYPTED_PACKAGE in source_input.all():
            raise LoadError(label, "the workbook is password-protected",
                            "Open it in Excel, remove the password (File > Info > Protect "
                            "Workbook > Encrypt with Password), save and try again")
        raise LoadError(label, "this is a legacy Excel 97-2003 (.xls) workbook",
                        "Open it in Excel and save it as .xlsx (Excel Workbook) or .csv")
    if sheet is not None:
        raise LoadError(label, f"--sheet {sheet} was given but a CSV file has no sheets",
                        "Drop --sheet, or export that sheet from the workbook")
    return _load_csv(source_input, head, encoding)


def _open_source(source: Source, name: str | None) -> _Input:
    if isinstance(source, str | os.PathLike) and os.fspath(source) == "-":
        return _Input(name or "stdin", None, sys.stdin.buffer.read())
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        label = name or str(path)
        try:
            with path.open("rb") as handle:
                if not path.is_file():
                    # A pipe (<(...), /dev/stdin, a FIFO) can be read only once: read it now.
                    return _Input(label, None, handle.read())
        except FileNotFoundError:
            raise LoadError(label, "no such file", "Check the path and the file name") from None
        except IsADirectoryError:
            raise LoadError(label, "this is a folder, not a file",
                            "Give the path of a .xlsx or .csv file") from None
        except OSError as exc:
            raise LoadError(label, f"cannot be read ({exc.strerror})",
                            "Check that the file exists and that you may read it") from None
        return _Input(label, path, None)
    label = name or getattr(source, "name", None) or "<sheet>"
    data = source.read()
    if isinstance(data, str):
        data = data.encode("utf-8")
    return _Input(str(label), None, data)


# ----------------------------------------------------------------------------- CSV

def _decode_sample(head: bytes, forced: str | None = None) -> tuple[str, str]:
    """(encoding, decoded sample) by BOM, else UTF-8, else "legacy" (decided on the whole
    file), or the encoding the user named."""
    if forced is not None:
        return forced, head.decode(forced, "replace")
    if head.startswith(_UTF8_BOM):
        return "utf-8", head[3:].decode("utf-8", "ignore")
    if head[:2] in _UTF16_BOMS:
        return "utf-16", head.decode("utf-16", "ignore")
    try:
        head.decode("utf-8")
        encoding = "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the sample's end is not an encoding error.
        encoding = "utf-8" if exc.start >= len(head) - 3 else "legacy"
    return encoding, head.decode("utf-8" if encoding == "utf-8" else "cp1252", "replace")


def _looks_binary(sample: bytes) -> bool:
    head = sample[:8192]
    if not head:
        return False
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    # A stray control character or two is a typo in a sheet (the validator names its
    # cell); many of them are a binary file.
    return controls >= 16 and controls / len(head) > 0.05


def _sniff_delimiter(text: str) -> str:
    """The delimiter of the first line: the candidate that occurs most outside quotes."""
    counts = dict.fromkeys(_DELIMITERS, 0)
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char in "\r\n" and not quoted:
            break
        elif char in counts and not quoted:
            counts[char] += 1
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _load_csv(source: _Input, head: bytes, forced: str | None = None) -> Sheet:
    ignored = None
    if forced is not None and forced not in ("utf-8", "utf-16") and _is_utf8(source, head):
        # A BOM, or text that is valid UTF-8 throughout, is UTF-8 whatever the option says:
        # a nightly job's --encoding must not garble the "CSV UTF-8" files dropped in.
        ignored, forced = forced, None
    encoding, sample = _decode_sample(head, forced)
    # Valid UTF-8 is text, whatever control characters it holds (the validator names
    # their cells); binary data is almost never valid UTF-8.
    if encoding == "legacy" and _looks_binary(head):
        raise LoadError(source.label, "this is not a spreadsheet (it holds binary data)",
                        "Give a .xlsx file or a .csv file saved from Excel")
    hint = _SEP_HINT.match(sample)
    skip = 1 if hint else 0  # Excel's "sep=;" first line: the delimiter, not a row
    delimiter = hint.group(1) if hint else _sniff_delimiter(sample)
    first_line = sample.split("\n", 2)[skip] if sample.count("\n") >= skip else sample
    if first_line.count(delimiter) >= MAX_COLUMNS:
        raise LoadError(source.label, f"the sheet has more than {MAX_COLUMNS} columns",
                        "Delete the columns you do not edit")
    grid: list[pa.ChunkedArray] | None = None
    text: str | None = None
    if encoding in ("utf-8", "utf-16"):
        try:
            grid = _read_csv_arrow(source, sample, encoding, delimiter, skip)
            # Arrow reads a quote left open as one last cell holding the rest of the file;
            # then the last row has a line break in a cell, and the careful path decides.
            if _last_row_spans_lines(grid):
                grid = None
        except pa.ArrowInvalid as exc:
            if encoding == "utf-8" and "UTF8" in str(exc):
                encoding = "legacy"  # a byte that is not UTF-8 past the first 64 KiB
    if encoding == "legacy":
        text, encoding = _not_utf8(source.label, source.all())
    elif grid is None:
        text = _decoded(source.label, source.all(), encoding)
    if grid is None:  # ragged rows, blank lines or another encoding: the careful path
        assert text is not None
        grid = _read_csv_python(source.label, text, delimiter, skip)
    rows = len(grid[0]) if grid else 0
    # Exact error literals are found before the apostrophe that makes '#N/A text is removed.
    errors = [_error_literals(col) for col in grid]
    grid = [_unescape(col) for col in grid]
    sheet = _build_sheet(source.label, "csv", grid, list(range(1, rows + 1)), errors,
                         encoding=encoding, delimiter=delimiter)
    if encoding == _STRAY_BYTES:
        return _mark_stray_bytes(sheet)
    if ignored is not None:
        note = Issue(sheet.header_row, "", "", "encoding", (
            f"the file is UTF-8, so it was read as UTF-8, not as --encoding {ignored}"),
            Severity.WARNING)
        return replace(sheet, issues=(note, *sheet.issues))
    if forced is None and encoding not in ("utf-8", "utf-16"):
        assert text is not None
        samples = list(dict.fromkeys(_word_at(text, m.start())
                                     for m in _NON_ASCII.finditer(text)))[:4]
        note = Issue(sheet.header_row, "", "", "encoding", (
            f"the file is not UTF-8: read as {_CODE_PAGES.get(encoding, encoding)}, which "
            f"gives {', '.join(samples)}; if a letter looks wrong, save it as CSV UTF-8, "
            "or pass --encoding"), Severity.WARNING)
        return replace(sheet, issues=(note, *sheet.issues))
    return sheet


# Names of the code pages Excel writes a "CSV" in, by the system's language.
_CODE_PAGES = {"cp1252": "Windows-1252 (Western European)"}
_STRAY_BYTES = "utf-8 (with stray bytes)"
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# Read as Windows-1252, another code page's letters come out as runs of accented capitals
# and symbols inside words (Привет is Ïðèâåò, Łódź is £ódŸ, Günaydın is Günaydýn).
_LATIN_SYMBOLS = set("¹²³£¥¤¦¨ª¯´¸º¼½¾µ¿¡¢§©®°±¶·¬")
_TURKISH_TELLS = set("ðÐýÝþÞ")


def _is_utf8(source: _Input, head: bytes) -> bool:
    if head.startswith((_UTF8_BOM, *_UTF16_BOMS)):
        return True
    data = source.all()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not data.isascii()  # ASCII reads the same in every encoding named


def _not_utf8(label: str, data: bytes) -> tuple[str, str]:
    """Text and encoding of a CSV that is not valid UTF-8: UTF-8 with a few stray bytes
    (their cells become problems), else Windows-1252 when it reads as Western text; any
    other code page is refused rather than guessed (--encoding says which it is)."""
    as_utf8 = data.decode("utf-8", "replace")
    bad = as_utf8.count("\ufffd")
    good = len(_NON_ASCII.findall(as_utf8)) - bad
    # UTF-8 with a stray byte or two (a character pasted from a Windows program) holds
    # many more good sequences than bad bytes; a legacy file matches UTF-8 only by chance.
    if good and bad <= max(2, good // 4):
        return as_utf8.removeprefix("\ufeff"), _STRAY_BYTES
    text = _decoded(label, data, "cp1252")
    for match in _NON_ASCII.finditer(text):
        word = _word_at(text, match.start())
        if _foreign(word):
            raise LoadError(label, f"the file is not UTF-8, and read as Windows-1252 it shows "
                                   f"'{word}', which looks like another encoding",
                            "Save it from Excel as 'CSV UTF-8 (Comma delimited)', or pass "
                            "--encoding with its code page (cp1250 central European, cp1251 "
                            "Cyrillic, cp1253 Greek, cp1254 Turkish, cp932 Japanese…)")
    return text, "cp1252"


def _word_at(text: str, at: int) -> str:
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
        if char in _LATIN_SYMBOLS and any(n.isalpha() for n in neighbours):
            return True
        if high and char.isupper() and index and word[index - 1].islower():
            return True
    return False


def _decoded(label: str, data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding).removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise LoadError(label, f"line {line} has a byte (0x{data[exc.start]:02X}) that is not "
                               f"{_CODE_PAGES.get(encoding, encoding)}",
                        "Save it from Excel as 'CSV UTF-8 (Comma delimited)', or pass "
                        "--encoding with the file's encoding") from None


def _mark_stray_bytes(sheet: Sheet) -> Sheet:
    """In a UTF-8 file with a few bytes that are not UTF-8, the cells holding them."""
    problem = CellProblem("not_utf8", "holds bytes that are not UTF-8 (shown as \ufffd), though "
                                      "the rest of the file is: retype those characters, or "
                                      "save the sheet as CSV UTF-8")
    columns = []
    for column in sheet.columns:
        marked = pc.match_substring(column.values, "\ufffd")
        if not pc.any(marked).as_py():
            columns.append(column)
            continue
        found = tuple((i, column.values[i].as_py(), problem)
                      for i in pc.indices_nonzero(marked).to_pylist())
        columns.append(replace(column, problems=(*column.problems, *found)))
    issues = sheet.issues
    headers = [c.header for c in sheet.columns if "\ufffd" in c.header]
    if headers:
        issues = (Issue(sheet.header_row, headers[0], headers[0], "not_utf8",
                        "the header holds bytes that are not UTF-8; retype it, or save the "
                        "sheet as CSV UTF-8"), *issues)
    return replace(sheet, columns=tuple(columns), issues=issues)


def _last_row_spans_lines(grid: list[pa.ChunkedArray]) -> bool:
    if not grid or not len(grid[0]):
        return False
    return any(("\n" in (v := col[-1].as_py()) or "\r" in v) for col in grid)


def _error_literals(column: pa.ChunkedArray) -> pa.ChunkedArray | None:
    """Which cells are exactly a spreadsheet error (#N/A…), what Excel writes to a CSV for
    a failed formula; None when there are none. `'#N/A` is the text itself."""
    # Prefix tests cost a fiftieth of the regex: most columns hold no candidate at all.
    candidate = pc.starts_with(column, "#")
    for prefix in (" ", "\t", "Err:", "ERR:", "err:"):
        candidate = pc.or_(candidate, pc.starts_with(column, prefix))
    if not pc.any(candidate).as_py():
        return None
    errors = pc.match_substring_regex(column, EXCEL_ERROR_CELL)
    return errors if pc.any(errors).as_py() else None


def _unescape(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Remove the apostrophe that makes Excel show a formula-like cell as text."""
    if not pc.any(pc.starts_with(column, "'")).as_py():
        return column  # the common case costs a scan, not a copy
    return pc.replace_substring_regex(column, CSV_ESCAPED_PATTERN, r"\1")


def _read_csv_arrow(source: _Input, sample: str, encoding: str, delimiter: str, skip: int
                    ) -> list[pa.ChunkedArray]:
    """Fast path: Arrow's CSV reader, every cell as text, empty lines kept as rows."""
    import pyarrow.csv as pacsv

    records = csv.reader(io.StringIO(sample), delimiter=delimiter)
    first = next(itertools.islice(records, skip, None), [])
    names = [f"c{i}" for i in range(max(len(first), 1))]
    table = pacsv.read_csv(
        source.stream(),
        # Blocks larger than any sane row: Arrow cannot parse a row that straddles two.
        read_options=pacsv.ReadOptions(encoding=encoding, column_names=names, skip_rows=skip,
                                       block_size=_BLOCK_SIZE),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True,
                                         ignore_empty_lines=False),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                             strings_can_be_null=False,
                                             quoted_strings_can_be_null=False),
    )
    return list(table.columns)


def _read_csv_python(label: str, text: str, delimiter: str, skip: int
                     ) -> list[pa.ChunkedArray]:
    """Careful path for ragged rows, blank lines and other encodings: the csv module,
    record by record, over the decoded text."""
    rows: list[list[str]] = []
    csv.field_size_limit(max(csv.field_size_limit(), _BLOCK_SIZE))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        for record in reader:
            rows.append(record)
    except csv.Error as exc:
        row = len(rows) + 1 - skip
        if "unexpected end of data" in str(exc):
            raise LoadError(label, f"a quoted cell that starts on row {row} is never "
                                          "closed", "Add the missing double quote (\") or "
                                          "save the sheet again from Excel") from None
        raise LoadError(label, f"row {row} cannot be read as CSV ({exc})",
                        "Open it in Excel and save it again as CSV") from None
    rows = rows[skip:]
    width = max((len(r) for r in rows), default=0)
    return [pa.chunked_array([pa.array([r[i] if i < len(r) else "" for r in rows], pa.string())])
            for i in range(width)]


# ----------------------------------------------------------------------------- XLSX

def _check_zip(source: _Input) -> str:
    """Refuse zip bombs and XML with entity declarations; return the format."""
    try:
        with source.binary() as handle, zipfile.ZipFile(handle) as archive:
            return _check_archive(source.label, archive)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise LoadError(source.label, "the workbook is damaged or incomplete (not a valid zip)",
                        "Open it in Excel; if it opens, save it again, else get a new copy"
                        ) from None


def _check_archive(label: str, archive: zipfile.ZipFile) -> str:
    members = archive.infolist()
    names = {m.filename for m in members}
    if "mimetype" in names and b"opendocument.spreadsheet" in archive.read("mimetype"):
        fmt = "ods"
    elif "xl/workbook.xml" in names:
        fmt = "xlsx"
    else:
        raise LoadError(label, "this zip file is not an Excel workbook",
                        "Give a .xlsx file or a .csv file")
    total = sum(m.file_size for m in members)
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > 100 * 1024**2 and ratio > MAX_COMPRESSION_RATIO:
            total = MAX_UNCOMPRESSED_BYTES + 1
    if total > MAX_UNCOMPRESSED_BYTES:
        raise LoadError(label, "the workbook inflates to an implausible size (a zip bomb)",
                        "Export the sheet again from Excel")
    for member in members:
        if member.filename.endswith((".xml", ".rels")):
            try:
                with archive.open(member) as part:
                    head = part.read(4096)
            except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile):
                raise LoadError(label, "the workbook is damaged or incomplete",
                                "Open it in Excel and save it again") from None
            if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                raise LoadError(label, "the workbook contains XML entity declarations, which "
                                       "Excel never writes (a possible XML bomb)",
                                "Export the sheet again from Excel")
    return fmt


def _cell_text(value: object) -> str:
    """How a typed cell reads in the grammar."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime | date):
        return date_cell_text(value)
    if isinstance(value, time | timedelta):
        return str(value)
    return str(value)


def _load_workbook(source: _Input, sheet: str | None) -> Sheet:
    import python_calamine as cal

    label = source.label
    fmt = _check_zip(source)
    try:
        # calamine reads a path itself; a file-like upload is handed over in memory.
        book = (cal.CalamineWorkbook.from_path(str(source.path)) if source.path is not None
                else cal.CalamineWorkbook.from_filelike(io.BytesIO(source.data or b"")))
        visible = [m.name for m in book.sheets_metadata
                   if m.visible == cal.SheetVisibleEnum.Visible
                   and m.typ == cal.SheetTypeEnum.WorkSheet]
        if sheet is not None:
            if sheet not in book.sheet_names:
                raise LoadError(label, f"there is no sheet named '{sheet}'",
                                "Use one of: " + ", ".join(book.sheet_names))
            chosen = sheet
        elif visible:
            chosen = visible[0]
        else:
            raise LoadError(label, "the workbook has no visible worksheet",
                            "Unhide the sheet with your edits or pass --sheet NAME")
        worksheet = book.get_sheet_by_name(chosen)
        first_col = (worksheet.start or (0, 0))[1]
        last_row = (worksheet.end or (0, 0))[0]
        rows = worksheet.iter_rows()
        width = worksheet.width
        texts: list[list[str]] = [[] for _ in range(width)]
        count = 0
        appends = [column.append for column in texts]
        padding = [""] * width
        typed: list[tuple[int, int, object]] = []  # (grid row, column, value) of non-text
        converted: list[object] = []  # the typed cells met, to find their rows cheaply

        def convert(value: object) -> str:
            converted.append(value)
            return _cell_text(value)

        for row in rows:
            if len(row) < width:
                row = [*row, *padding[len(row):]]
            seen = len(converted)
            for append, value in zip(appends, row, strict=False):
                # Most cells are text: skip the conversion call for them.
                append(value if value.__class__ is str else convert(value))
            if len(converted) != seen:  # a typed cell: note where, for text fields
                typed.extend((count, first_col + j, v) for j, v in enumerate(row)
                             if v.__class__ is not str)
            count += 1
        book.close()
        # calamine reads an error cell (#N/A…) as "" (or an ODS one as 0), and a formula
        # that no spreadsheet program ever calculated as its placeholder: find them.
        where = source.path if source.path is not None else source.data or b""
        scan = scan_workbook(where, fmt, chosen)
    except LoadError:
        raise
    except (cal.CalamineError, cal.PasswordError, cal.XmlError, cal.ZipError,
            ValueError, OSError) as exc:
        raise LoadError(label, f"the workbook cannot be read ({type(exc).__name__})",
                        "Open it in Excel and save it again as .xlsx") from None
    # Count back from the last used row: calamine yields the rows above the used
    # range as blanks in some versions and not in others.
    top = last_row + 1 - count  # the 0-based sheet row of grid row 0
    for (row_index, col), text in scan.errors.items():  # a header cell keeps the text
        if 0 <= row_index - top < count and first_col <= col < first_col + width:
            texts[col - first_col][row_index - top] = text
    # Columns left of the used range are empty; keep letters true to Excel.
    grid = [pa.chunked_array([pa.array([""] * count, pa.string())]) for _ in range(first_col)]
    grid += [pa.chunked_array([pa.array(col, pa.string())]) for col in texts]
    numbers = list(range(top + 1, top + 1 + count))
    built = _build_sheet(label, fmt, grid, numbers, sheet_name=chosen)
    if scan.errors or scan.uncalculated:
        built = _mark_formula_cells(built, scan)
        known = scan.errors.keys() | scan.uncalculated.keys()
        typed = [(r, c, v) for r, c, v in typed if (numbers[r] - 1, c) not in known]
    return _show_typed_cells(built, source, chosen, typed, numbers) if typed else built


def _mark_formula_cells(sheet: Sheet, scan: CellScan) -> Sheet:
    """Error cells and formulas never calculated, as problems at their cells (their value
    blanked): the value they stood for is unknown."""
    position = {number: i for i, number in enumerate(sheet.row_numbers)}
    letters = {column_letter(i): i for i in range(MAX_COLUMNS + 1)}
    found: dict[int, list[tuple[int, str, CellProblem]]] = {}
    for (row, col), text in scan.errors.items():
        if row + 1 in position:
            found.setdefault(col, []).append((position[row + 1], text, excel_error_problem(
                text, scan.formulas.get((row, col), ""))))
    for (row, col), formula in scan.uncalculated.items():
        if row + 1 in position and (row, col) not in scan.errors:
            shown = f"={formula}" if formula else "(a formula)"
            found.setdefault(col, []).append((position[row + 1], shown, CellProblem(
                "uncalculated_formula", (
                    f"the cell holds the formula {shown}, which no spreadsheet program has "
                    "calculated (the file was written by a script, like pandas' to_excel): "
                    "its value is unknown. Open the file in Excel or LibreOffice and save it, "
                    "or write the values instead of formulas"))))
    columns = []
    for column in sheet.columns:
        problems = found.get(letters[column.letter])
        if not problems:
            columns.append(column)
            continue
        values = column.values.to_pylist()
        for index, _, _ in problems:
            values[index] = ""
        columns.append(replace(column, values=pa.chunked_array([pa.array(values, pa.string())]),
                               problems=(*column.problems, *problems)))
    return replace(sheet, columns=tuple(columns))


# Fields whose values are text: a number typed in them means the text Excel shows.
_TEXT_KINDS = (Kind.TEXT, Kind.LIST, Kind.URL, Kind.VIDEO_ID)
# Excel keeps 15 significant digits: a longer number typed in a cell has lost its last ones.
_EXACT_DIGITS = 1e15


def _kind_of_cell(value: object) -> str:
    if isinstance(value, bool):
        return "TRUE/FALSE"
    return "time" if isinstance(value, time | timedelta) else "date"


def _show_typed_cells(sheet: Sheet, source: _Input | None, chosen: str,
                      typed: list[tuple[int, int, object]], numbers: list[int]) -> Sheet:
    """Typed cells of text fields as the cell shows them: `12.50` typed in a cell shown
    with two decimals is 12.5 to calamine, and "12.50" to the person who typed it. A date
    or TRUE/FALSE cell shows in a form only Excel's locale knows: a problem."""
    letters = {column_letter(i): i for i in range(MAX_COLUMNS + 1)}
    text_columns = {letters[c.letter]: c for c in sheet.columns
                    if c.field in FIELDS and FIELDS[c.field].kind in _TEXT_KINDS}
    position = {number: i for i, number in enumerate(sheet.row_numbers)}
    found = {(numbers[row] - 1, col): value for row, col, value in typed
             if col in text_columns and numbers[row] in position}
    changed: dict[int, tuple[dict[int, str], list[tuple[int, str, CellProblem]]]] = {}
    cells: dict[tuple[int, int], float] = {}
    for (row, col), value in found.items():
        if value.__class__ is float or value.__class__ is int:
            cells[row, col] = value  # type: ignore[assignment]
            continue
        shown = _cell_text(value)
        changed.setdefault(col, ({}, []))[1].append((position[row + 1], shown, CellProblem(
            "typed_cell_in_text", f"a {_kind_of_cell(value)} cell in a text field, which Excel "
                                  "shows in its own format and language; format the cell as "
                                  "Text and type the value as it should read")))
    if not cells and not changed:
        return sheet
    from bulkedit.core.numformat import general, render

    try:
        if source is None:  # a table: its numbers are General, as to_excel writes them
            scan = CellScan(formats=dict.fromkeys(cells, "General"))
        elif cells:
            where = source.path if source.path is not None else source.data or b""
            scan = scan_workbook(where, sheet.format, chosen, cells)
        else:
            scan = CellScan()
    except (ValueError, OSError):
        raise LoadError(sheet.source, "the workbook cannot be read (its cell formats)",
                        "Open it in Excel and save it again as .xlsx") from None
    for (row, col), value in cells.items():
        index = position[row + 1]
        texts, problems = changed.setdefault(col, ({}, []))
        stored = general(float(value)) or repr(value)
        if value == int(value) and abs(value) >= _EXACT_DIGITS:
            problems.append((index, stored, CellProblem(
                "lost_digits", "a number of more than 15 digits, whose last digits Excel "
                               "has already lost; format the column as Text and type it "
                               "again")))
            continue
        shown = (scan.shown.get((row, col)) if sheet.format == "ods"
                 else render(float(value), scan.formats.get((row, col), "General")))
        if shown is None:
            code = scan.formats.get((row, col), "?")
            problems.append((index, stored, CellProblem(
                "number_format", f"a number cell shown with the format {code!r}, which "
                                 f"bulkedit cannot read as Excel shows it (the number is "
                                 f"{stored}); format the cell as Text and type the value as "
                                 "it should read")))
            continue
        if "," in shown and FIELDS[text_columns[col].field or ""].kind is not Kind.TEXT:
            problems.append((index, shown, CellProblem(
                "number_format", f"a number shown as {shown}, which would be split into items "
                                 "at the comma; format the cell as Text and type the items")))
            continue
        if "." in shown or "," in shown:
            # Excel shows the separators of the viewer's language: 12.50 here is 12,50 to
            # a French or German eye, and the person typed what they saw.
            other = shown.translate(str.maketrans(",.", ".,"))
            problems.append((index, shown, CellProblem(
                "number_locale", f"a number cell, whose separators follow Excel's language "
                                 f"(English {shown}, German {other}); bulkedit sends {shown}. "
                                 "Format the cell as Text to send exactly what you typed",
                Severity.WARNING)))
        texts[index] = shown
    columns = []
    for column in sheet.columns:
        col = letters[column.letter]
        if col not in changed:
            columns.append(column)
            continue
        texts, problems = changed[col]
        values = column.values.to_pylist()
        for at, text in texts.items():
            values[at] = text
        columns.append(replace(column, values=pa.chunked_array([pa.array(values, pa.string())]),
                               problems=(*column.problems, *problems)))
    return replace(sheet, columns=tuple(columns))


# ----------------------------------------------------------------------------- tables

def load_table(data: Any, name: str = "<table>") -> Sheet:
    """A pandas DataFrame or a pyarrow Table read as the same data saved to XLSX would be
    (`df.to_excel(index=False)`): the column names on row 1, numbers, booleans and dates as
    typed cells, missing values blank. Text is text, as in a CSV."""
    headers, columns = _table_columns(data)
    if not headers:
        raise LoadError(name, "the table has no columns", "Give it a video_id column and "
                                                          "one column per field")
    count = len(columns[0]) + 1  # the header row, then the data
    texts: list[list[str]] = [[header] for header in headers]
    typed: list[tuple[int, int, object]] = []
    for col, values in enumerate(columns):
        out = texts[col]
        for row, value in enumerate(values, start=1):
            if _missing(value):
                out.append("")
            elif isinstance(value, str):
                out.append(value)
            else:
                value = float(value) if isinstance(value, int) and not isinstance(
                    value, bool) else value  # Excel keeps every number as a float
                out.append(_cell_text(value))
                typed.append((row, col, value))
    grid = [pa.chunked_array([pa.array(col, pa.string())]) for col in texts]
    numbers = list(range(1, count + 1))
    built = _build_sheet(name, "table", grid, numbers)
    return _show_typed_cells(built, None, "", typed, numbers) if typed else built


def _table_columns(data: Any) -> tuple[list[str], list[list[Any]]]:
    if isinstance(data, pa.Table):
        return ([str(n) for n in data.column_names],
                [data.column(i).to_pylist() for i in range(data.num_columns)])
    if hasattr(data, "columns") and hasattr(data, "iloc"):  # pandas, never imported here
        return ([str(c) for c in data.columns],
                [data.iloc[:, i].tolist() for i in range(len(data.columns))])
    raise UsageError(f"cannot read a {type(data).__name__} as a sheet; give a path, a file, "
                     "a pandas DataFrame or a pyarrow Table")


def _missing(value: Any) -> bool:
    """None, NaN, and pandas' NA and NaT: a blank cell."""
    if value is None:
        return True
    if isinstance(value, float):
        return value != value  # NaN
    return type(value).__name__ in ("NAType", "NaTType")


# ----------------------------------------------------------------------------- both

def _build_sheet(label: str, fmt: str, grid: Sequence[pa.ChunkedArray], numbers: list[int],
                 errors: Sequence[pa.ChunkedArray | None] = (), **extra: object) -> Sheet:
    """Find the header, drop blank rows, resolve headers to fields. `errors` marks, per
    column, the cells that held a spreadsheet error (their text is the error's)."""
    if len(grid) > MAX_COLUMNS:
        raise LoadError(label, f"the sheet has {len(grid)} columns; bulkedit reads at most "
                               f"{MAX_COLUMNS}", "Delete the columns you do not edit")
    if not grid or not len(grid[0]):
        raise LoadError(label, "the sheet is empty", "Put the headers on row 1")
    blank = None
    for col in grid:  # a regex scan, not a trimmed copy of every column
        is_blank = pc.match_substring_regex(col, _BLANK)
        blank = is_blank if blank is None else pc.and_(blank, is_blank)
    kept = pc.indices_nonzero(pc.invert(blank))
    if len(kept) == 0:
        raise LoadError(label, "the sheet is empty", "Put the headers on row 1")
    header_at = _header_position(grid, kept)
    header_index = kept[header_at].as_py()
    headers, header_issues = _clean_headers(
        [col[header_index].as_py() for col in grid], numbers[header_index])
    data_rows = kept[header_at + 1:]
    if len(data_rows) == 0:
        raise LoadError(label, "the sheet has a header row but no data rows",
                        "Add one row per video below the headers")
    first, last = data_rows[0].as_py(), data_rows[-1].as_py()
    contiguous = last - first + 1 == len(data_rows)  # no blank rows inside

    def rows_of(col: pa.ChunkedArray) -> pa.ChunkedArray:
        return col.slice(first, len(data_rows)) if contiguous else col.take(data_rows)

    values = [rows_of(col) for col in grid]
    row_numbers = (tuple(numbers[first:last + 1]) if contiguous
                   else tuple(numbers[i] for i in data_rows.to_pylist()))
    marks = [None if i >= len(errors) or errors[i] is None else rows_of(errors[i])
             for i in range(len(grid))]
    columns = _resolve_columns(label, headers, [_split_errors(v, m)
                                                for v, m in zip(values, marks, strict=True)])
    issues = header_issues + tuple(
        Issue(numbers[header_index], "", "", "no_header",
              f"column {c.letter} has values but no header; add the field name on row "
              f"{numbers[header_index]} or delete the column")
        for c in columns if c.field is None and c.header == "")
    if header_at:
        first = numbers[kept[0].as_py()]
        issues += (Issue(first, "", "", "above_header",
                         f"rows {first} to {numbers[header_index] - 1} are above the header "
                         f"(row {numbers[header_index]}) and are ignored", Severity.WARNING),)
    return Sheet(label, fmt, columns, row_numbers, header_row=numbers[header_index],
                 issues=issues, **extra)  # type: ignore[arg-type]


def _clean_headers(cells: list[str], row: int) -> tuple[list[str], tuple[Issue, ...]]:
    """Headers without outer spaces and invisible characters (a header pasted from a web
    page can hold a zero-width space, and 'tags' would not be 'tags')."""
    headers: list[str] = []
    issues: list[Issue] = []
    for cell in cells:
        header, removed = remove_invisible(cell)
        header = header.strip()
        if removed:
            issues.append(Issue(row, header, header, "invisible_char",
                                f"{removed} from the header", Severity.WARNING))
        headers.append(header)
    return headers, tuple(issues)


def _split_errors(values: pa.ChunkedArray, marked: pa.ChunkedArray | None
                  ) -> tuple[pa.ChunkedArray, tuple[tuple[int, str, CellProblem], ...]]:
    """The column's values with error cells blanked, and their problems."""
    if marked is None or not pc.any(marked).as_py():
        return values, ()
    positions = pc.indices_nonzero(marked).to_pylist()
    texts = [values[i].as_py().strip() for i in positions]
    problems = tuple((i, text, excel_error_problem(text))
                     for i, text in zip(positions, texts, strict=True))
    return pc.if_else(marked, "", values), problems


def _header_position(grid: Sequence[pa.ChunkedArray], kept: pa.Array) -> int:
    """Which non-blank row is the header: the first of the first 20 that names the id
    column (a title or a note may stand above it), else the first."""
    for position in range(min(20, len(kept))):
        index = kept[position].as_py()
        if any(is_id_alias(remove_invisible(str(col[index].as_py()))[0].strip())
               for col in grid):
            return position
    return 0


_ERROR_HEADER = re.compile(EXCEL_ERROR_CELL)


def _resolve_columns(label: str, headers: list[str],
                     values: list[tuple[pa.ChunkedArray,
                                        tuple[tuple[int, str, CellProblem], ...]]]
                     ) -> tuple[Column, ...]:
    has_other_id = any(is_id_alias(h) and header_key(h) != "url" for h in headers)
    resolved: list[Column] = []
    seen: dict[str, Column] = {}
    for index, (header, (column_values, errors)) in enumerate(zip(headers, values,
                                                                  strict=True)):
        letter = column_letter(index)
        if _ERROR_HEADER.match(header):  # before the # of a comment column
            raise LoadError(label, f"the header of column {letter} holds the spreadsheet error "
                                   f"{header}, so the field it names is unknown",
                            f"Type the field name in column {letter} of the header row")
        if header.startswith("#"):
            field_name: str | None = "#"
        elif header == "":
            if not errors and pc.all(pc.match_substring_regex(column_values, _BLANK)).as_py():
                continue  # an unused, unnamed column
            field_name = None
        elif is_id_alias(header) and (header_key(header) != "url" or not has_other_id):
            field_name = ID_COLUMN
        else:
            field_name = resolve_header(header)
        column = Column(header, field_name, letter, column_values, errors)
        if field_name not in (None, "#"):
            if field_name in seen:
                first = seen[field_name]
                raise LoadError(label, f"columns {first.letter} ('{first.header}') and {letter} "
                                       f"('{header}') both mean {field_name}",
                                "Keep one of them, or start the other's header with # to "
                                "turn it into a comment")
            seen[field_name] = column
        resolved.append(column)
    return tuple(resolved)
