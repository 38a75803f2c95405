"""Write tests/data/real/: sheets as real people and spreadsheet programs make them.

Each file stands for a class of input that once became a value the user never meant
(issue 11). `python tests/data/make_real_sheets.py` writes them again; the files are
committed, so the tests read exactly these bytes. Future dates are in 2037, so that
nothing here slips into the past before the window ends (2038-01-19).
"""

from __future__ import annotations

import sys
import zipfile
from datetime import datetime
from pathlib import Path

import xlsxwriter

REAL = Path(__file__).parent / "real"


def _csv(name: str, text: str, encoding: str = "utf-8") -> None:
    (REAL / name).write_bytes(text.replace("\n", "\r\n").encode(encoding))


def dates() -> None:
    _csv("dates.csv",
         "video_id,publish_date,expiry_date\n"
         "x800001,,20370131\n"            # YYYYMMDD: a date, never unix seconds
         "x800002,,2001-01-01\n"          # before Dailymotion existed
         "x800003,0001-01-01,\n"          # an empty date cell from another program
         "x800004,01/12/2037,\n"          # day first or month first?
         "x800005,2020-01-01,\n"          # in the past: a warning
         "x800006,,2115123456\n"          # 10 digits: unix seconds (2037-01-08)
         "x800007,,20371301\n"            # 8 digits that are not a date
         "x800008,2037/03/04 18:00,\n")   # year first: never ambiguous


def error_cells() -> None:
    _csv("error-cells.csv",
         "video_id,title,description,channel\n"
         "x800001,#N/A,fine,news\n"         # a VLOOKUP that found nothing
         "#REF!,Title,fine,news\n"          # an id formula whose source was deleted
         "x800003,Title,'#N/A,#value!\n"    # the text #N/A on purpose; an error, lower case
         "x800004,Err:502,fine,news\n")     # LibreOffice's CSV form of an error
    book = xlsxwriter.Workbook(str(REAL / "error-cells.xlsx"))
    sheet = book.add_worksheet("Edits")
    sheet.write_row(0, 0, ["video_id", "title", "channel"])
    sheet.write_row(1, 0, ["x800001", None, "news"])
    sheet.write_formula(1, 1, "=VLOOKUP(A2,Titles!A:B,2,FALSE)", None, "#N/A")
    sheet.write_formula(2, 0, "=Ids!A3", None, "#REF!")
    sheet.write_row(2, 1, ["A title", "news"])
    sheet.write_row(3, 0, ["x800003", "#N/A"])  # typed as text ('#N/A in Excel): the text
    sheet.write_formula(3, 2, "=1/0", None, "#DIV/0!")
    book.close()
    _ods_with_error(REAL / "error-cells.ods")


def _ods_with_error(path: Path) -> None:
    """What LibreOffice saves for a failed formula: the cell's value type is "error"."""
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
          'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:'
          'calcext:1.0"')

    def text(value: str) -> str:
        return (f'<table:table-cell office:value-type="string" calcext:value-type="string">'
                f"<text:p>{value}</text:p></table:table-cell>")

    error = ('<table:table-cell table:formula="of:=1/0" office:value-type="float" '
             'office:value="0" calcext:value-type="error"><text:p>#DIV/0!</text:p>'
             "</table:table-cell>")
    rows = [text("video_id") + text("title"), text("x800001") + error]
    body = "".join(f"<table:table-row>{r}</table:table-row>" for r in rows)
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} '
               'office:version="1.3"><office:body><office:spreadsheet>'
               f'<table:table table:name="Edits">{body}</table:table>'
               "</office:spreadsheet></office:body></office:document-content>")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet",
                         compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/manifest.xml", _MANIFEST)
        archive.writestr("content.xml", content)


_MANIFEST = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
             'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
             'manifest:version="1.3"><manifest:file-entry manifest:full-path="/" '
             'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
             '<manifest:file-entry manifest:full-path="content.xml" '
             'manifest:media-type="text/xml"/></manifest:manifest>')


def invisible() -> None:
    _csv("invisible.csv",
         "video_id,ti\u200btle,channel\u00a0,private,tags\n"
         "\ufeffx800001,Caf\u00e9\u00a0: th\u00e9,news\u200b,yes\u200d,\u200bsummer\n"
         "https://dai.ly/x800002\u200b,\U0001F468\u200d\U0001F469\u200d\U0001F467 family,"
         "ne\u200bws,no,\n"
         "x800003,Next\u0085line,news,,\n"       # C1 NEXT LINE: a control like C0's
         "x800004,Escape \u009b31m here,news,,\n"  # C1 CSI: a terminal escape
         "x800005,\u202eevil\u202c title,news,,\n")  # bidi override: kept, printed escaped


def geoblocking() -> None:
    _csv("geoblocking.csv",
         "video_id,geoblocking\n"
         "x800001,+us\n"           # on an unrestricted video: only us, or no change?
         "x800002,+us\n"           # on "deny, fr": block us too, or let us watch?
         "x800003,+us\n"           # on "allow, fr": both readings agree
         "x800004,deny +us\n"      # names its list: block us
         "x800005,allow +us\n"     # names its list: only us (and says so)
         "x800006,-fr\n")          # on "allow, fr": no country left


def booleans() -> None:
    words = [("VRAI", "FAUX"), ("WAHR", "FALSCH"), ("VERDADERO", "FALSO"), ("VERO", "FALSO"),
             ("VERDADEIRO", "FALSO"), ("WAAR", "ONWAAR"), ("oui", "non"), ("Sí", "No"),
             ("sim", "não"), ("ja", "nee")]
    lines = ["video_id;private;allow_embed"]
    lines += [f"x80000{i};{yes};{no}" for i, (yes, no) in enumerate(words)]
    lines.append("x80000a;peut-être;FAUX")
    _csv("locale-booleans.csv", "\n".join(lines) + "\n", "cp1252")  # French Excel's CSV


def numbers() -> None:
    """Numbers typed in text fields, as Excel stores them: a float and a format."""
    book = xlsxwriter.Workbook(str(REAL / "numbers.xlsx"))
    sheet = book.add_worksheet("Edits")
    formats = {code: book.add_format({"num_format": code})
               for code in ("0.00", "0%", "000", "#,##0", "# ?/?", "General")}
    sheet.write_row(0, 0, ["video_id", "title", "tags", "soundtrack_popularity"])
    rows = [("x800001", 12.5, "0.00"), ("x800002", 0.5, "0%"), ("x800003", 7, "000"),
            ("x800004", 1234567.0, "#,##0"), ("x800005", 1234567890123456789, "General"),
            ("x800006", 0.75, "# ?/?"), ("x800007", 0.1 + 0.2, "General")]
    for r, (video, value, code) in enumerate(rows, start=1):
        sheet.write_string(r, 0, video)
        sheet.write_number(r, 1, value, formats[code])
        sheet.write_number(r, 2, 2026, formats["General"])
        sheet.write_number(r, 3, 100, formats["0.00"])  # a number field: the number itself
    dates = book.add_format({"num_format": "dd/mm/yyyy"})
    sheet.write_string(8, 0, "x800008")
    sheet.write_datetime(8, 1, datetime(2037, 1, 2), dates)  # shown 02/01/2037, not ISO
    sheet.write_boolean(9, 2, True)  # a tag shown as TRUE, or VRAI in French Excel
    sheet.write_string(9, 0, "x800009")
    book.close()


def encodings() -> None:
    """What Excel's "CSV" is on Windows: the system's code page, never said in the file."""
    _csv("enc-cp1252.csv", "video_id;title\nx800001;Crème brûlée à l'été – ½ prix\n"
                           "x800002;Größe und Übermaß\n", "cp1252")
    _csv("enc-cp1251.csv", "video_id,title\nx800001,Привет, мир\n".replace(", мир", " мир"),
         "cp1251")
    _csv("enc-cp1250.csv", "video_id,title\nx800001,Łódź nocą\n", "cp1250")
    _csv("enc-cp1254.csv", "video_id,title\nx800001,Günaydın İstanbul\n", "cp1254")
    _csv("enc-cp932.csv", "video_id,title\nx800001,東京の夜「ライブ」\n", "cp932")
    stray = ("video_id,title\nx800001,Café de Flore – Paris\nx800002,It’s raining\n"
             .encode().replace("’".encode(), b"\x92"))  # one byte from Windows
    (REAL / "enc-utf8-stray.csv").write_bytes(stray.replace(b"\n", b"\r\n"))


def formulas() -> None:
    """Formulas a script wrote and no spreadsheet program calculated, and one Excel made of
    a tag patch typed without its apostrophe."""
    book = xlsxwriter.Workbook(str(REAL / "formulas.xlsx"))  # pandas' to_excel writer
    sheet = book.add_worksheet("Edits")
    sheet.write_row(0, 0, ["video_id", "title", "private", "tags"])
    sheet.write_row(1, 0, ["x800001", "=A2&\" - part 2\"", "=IF(A2=\"x\",TRUE,FALSE)"])
    sheet.write_string(2, 0, "x800002")
    sheet.write_formula(2, 3, "=-museum", None, "#NAME?")  # Excel's reading of -museum
    book.close()


def main() -> None:
    REAL.mkdir(exist_ok=True)
    for make in (dates, error_cells, invisible, geoblocking, booleans, numbers, encodings,
                 formulas):
        make()
    print(f"wrote {len(list(REAL.iterdir()))} files to {REAL}", file=sys.stderr)


if __name__ == "__main__":
    main()
