"""Regenerate the binary fixtures in tests/data/bad/ that need extra tools to make.

    pip install xlwt msoffcrypto-tool
    python tests/data/make_bad_files.py

The files are committed, so the test suite itself needs neither tool.
"""

from __future__ import annotations

import io
from pathlib import Path

import msoffcrypto.format.ooxml
import openpyxl
import xlwt

HERE = Path(__file__).parent / "bad"


def legacy_xls() -> None:
    book = xlwt.Workbook()
    sheet = book.add_sheet("Edits")
    for col, value in enumerate(["video_id", "title"]):
        sheet.write(0, col, value)
    sheet.write(1, 0, "x8abc12")
    sheet.write(1, 1, "Old format")
    book.save(str(HERE / "legacy.xls"))


def password_protected_xlsx() -> None:
    book = openpyxl.Workbook()
    book.active.append(["video_id", "title"])
    book.active.append(["x8abc12", "Secret"])
    plain = io.BytesIO()
    book.save(plain)
    plain.seek(0)
    encrypted = io.BytesIO()
    msoffcrypto.format.ooxml.OOXMLFile(plain).encrypt("s3cret", encrypted)
    (HERE / "password.xlsx").write_bytes(encrypted.getvalue())


if __name__ == "__main__":
    HERE.mkdir(exist_ok=True)
    legacy_xls()
    password_protected_xlsx()
