"""Read videos' current values in batches, through the run's dispatcher (DESIGN.md §1).

`GET /videos?ids=…&fields=…` with up to `batch_size` ids a call (100 by default, so
N videos cost ceil(N/100) calls), only the fields the sheet touches. Where the real API
may be less kind than its docs, the reading degrades instead of failing:
  * a 400 naming a field it will not read drops that field (one extra call, not a
    halving cascade): its live value is UNKNOWN, and the plan says so;
  * an id a listing leaves out (a private video may be hidden from listings) is read
    alone, `GET /video/{id}`, before it is called not found;
  * an answer cut short (`ids=` silently truncated) lowers the batch size for the rest;
  * a 400 to the batch itself halves it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from bulkedit.client.dispatch import Dispatcher, Job, JobResult
from bulkedit.core import protocol
from bulkedit.core.errors import ApiError, PermanentError, RunAborted
from bulkedit.core.types import UNKNOWN


@dataclass
class Reading:
    live: dict[str, dict[str, Any]] = field(default_factory=dict)  # by id: what was found
    failed: dict[str, ApiError] = field(default_factory=dict)  # ids whose read failed
    complete: bool = True  # False when the run stopped before every batch was read
    aborted: str | None = None  # the circuit breaker's reason, if it tripped
    calls: int = 0
    unreadable: list[str] = field(default_factory=list)  # fields the API would not read
    batch_size: int = 0  # the size the reading ended with (lowered on a cut or a refusal)

    def was_read(self, video_id: str) -> bool:
        """Read (found or not found): the answer about this id is known."""
        return self.complete or video_id in self.live


def chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


async def read_current(dispatcher: Dispatcher, ids: Iterable[str], fields: Iterable[str],
                       batch_size: int = 100,
                       progress: Callable[[int, int, int], None] | None = None) -> Reading:
    """The current values of `fields` for every id, as far as the run gets."""
    wanted = list(dict.fromkeys(ids))
    names = sorted(set(fields))
    reading = Reading(batch_size=max(1, batch_size))
    batches = list(chunks(wanted, reading.batch_size))
    retry: list[list[str]] = []
    alone: list[str] = []  # left out of a listing: read one by one before "not found"
    done = 0

    def on_read(outcome: JobResult) -> None:
        nonlocal done, names
        batch: list[str] = outcome.key
        reading.calls += outcome.attempts
        error = outcome.error
        if error is None:
            found = outcome.value.get("list", []) if isinstance(outcome.value, dict) else []
            got = [item["id"] for item in found if isinstance(item, dict) and "id" in item]
            for item in found:
                if isinstance(item, dict) and "id" in item:
                    reading.live[item["id"]] = item
            missing = [i for i in batch if i not in reading.live]
            cut = len(got) if missing and got and batch[:len(got)] == got else 0
            # One id missing at the end is as cheap to read alone as again in a batch.
            if cut and len(missing) == len(batch) - cut and len(missing) > 1:
                # The answer stops after the first `cut` ids: the API truncates `ids=`.
                reading.batch_size = min(reading.batch_size, cut)
                retry.extend(chunks(missing, reading.batch_size))
            else:
                alone.extend(missing)
            done += len(batch) - len(missing)
        elif isinstance(error, PermanentError) and (
                field_name := protocol.refused_read_field(error, names)) is not None:
            names = [n for n in names if n != field_name]  # read the rest without it
            reading.unreadable.append(field_name)
            retry.append(batch)
        elif isinstance(error, PermanentError) and error.status == 400 and len(batch) > 1:
            half = len(batch) // 2  # the API refused the batch size: halve it, go on
            retry.extend([batch[:half], batch[half:]])
            reading.batch_size = min(reading.batch_size, len(batch) - half)
        else:
            for video_id in batch:
                reading.failed[video_id] = error
            done += len(batch)
        if progress is not None:
            progress(done, len(wanted), len(reading.failed))

    def on_alone(outcome: JobResult) -> None:
        nonlocal done, names
        video_id: str = outcome.key
        reading.calls += outcome.attempts
        error = outcome.error
        if error is None and isinstance(outcome.value, dict):
            reading.live[video_id] = outcome.value
        elif isinstance(error, PermanentError) and (
                field_name := protocol.refused_read_field(error, names)) is not None:
            names = [n for n in names if n != field_name]
            reading.unreadable.append(field_name)
            alone.append(video_id)
            return
        elif error is not None and not (isinstance(error, PermanentError)
                                        and error.status == 404):
            reading.failed[video_id] = error
        done += 1  # read, or not found: a 404 alone is an answer
        if progress is not None:
            progress(done, len(wanted), len(reading.failed))

    while batches or alone:
        # Built as they are sent, so that a field dropped meanwhile is not asked again.
        jobs = (Job(batch, protocol.read_videos_request(batch, names)) for batch in batches)
        singles = (Job(i, protocol.read_video_request(i, names)) for i in list(alone))
        alone.clear()
        try:
            await dispatcher.run(jobs, on_read)
            await dispatcher.run(singles, on_alone)
        except RunAborted as abort:
            reading.complete, reading.aborted = False, str(abort)
            return _mark_unknown(reading)
        if dispatcher.stopping:
            reading.complete = False
            return _mark_unknown(reading)
        batches = list(retry)
        retry.clear()
    return _mark_unknown(reading)


def _mark_unknown(reading: Reading) -> Reading:
    for video in reading.live.values():
        for name in reading.unreadable:
            video[name] = UNKNOWN
    return reading
