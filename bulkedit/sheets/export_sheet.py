"""The sheet an export writes: live videos as rows of a valid bulkedit input.

Rows are written as they arrive (XLSX in openpyxl's write-only mode, or CSV), so a
100,000-video export stays in bounded memory. Values are in the sheet grammar
(`cells.to_cell`), each checked by reading it back; an empty value is a blank cell, which
a later apply reads as "keep", so an untouched export plans zero changes.
"""

from __future__ import annotations

import contextlib
import csv
from datetime import tzinfo
from pathlib import Path
from typing import Any

from bulkedit.core.cells import CLEAR_MARK, csv_safe, date_problems, parse_cell, to_cell
from bulkedit.core.planning import normal, resolve
from bulkedit.core.routing import ACCOUNT_COLUMN
from bulkedit.core.schema import ID_COLUMN, FieldSpec, Kind
from bulkedit.core.types import SetValue, Severity, UnknownValue
from bulkedit.sheets.files import AtomicFile, spooled_beside
from bulkedit.sheets.report import OWN_MARK, xlsx_text


class SheetWriter:
    """Rows to an XLSX (with the template's notes and dropdowns) or a CSV, as a stream."""

    def __init__(self, path: Path, specs: list[FieldSpec], tz: tzinfo,
                 account_column: bool = False):
        self.path = path
        self.specs = specs
        self.tz = tz
        # An export through named accounts says, in the last column, which account each
        # row came through: the routing column an apply reads (core/routing.py). Last, so
        # the fields' columns (and their dropdowns) stay where a one-account export has them.
        self.account_column = account_column
        self.headers = [ID_COLUMN, *(s.name for s in specs),
                        *([ACCOUNT_COLUMN] if account_column else [])]
        self.rows = 0
        # Live values the sheet grammar cannot say, left blank ("keep"): field -> video ids.
        self.left_blank: dict[str, list[str]] = {}
        self._csv = path.suffix.lower() == ".csv"
        # Written beside the target and renamed over it only when the export is complete:
        # a failed or killed export leaves the earlier file, never a partial sheet.
        self._file = AtomicFile(path)
        if self._csv:
            self._handle = self._file.path.open("w", encoding="utf-8-sig", newline="")
            self._writer = csv.writer(self._handle)
            # Its cells' leading apostrophes are Excel escapes: the mark says so to a later
            # apply (report.OWN_MARK), so the export plans zero changes.
            self._writer.writerow([*self.headers, OWN_MARK])
        else:
            with spooled_beside(path):  # openpyxl's spool beside the export, not in $TMPDIR
                self._open_xlsx()

    def _open_xlsx(self) -> None:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.comments import Comment
        from openpyxl.styles import Font, PatternFill

        from bulkedit.sheets.templates import ACCOUNT_NOTE, ID_NOTE, header_note

        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet("Videos")
        self._sheet.freeze_panes = "B2"
        self._cell = WriteOnlyCell
        font, fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="1F4E78")
        header = []
        notes = [ID_NOTE, *(header_note(s) for s in self.specs),
                 *([ACCOUNT_NOTE] if self.account_column else [])]
        for name, note in zip(self.headers, notes, strict=True):
            cell = WriteOnlyCell(self._sheet, value=name)
            cell.font, cell.fill = font, fill
            cell.comment = Comment(note, "bulkedit", width=320, height=200)
            header.append(cell)
        from openpyxl.utils import get_column_letter

        for index in range(len(self.headers)):
            self._sheet.column_dimensions[get_column_letter(index + 1)].width = 24
        self._sheet.append(header)

    def write(self, video: dict[str, Any], account: str | None = None) -> None:
        values = []
        for spec in self.specs:
            text, reason = _cell_text(spec, video.get(spec.name), self.tz)
            if reason is not None:
                self.left_blank.setdefault(spec.name, []).append(str(video.get("id")))
            values.append(text)
        if self.account_column:
            if account is None:
                raise ValueError("a sheet with an #account column needs each row's account")
            values.append(account)
        if self._csv:
            self._writer.writerow([csv_safe(video["id"]), *(csv_safe(v) for v in values), ""])
        else:
            cells = []
            for value in (video["id"], *values):
                cell = self._cell(self._sheet, value=xlsx_text(value))
                cell.data_type = "s"  # text, never a number, a date or a formula
                if value is video["id"]:
                    cell.number_format = "@"
                cells.append(cell)
            self._sheet.append(cells)
        self.rows += 1

    def discard(self) -> None:
        """The export failed or was stopped: remove what was written, keep the earlier
        file. openpyxl's writer is ended first: left to the garbage collector, it would
        write its closing tags into a closed spool and print a traceback at exit."""
        if self._csv:
            self._handle.close()
        else:
            with contextlib.suppress(Exception):
                self._sheet.close()
        self._file.discard()

    def close(self) -> None:
        """The export is complete: put it in place."""
        if self._csv:
            self._handle.close()
            self._file.commit()
            return
        from openpyxl.utils import get_column_letter

        from bulkedit.sheets.templates import dropdowns

        last = max(self.rows + 1, 2)
        self._sheet.auto_filter.ref = f"A1:{get_column_letter(len(self.headers))}{last}"
        rules = dropdowns(self.specs, 2, max(last, 1000))
        for rule in rules.rules:
            self._sheet.data_validations.append(rule)
        with spooled_beside(self.path):
            self._save_xlsx(rules.lists)

    def _save_xlsx(self, choices: list[tuple[str, list[str]]]) -> None:
        if choices:
            lists = self._book.create_sheet("Lists")
            lists.sheet_state = "hidden"
            longest = max(len(items) for _, items in choices)
            lists.append([name for name, _ in choices])
            for row in range(longest):
                lists.append([items[row] if row < len(items) else None
                              for _, items in choices])
        try:
            self._book.save(self._file.path)
        except BaseException:
            self._file.discard()
            raise
        self._file.commit()


def _cell_text(spec: FieldSpec, value: Any, tz: tzinfo) -> tuple[str, str | None]:
    """The cell that says `value` in the sheet grammar, checked by reading it back as an
    apply would; blank ("keep") when it cannot say it, with the reason. So an export is a
    valid sheet that plans zero changes, whatever the live values hold."""
    if isinstance(value, UnknownValue):
        return "", "the API would not read it"
    text = to_cell(spec, value, tz)
    if text == CLEAR_MARK:
        # Blank means "keep" to a later apply; an empty value needs no word, but a value
        # that is itself "[]" (a title, say) would read as "clear it".
        return "", None if normal(spec, value) in (None, frozenset(), ("allow", frozenset())) \
            else "[] reads as 'clear'"
    change, problems = parse_cell(spec, text, tz)
    if isinstance(change, SetValue) and spec.kind is Kind.DATE:
        problems += date_problems(spec, int(change.value), 0)  # type: ignore[arg-type]
    errors = [p.message for p in problems if p.severity is Severity.ERROR]
    if errors or change is None:
        return "", errors[0] if errors else "unreadable"
    if normal(spec, resolve(spec, change, value)) != normal(spec, value):
        return "", "it would not read back the same"
    return text, None
