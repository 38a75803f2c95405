"""`bulkedit export`: live videos into a sheet that is itself a valid bulkedit input.

Videos come from channels (`GET /user/{owner}/videos`, 100 a page) or from a list
of ids (`GET /videos?ids=…`), through the same dispatcher as apply: rate limit,
retries, circuit breaker. A channel listing stops at 1,000 results, so a channel
is walked in windows of creation time: when a window is full, the next one ends
just after the oldest video seen (`created_before` = oldest + 1, which covers both
readings of "before"), and ids already written are skipped, so no video is missed
or written twice, even when several share a creation second.

Rows are written as they arrive (XLSX in openpyxl's write-only mode, or CSV), so
a 100,000-video export stays in bounded memory. Values are in the sheet grammar
(`cells.to_cell`); an empty value is a blank cell, which a later apply reads as
"keep", so an untouched export plans zero changes.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Any

from bulkedit import protocol
from bulkedit.cells import CLEAR_MARK, csv_safe, date_problems, parse_cell, to_cell
from bulkedit.dispatch import Dispatcher, Job, JobResult
from bulkedit.errors import PermanentError, RunAborted
from bulkedit.fetch import read_current
from bulkedit.planning import normal, resolve
from bulkedit.report import xlsx_text
from bulkedit.schema import ID_COLUMN, FieldSpec, Kind
from bulkedit.types import SetValue, Severity

RESULT_CAP = 1000  # the API returns at most 1,000 results per query
PAGE = 100


@dataclass
class Selection:
    owners: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    created_after: int | None = None
    created_before: int | None = None
    private: bool | None = None


@dataclass
class ExportResult:
    written: int = 0
    calls: int = 0
    windows: int = 0
    missing: list[str] = field(default_factory=list)  # asked-for ids the API did not return
    # Live values the sheet grammar cannot say, written blank ("keep"): field -> video ids.
    left_blank: dict[str, list[str]] = field(default_factory=dict)


class SheetWriter:
    """Rows to an XLSX (with the template's notes and dropdowns) or a CSV, as a stream."""

    def __init__(self, path: Path, specs: list[FieldSpec], tz: tzinfo):
        self.path = path
        self.specs = specs
        self.tz = tz
        self.headers = [ID_COLUMN, *(s.name for s in specs)]
        self.rows = 0
        # Live values the sheet grammar cannot say, left blank ("keep"): field -> video ids.
        self.left_blank: dict[str, list[str]] = {}
        self._csv = path.suffix.lower() == ".csv"
        if self._csv:
            self._handle = path.open("w", encoding="utf-8-sig", newline="")
            self._writer = csv.writer(self._handle)
            self._writer.writerow(self.headers)
        else:
            self._open_xlsx()

    def _open_xlsx(self) -> None:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.comments import Comment
        from openpyxl.styles import Font, PatternFill

        from bulkedit.templates import ID_NOTE, header_note

        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet("Videos")
        self._sheet.freeze_panes = "B2"
        self._cell = WriteOnlyCell
        font, fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="1F4E78")
        header = []
        notes = [ID_NOTE, *(header_note(s) for s in self.specs)]
        for name, note in zip(self.headers, notes, strict=True):
            cell = WriteOnlyCell(self._sheet, value=name)
            cell.font, cell.fill = font, fill
            cell.comment = Comment(note, "bulkedit", width=320, height=200)
            header.append(cell)
        from openpyxl.utils import get_column_letter

        for index in range(len(self.headers)):
            self._sheet.column_dimensions[get_column_letter(index + 1)].width = 24
        self._sheet.append(header)

    def write(self, video: dict[str, Any]) -> None:
        values = []
        for spec in self.specs:
            text, reason = _cell_text(spec, video.get(spec.name), self.tz)
            if reason is not None:
                self.left_blank.setdefault(spec.name, []).append(str(video.get("id")))
            values.append(text)
        if self._csv:
            self._writer.writerow([csv_safe(video["id"]), *(csv_safe(v) for v in values)])
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

    def close(self) -> None:
        if self._csv:
            self._handle.close()
            return
        from openpyxl.utils import get_column_letter

        from bulkedit.templates import dropdowns

        last = max(self.rows + 1, 2)
        self._sheet.auto_filter.ref = f"A1:{get_column_letter(len(self.headers))}{last}"
        rules = dropdowns(self.specs, 2, max(last, 1000))
        for rule in rules.rules:
            self._sheet.data_validations.append(rule)
        if rules.lists:
            lists = self._book.create_sheet("Lists")
            lists.sheet_state = "hidden"
            longest = max(len(choices) for _, choices in rules.lists)
            lists.append([name for name, _ in rules.lists])
            for row in range(longest):
                lists.append([choices[row] if row < len(choices) else None
                              for _, choices in rules.lists])
        self._book.save(self.path)


def _cell_text(spec: FieldSpec, value: Any, tz: tzinfo) -> tuple[str, str | None]:
    """The cell that says `value` in the sheet grammar, checked by reading it back as an
    apply would; blank ("keep") when it cannot say it, with the reason. So an export is a
    valid sheet that plans zero changes, whatever the live values hold."""
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


class Exporter:
    def __init__(self, dispatcher: Dispatcher, writer: SheetWriter,
                 progress: Callable[[int], None] | None = None):
        self.dispatcher = dispatcher
        self.writer = writer
        self.progress = progress or (lambda _n: None)
        self.result = ExportResult()
        self._seen: set[str] = set()

    def _write(self, videos: Iterable[dict[str, Any]]) -> int:
        fresh = 0
        for video in videos:
            if not isinstance(video, dict) or video.get("id") in self._seen:
                continue
            self._seen.add(video["id"])
            self.writer.write(video)
            fresh += 1
        self.result.written += fresh
        self.progress(self.result.written)
        return fresh

    async def _call(self, request: protocol.HttpRequest) -> Any:
        answers: list[JobResult] = []
        await self.dispatcher.run([Job(None, request)], answers.append)
        answer = answers[0]
        self.result.calls += answer.attempts
        if answer.error is not None:
            raise answer.error
        return answer.value

    async def channel(self, owner: str, selection: Selection) -> None:
        fields = sorted({*(s.name for s in self.writer.specs), "created_time"})
        before = selection.created_before
        while True:
            self.result.windows += 1
            oldest: int | None = None
            window = 0
            page, more = 1, True
            while more and page * PAGE <= RESULT_CAP:
                payload = await self._call(protocol.owner_videos_request(
                    owner, fields, page=page, limit=PAGE, created_after=selection.created_after,
                    created_before=before, private=selection.private))
                videos = payload.get("list", []) if isinstance(payload, dict) else []
                window += len(videos)
                for video in videos:
                    created = video.get("created_time")
                    if isinstance(created, int | float):
                        oldest = int(created) if oldest is None else min(oldest, int(created))
                self._write(videos)
                more = bool(payload.get("has_more")) if isinstance(payload, dict) else False
                page += 1
            if window < RESULT_CAP or oldest is None:
                return  # the window held everything left
            following = oldest + 1
            if before is not None and following >= before:
                raise RunAborted(f"more than {RESULT_CAP} videos of {owner} share one creation "
                                 "second; the API cannot list them all")
            before = following

    async def ids(self, ids: list[str]) -> None:
        names = [s.name for s in self.writer.specs]
        reading = await read_current(self.dispatcher, ids, names)
        self.result.calls += reading.calls
        if reading.aborted:
            raise RunAborted(reading.aborted)
        if reading.failed:
            error = next(iter(reading.failed.values()))
            raise error
        self._write(reading.live[i] for i in dict.fromkeys(ids) if i in reading.live)
        self.result.missing = [i for i in dict.fromkeys(ids) if i not in reading.live]


async def export(dispatcher: Dispatcher, selection: Selection, writer: SheetWriter,
                 progress: Callable[[int], None] | None = None) -> ExportResult:
    exporter = Exporter(dispatcher, writer, progress)
    try:
        if selection.ids:
            await exporter.ids(selection.ids)
        for owner in selection.owners:
            try:
                await exporter.channel(owner, selection)
            except PermanentError as error:
                if error.status == 404:
                    raise PermanentError(f"no channel {owner} (check the --owner id)",
                                         status=404) from None
                raise
    finally:
        writer.close()
    exporter.result.left_blank = writer.left_blank
    return exporter.result


def export_fields(requested: list[str] | None) -> list[FieldSpec]:
    from bulkedit.templates import template_fields

    return template_fields(requested)

