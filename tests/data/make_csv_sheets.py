"""Write tests/data/csv/: CSV files as Excel's other "CSV" formats and report generators save
them (issue 25, points 6 and 7). `python tests/data/make_csv_sheets.py` writes them again;
the files are committed, so the tests read exactly these bytes.
"""

from __future__ import annotations

import sys
from pathlib import Path

CSV = Path(__file__).parent / "csv"

# One French and one German title: every accented letter is a byte 0x80-0xFF, and in the
# DOS and Mac code pages most of them are bytes that Windows-1252 reads as punctuation.
TITLES = ("Crème brûlée à l'été", "Größe und Übermaß")


def _rows(delimiter: str = ",") -> str:
    return "".join(f"x80000{i}{delimiter}{title}\n" for i, title in enumerate(TITLES, start=1))


def _write(name: str, text: str, encoding: str, line_end: str) -> None:
    (CSV / name).write_bytes(text.replace("\n", line_end).encode(encoding))


def encodings() -> None:
    """Excel's "CSV (MS-DOS)" (the OEM code page: 850 in Western Europe, 437 in the US, CRLF)
    and Excel for Mac's "CSV (Macintosh)" (Mac Roman, CR only)."""
    _write("excel-ms-dos-cp850.csv", "video_id;title\n" + _rows(";"), "cp850", "\r\n")
    _write("excel-ms-dos-cp437.csv", "video_id,title\n" + _rows(), "cp437", "\r\n")
    _write("excel-macintosh.csv", "video_id,title\n" + _rows(), "mac-roman", "\r")


def line_ends() -> None:
    """UTF-8 with classic-Mac CR-only line ends (once exit 70), and one with every
    convention mixed, a quoted line break inside a cell and a BOM."""
    _write("utf8-cr-only.csv", "video_id,title\n" + _rows(), "utf-8", "\r")
    mixed = ("\ufeffvideo_id,title,description\r\n"
             "x800001,Crème brûlée,\"two\rlines\"\n"
             "x800002,Größe,\"and\r\nthree\nlines\"\r"
             "x800003,last,row\r\n")
    (CSV / "utf8-mixed-line-ends.csv").write_bytes(mixed.encode("utf-8"))


def text_cells() -> None:
    """A user's CSV whose cells start with an apostrophe (part of the text: Excel shows it),
    and the ="007" trick report generators write so that Excel keeps leading zeros."""
    _write("apostrophes.csv",
           "video_id,title,tags\n"
           "x800001,'Allo 'Allo!,'+summer\n"
           "x800002,'=not a formula,'-80s\n"
           "x800003,Plain,rock\n", "utf-8", "\r\n")
    _write("excel-text-formula.csv",
           'video_id,title,description\n'
           'x800001,"=""007""","=""He said """"hi"""""""\n'
           'x800002,=1+2,"=""0042"" & ""x"""\n', "utf-8", "\r\n")


def main() -> None:
    CSV.mkdir(exist_ok=True)
    for make in (encodings, line_ends, text_cells):
        make()
    print(f"wrote {len(list(CSV.iterdir()))} files to {CSV}", file=sys.stderr)


if __name__ == "__main__":
    main()
