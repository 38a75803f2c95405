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

Several accounts export into one sheet, one after the other, each through its own key and
limits (`ExportPart`); each row's `#account` cell names the account it came through, so
export → edit → apply routes every row back without a lookup (issue 30, point 5).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
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


@dataclass(frozen=True)
class ExportPart:
    """What one account exports, and the dispatcher (its key, its limits) it reads with."""

    dispatcher: Dispatcher
    selection: Selection
    account: str | None = None  # its #account cell; None: the sheet has no such column


def account_selections(selection: Selection, chosen: Sequence[tuple[str, Sequence[str]]]
                       ) -> list[tuple[str, Selection]]:
    """Each chosen account (name, its configured channels) with what it exports.

    One account exports what was asked, or its channels when nothing was. Several accounts
    each export the asked channels they list, or all their channels; ids need one account,
    since which account owns an id is not known before it is read. Anything that would
    leave a channel unexported, or read through an account that does not list it, is
    refused before anything is read."""
    if len(chosen) == 1:
        name, channels = chosen[0]
        if not selection.owners and not selection.ids:
            if not channels:
                raise UsageError(_nothing_asked)
            return [(name, _with_owners(selection, list(channels)))]
        return [(name, selection)]
    names = ", ".join(name for name, _ in chosen)
    if selection.ids:
        raise UsageError(f"--ids with several accounts ({names}): which account owns an id "
                         "is not known before it is read; export the ids through one account "
                         "(--account NAME), or export the accounts' channels (--owner, or "
                         "their configured channels)")
    if not selection.owners:
        bare = [name for name, channels in chosen if not channels]
        if bare:
            raise UsageError(f"[accounts.{bare[0]}] lists no channels, so exporting every "
                             f"chosen account ({names}) does not say what to export for it: "
                             "add its channels (channels = [\"x1abc\"]) or give --owner")
        return [(name, _with_owners(selection, list(channels))) for name, channels in chosen]
    owners: dict[str, list[str]] = {name: [] for name, _ in chosen}
    for owner in selection.owners:
        listing = [name for name, channels in chosen if owner in channels]
        if len(listing) != 1:
            said = (f"is listed by {' and '.join(listing)}" if listing
                    else "is in none of their channels")
            raise UsageError(f"--owner {owner} with several accounts ({names}): the channel "
                             f"{said}; say which account reads it: list it in that account's "
                             "channels only, or export it alone with --account NAME")
        owners[listing[0]].append(owner)
    return [(name, _with_owners(selection, owners[name])) for name, _ in chosen
            if owners[name]]


_nothing_asked = ("say which videos: --owner CHANNEL (several allowed) and/or --ids FILE, or "
                  "list the account's channels in the configuration")


def _with_owners(selection: Selection, owners: list[str]) -> Selection:
    return Selection(owners=owners, ids=list(selection.ids),
                     created_after=selection.created_after,
                     created_before=selection.created_before, private=selection.private)


class Exporter:
    """One export into one sheet: the parts one after another, no video written twice."""

    def __init__(self, dispatcher: Dispatcher, writer: SheetWriter,
                 progress: Callable[[int], None] | None = None, account: str | None = None):
        self.dispatcher = dispatcher
        self.account = account
        self.writer = writer
        self.progress = progress or (lambda _n: None)
        self.result = ExportResult()
        self._seen: set[str] = set()

    def through(self, part: ExportPart) -> None:
        """The next part reads through its own account's dispatcher."""
        self.dispatcher, self.account = part.dispatcher, part.account

    def _write(self, videos: Iterable[dict[str, Any]]) -> int:
        fresh = 0
        for video in videos:
            if not isinstance(video, dict) or video.get("id") in self._seen:
                continue
            self._seen.add(video["id"])
            self.writer.write(video, self.account)
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
    return await export_parts([ExportPart(dispatcher, selection)], writer, progress)


async def export_parts(parts: Sequence[ExportPart], writer: SheetWriter,
                       progress: Callable[[int], None] | None = None) -> ExportResult:
    """Every part into the one sheet, in order; the sheet is put in place only once all
    are read, so a failure in any part leaves the earlier file."""
    if not parts:
        raise UsageError(_nothing_asked)
    exporter = Exporter(parts[0].dispatcher, writer, progress, parts[0].account)
    try:
        for part in parts:
            exporter.through(part)
            await _export_one(exporter, part.selection)
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


async def _export_one(exporter: Exporter, selection: Selection) -> None:
    if selection.ids:
        await exporter.ids(selection.ids)
    for owner in selection.owners:
        try:
            await exporter.channel(owner, selection)
        except PermanentError as error:
            if error.status == 404:
                raise UsageError(f"no channel {owner}: check the --owner id") from None
            raise


def export_fields(requested: list[str] | None) -> list[FieldSpec]:
    from bulkedit.sheets.templates import template_fields

    return template_fields(requested)

