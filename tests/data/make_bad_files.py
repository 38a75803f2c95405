"""The bad-input corpus of tests/data/bad/ and what bulkedit must do with each file.

    pip install xlwt msoffcrypto-tool     # only for legacy.xls and password.xlsx
    python tests/data/make_bad_files.py   # rewrites the committed files

`EXPECTED` maps each file to the exit code of `bulkedit validate` (0 valid, 1 invalid
rows, 2 unreadable) and a fragment of what it prints. The three large cases (a 10 MB
cell, a zip bomb, 20,000 columns) are made by `make_large` at test time rather than
committed.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

HERE = Path(__file__).parent / "bad"
HEAD = "video_id,title,tags\r\n"

EXPECTED: dict[str, tuple[int, str]] = {
    "empty.csv": (2, "the file is empty"),
    "blank-lines.csv": (2, "the file is empty"),
    "bom-only.csv": (2, "the file is empty"),
    "header-only.csv": (2, "header row but no data rows"),
    "garbage.csv": (2, "not a spreadsheet (it holds binary data)"),
    "png-named.xlsx": (2, "not a spreadsheet (it holds binary data)"),
    "entity-bomb.xlsx": (2, "XML entity declarations"),
    "password.xlsx": (2, "password-protected"),
    "truncated.xlsx": (2, "damaged or incomplete"),
    "legacy.xls": (2, "legacy Excel 97-2003"),
    "document.docx.xlsx": (2, "not an Excel workbook"),
    "invalid-utf8.csv": (0, "1 rows, 1 valid"),
    "nul-bytes.csv": (1, "invisible control character (U+0000)"),
    "control-chars.csv": (1, "invisible control character (U+001B)"),
    "mixed-line-endings.csv": (0, "3 rows, 3 valid"),
    "unbalanced-quote.csv": (2, "a quoted cell that starts on row 3 is never closed"),
    "formulas.csv": (0, "2 rows, 2 valid"),
    "formulas.xlsx": (0, "1 rows, 1 valid"),
    # The merged title also covers the description, which would read blank (keep).
    "merged-cells.xlsx": (2, "the merged cell B2:C2 (column C 'description')"),
    "hidden-sheets.xlsx": (0, "1 rows, 1 valid"),
    "duplicate-headers.csv": (2, "both mean title"),
    "header-on-row-3.csv": (0, "above the header (row 3) and are ignored"),
    "header-on-row-3.xlsx": (0, "above the header (row 3) and are ignored"),
    "ids-as-numbers.xlsx": (1, "not a video id"),
    "date-typed-ids.xlsx": (1, "not a video id"),
    "ids-with-spaces-and-urls.csv": (0, "4 rows, 4 valid"),
    "unicode-text.csv": (0, "1 rows, 1 valid"),
    "sep-hint.csv": (0, "1 rows, 1 valid"),
    "extra-cells.csv": (1, "column D has values but no header"),
    "results-sheet.csv": (0, "1 rows, 1 valid"),
    "unknown-column.csv": (1, "did you mean 'title'?"),
    "only-ids.csv": (1, "no field to change"),
    "decimal-commas.csv": (1, "column C has values but no header"),
    "quoted-newlines.csv": (0, "2 rows, 2 valid"),
    "url-header.csv": (0, "1 rows, 1 valid"),
    "private-ids.csv": (1, "private id"),
    # A warning at validate: plan and apply refuse it only where the video is not yet
    # explicit (tests/test_real_sheets.py).
    "explicit-true.csv": (0, "--allow-irreversible"),
    "libreoffice.ods": (0, "1 rows, 1 valid"),
}
LARGE: dict[str, tuple[int, str]] = {
    "big-cell.csv": (1, "shorten it by"),
    "zip-bomb.xlsx": (2, "zip bomb"),
    "wide.csv": (2, "more than 1000 columns"),
}


def _xlsx(rows: list[list[object]], **options: object) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    hidden = options.get("hidden_first")
    if hidden:
        junk = book.add_worksheet("Old")
        junk.write_row(0, 0, ["nothing", "here"])
        junk.hide()
    sheet = book.add_worksheet("Edits")
    sheet.activate()
    start = int(options.get("first_row", 0))  # type: ignore[call-overload]
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(start + r, c, value)
    for cell, (formula, cached) in dict(options.get("formulas", {})).items():  # type: ignore[call-overload]
        sheet.write_formula(cell, formula, None, cached)
    for first, last, value in list(options.get("merge", [])):  # type: ignore[call-overload]
        sheet.merge_range(f"{first}:{last}", value)
    if options.get("date_ids"):
        fmt = book.add_format({"num_format": "yyyy-mm-dd"})
        sheet.write_number(1, 0, 45000, fmt)
    book.close()
    return _as_excel_saves(buffer.getvalue()) if options.get("formulas") else buffer.getvalue()


def _as_excel_saves(workbook: bytes) -> bytes:
    """The workbook as Excel saves it after calculating: xlsxwriter's "recalculate on load"
    flag dropped, so the cached formula values are the ones to read."""
    source, target = zipfile.ZipFile(io.BytesIO(workbook)), io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/workbook.xml":
                data = data.replace(b' fullCalcOnLoad="1"', b"")
            out.writestr(item, data)
    return target.getvalue()


def _ods(rows: list[list[str]]) -> bytes:
    import sys

    sys.path.insert(0, str(Path(__file__).parent.parent))
    from conftest import write_ods

    path = HERE / "_tmp.ods"
    write_ods(path, rows)
    data = path.read_bytes()
    path.unlink()
    return data


def small_files() -> dict[str, bytes]:
    entity = _xlsx([["video_id", "title"], ["x8abc12", "T"]])
    with zipfile.ZipFile(io.BytesIO(entity)) as source:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as target:
            for item in source.infolist():
                data = source.read(item)
                if item.filename == "xl/sharedStrings.xml":
                    data = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
                            + data.split(b"?>", 1)[1])
                target.writestr(item, data)
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    good = _xlsx([["video_id", "title"], ["x8abc12", "Fine"]])
    return {
        "empty.csv": b"",
        "blank-lines.csv": b"\r\n\r\n , \r\n",
        "bom-only.csv": b"\xef\xbb\xbf",
        "header-only.csv": b"video_id,title\r\n",
        "garbage.csv": bytes((i * 7919) % 256 for i in range(4096)),
        "png-named.xlsx": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
        "entity-bomb.xlsx": out.getvalue(),
        "truncated.xlsx": good[: len(good) // 2],
        "document.docx.xlsx": docx.getvalue(),
        "invalid-utf8.csv": "video_id,title\r\nx8abc12,Crème brûlée à Noël\r\n".encode("cp1252"),
        "nul-bytes.csv": b"video_id,title\r\nx8abc12,Bad\x00title\r\n",
        "control-chars.csv": b"video_id,title\r\nx8abc12,\x1b[31mred\r\n",
        "mixed-line-endings.csv": (HEAD + "x8abc12,A,a\nx8abc13,B,b\rx8abc14,C,c\r\n").encode(),
        "unbalanced-quote.csv": (HEAD + 'x8abc12,Fine,a\r\nx8abc13,"Never closed,b\r\n'
                                 "x8abc14,Lost,c\r\n").encode(),
        "formulas.csv": (HEAD + 'x8abc12,"=HYPERLINK(""http://evil"",""x"")",+summer\r\n'
                         "x8abc13,@SUM(1+1),-winter\r\n").encode(),
        "formulas.xlsx": _xlsx([["video_id", "title"], ["x8abc12", None]],
                               formulas={"B2": ('="Sum"&"mer"', "Summer")}),
        "merged-cells.xlsx": _xlsx([["video_id", "title", "description"],
                                    ["x8abc12", None, None], ["x8abc13", "T", "D"]],
                                   merge=[("B2", "C2", "Across two columns")]),
        "hidden-sheets.xlsx": _xlsx([["video_id", "title"], ["x8abc12", "Visible"]],
                                    hidden_first=True),
        "duplicate-headers.csv": b"video_id,title,Title\r\nx8abc12,a,b\r\n",
        "header-on-row-3.csv": b"December edits,,\r\nby Ana,,\r\nvideo_id,title,tags\r\n"
                               b"x8abc12,T,a\r\n",
        "header-on-row-3.xlsx": _xlsx([["December edits"], [], ["video_id", "title"],
                                       ["x8abc12", "T"]]),
        "ids-as-numbers.xlsx": _xlsx([["video_id", "title"], [123456, "T"]]),
        "date-typed-ids.xlsx": _xlsx([["video_id", "title"], [None, "T"]], date_ids=True),
        "ids-with-spaces-and-urls.csv": (HEAD + "  x8abc12  ,A,a\r\n"
                                         "https://www.dailymotion.com/video/x8abc13,B,b\r\n"
                                         "https://dai.ly/x8abc14,C,c\r\n"
                                         "dailymotion.com/video/x8abc15_slug,D,d\r\n").encode(),
        "unicode-text.csv": "video_id\ttitle\r\nx8abc12\t東京 ☃ 🎬\r\n".encode("utf-16"),
        "sep-hint.csv": b"sep=;\r\nvideo_id;title\r\nx8abc12;Semicolons\r\n",
        "extra-cells.csv": b"video_id,title\r\nx8abc12,T,,surprise\r\n",
        "results-sheet.csv": b"video_id,title,#status,#error\r\nx8abc12,T,failed,timeout\r\n",
        "unknown-column.csv": b"video_id,titel\r\nx8abc12,T\r\n",
        "only-ids.csv": b"video_id,# note\r\nx8abc12,hello\r\n",
        "decimal-commas.csv": b"video_id;geoloc\r\nx8abc12;-9,14; 38,71\r\n",
        "quoted-newlines.csv": (HEAD + 'x8abc12,"Line one\r\nLine two",a\r\n'
                                'x8abc13,"Say ""hi""",b\r\n').encode(),
        "url-header.csv": b"url,title\r\nhttps://dai.ly/x8abc12,T\r\n",
        "private-ids.csv": b"video_id,title\r\nk1KqUqDdmllgej374a2,T\r\n",
        "explicit-true.csv": b"video_id,explicit\r\nx8abc12,true\r\n",
        "libreoffice.ods": _ods([["video_id", "title"], ["x8abc12", "From LibreOffice"]]),
    }


def make_large(folder: Path) -> dict[str, Path]:
    """The cases too big to commit, written into `folder`."""
    paths = {name: folder / name for name in LARGE}
    paths["big-cell.csv"].write_bytes(b"video_id,description\r\nx8abc12,"
                                      + b"d" * (10 * 1024 * 1024) + b"\r\n")
    paths["wide.csv"].write_bytes(",".join(["video_id", *(f"c{i}" for i in range(20_000))])
                                  .encode() + b"\r\nx8abc12\r\n")
    with zipfile.ZipFile(io.BytesIO(_xlsx([["video_id"], ["x8abc12"]]))) as source, \
            zipfile.ZipFile(paths["zip-bomb.xlsx"], "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, source.read(item))
        with target.open("xl/media/padding.bin", "w", force_zip64=True) as padding:
            chunk = b"\0" * (1 << 20)
            for _ in range(300):  # 300 MB of zeros in about 300 KB
                padding.write(chunk)
    return paths


def legacy_and_password() -> None:
    import msoffcrypto.format.ooxml
    import openpyxl
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("Edits")
    for col, value in enumerate(["video_id", "title"]):
        sheet.write(0, col, value)
    sheet.write(1, 0, "x8abc12")
    sheet.write(1, 1, "Old format")
    book.save(str(HERE / "legacy.xls"))
    plain_book = openpyxl.Workbook()
    plain_book.active.append(["video_id", "title"])
    plain_book.active.append(["x8abc12", "Secret"])
    plain = io.BytesIO()
    plain_book.save(plain)
    plain.seek(0)
    encrypted = io.BytesIO()
    msoffcrypto.format.ooxml.OOXMLFile(plain).encrypt("s3cret", encrypted)
    (HERE / "password.xlsx").write_bytes(encrypted.getvalue())


if __name__ == "__main__":
    HERE.mkdir(exist_ok=True)
    for name, data in small_files().items():
        (HERE / name).write_bytes(data)
    try:
        legacy_and_password()
    except ImportError:
        print("legacy.xls and password.xlsx kept: pip install xlwt msoffcrypto-tool to remake")
