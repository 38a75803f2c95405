"""`bulkedit export`: live videos into a sheet that is itself a valid bulkedit input.

Videos come from channels (`GET /user/{owner}/videos`, 100 a page) or from a list
of ids (`GET /videos?ids=…`), through the same dispatcher as apply: rate limit,
retries, circuit breaker. A channel listing stops at 1,000 results, so a channel
is walked in windows of creation time: when a window is full, the next one ends
just after the oldest video seen (`created_before` = oldest + 1, which covers both
readings of "before"), and ids already written are skipped, so no video is missed
or written twice, even when several share a creation second.

Rows are written as they arrive (sheets/export_sheet.py), so a 100,000-video export
stays in bounded memory; an untouched export plans zero changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from bulkedit.client.dispatch import Dispatcher, Job, JobResult
from bulkedit.client.fetch import read_current
from bulkedit.core import protocol
from bulkedit.core.errors import PermanentError, RunAborted, UsageError
from bulkedit.core.schema import FieldSpec
from bulkedit.sheets.export_sheet import SheetWriter
from bulkedit.sheets.files import disk_problem

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
                    raise UsageError(f"no channel {owner}: check the --owner id") from None
                raise
    except OSError as exc:  # the export file's disk (full, failing): the old file stays
        writer.discard()
        raise disk_problem(exc, writer.path) or exc from None
    except BaseException:
        writer.discard()
        raise
    try:
        writer.close()
    except OSError as exc:
        raise disk_problem(exc, writer.path) or exc from None
    exporter.result.left_blank = writer.left_blank
    return exporter.result


def export_fields(requested: list[str] | None) -> list[FieldSpec]:
    from bulkedit.sheets.templates import template_fields

    return template_fields(requested)

