"""`bulkedit doctor`: what this key can do on this API, found with a few read-only calls.

Before a first real run: is the token granted, with which scopes; which of the schema's
fields the API reads for this key; how many ids one `GET /videos?ids=` answers in full;
how fast it answers; whether the key's videos read as a verified partner's (so Pro
fields are likely allowed); and what `--rate` and `--batch-size` to start with. It never
writes, so the tier is a hint: only a write proves it, which the canary of `apply` does.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from bulkedit.client.transport import DailymotionClient
from bulkedit.core import protocol
from bulkedit.core.errors import ApiError, PermanentError
from bulkedit.core.schema import FIELDS, Access

PROBE_IDS = (100, 101, 150)  # the ids= sizes tried: the documented 100, and beyond


@dataclass
class Checkup:
    api_base: str
    token: bool = False
    scopes: list[str] = field(default_factory=list)
    missing_scopes: list[str] = field(default_factory=list)
    videos_seen: int = 0
    readable: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    pro: bool | None = None  # the videos' owner reads as a verified partner (Pro fields)
    ids_maximum: int | None = None  # the most ids answered in full
    ids_note: str = ""
    hidden_from_listings: int = 0  # of the key's videos, left out of an ids= read
    latency_ms: float | None = None
    calls: int = 0
    problems: list[str] = field(default_factory=list)
    recommend_rate: float = 5.0
    recommend_batch_size: int = 100

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


async def checkup(client: DailymotionClient, api_base: str) -> Checkup:
    """Read-only calls only: the token, one listing, field reads, ids= sizes."""
    result = Checkup(api_base)
    timings: list[float] = []

    async def call(request: protocol.HttpRequest) -> Any:
        started = time.perf_counter()
        try:
            return await client.send(request)
        finally:
            timings.append(time.perf_counter() - started)
            result.calls += 1

    token = await client.tokens.granted()
    result.token = True
    result.scopes = sorted(token.scope.split())
    result.missing_scopes = [s for s in protocol.SCOPES if s not in result.scopes]
    listing = await call(protocol.owner_videos_request("me", [], limit=100))
    ids = [v["id"] for v in listing.get("list", []) if isinstance(v, dict) and "id" in v] \
        if isinstance(listing, dict) else []
    more = await call(protocol.owner_videos_request("me", [], page=2, limit=100)) \
        if isinstance(listing, dict) and listing.get("has_more") else {}
    ids += [v["id"] for v in (more.get("list", []) if isinstance(more, dict) else [])
            if isinstance(v, dict) and "id" in v]
    result.videos_seen = len(ids)
    if not ids:
        result.problems.append("the key's channel has no video to read: field and ids= "
                               "checks skipped")
    else:
        await _fields(call, ids[0], result)
        await _tier(call, ids[0], result)
        await _ids_maximum(call, ids, result)
    if result.hidden_from_listings:
        result.problems.append(
            f"{result.hidden_from_listings} of the key's videos were left out of an ids= "
            "read (private or unpublished ones, perhaps): bulkedit reads such videos one "
            "by one, a call each")
    if timings:
        result.latency_ms = round(statistics.median(timings) * 1000, 1)
    result.recommend_batch_size = result.ids_maximum or 100
    return result


async def _fields(call: Any, video_id: str, result: Checkup) -> None:
    asked = [s.name for s in FIELDS.values() if s.access is not Access.REFUSED
             and s.name != "password"]
    while asked:
        try:
            await call(protocol.read_videos_request([video_id], asked))
            result.readable = sorted(asked)
            return
        except PermanentError as error:
            name = protocol.refused_read_field(error, asked)
            if name is None:
                result.problems.append(f"reading fields failed: {error}")
                return
            result.unreadable.append(name)
            asked = [n for n in asked if n != name]


async def _tier(call: Any, video_id: str, result: Checkup) -> None:
    """Pro fields (geoblocking, publish and expiry dates) need a verified partner: the
    read-only `partner` and `verified` fields of the key's own video say whether it is
    one. A hint, not a proof: only a write shows it (the canary of `apply`)."""
    try:
        answer = await call(protocol.read_videos_request([video_id], ["partner", "verified"]))
    except ApiError:
        return
    videos = answer.get("list", []) if isinstance(answer, dict) else []
    if videos and isinstance(videos[0], dict):
        flags = [videos[0].get("partner"), videos[0].get("verified")]
        if any(isinstance(flag, bool) for flag in flags):
            result.pro = any(flag is True for flag in flags)


async def _ids_maximum(call: Any, ids: list[str], result: Checkup) -> None:
    for size in PROBE_IDS:
        if size > len(ids):
            result.ids_note = (f"only {len(ids)} videos to try with: answered in full up to "
                               f"{result.ids_maximum or len(ids)}")
            if result.ids_maximum is None:
                try:
                    answer = await call(protocol.read_videos_request(ids, ["id"]))
                    if len(answer.get("list", [])) == len(ids):
                        result.ids_maximum = len(ids)
                except ApiError:
                    pass
            return
        try:
            answer = await call(protocol.read_videos_request(ids[:size], ["id"]))
        except PermanentError as error:
            result.ids_note = f"{size} ids refused ({error.message})"
            return
        got = [v.get("id") for v in answer.get("list", []) if isinstance(v, dict)] \
            if isinstance(answer, dict) else []
        if len(got) < size and got == ids[:len(got)]:
            result.ids_note = f"{size} ids asked, the answer stops after {len(got)}: cut short"
            result.ids_maximum = result.ids_maximum or len(got)
            return
        if len(got) < size:  # scattered gaps: videos a listing hides, not a cut
            result.hidden_from_listings = max(result.hidden_from_listings, size - len(got))
        result.ids_maximum = size
    result.ids_note = f"answered {PROBE_IDS[-1]} ids in full"
