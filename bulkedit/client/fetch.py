"""Read videos' current values in batches, through the run's dispatcher (DESIGN.md §1).

`GET /videos?ids=…&fields=…` with up to `batch_size` ids a call (100 by default, so
N videos cost ceil(N/100) calls), only the fields the sheet touches. Ids the API
does not return do not exist (for this key). If the API refuses a batch's size,
the batch is halved and the reading goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from bulkedit.client.dispatch import Dispatcher, Job, JobResult
from bulkedit.core import protocol
from bulkedit.core.errors import ApiError, PermanentError, RunAborted


@dataclass
class Reading:
    live: dict[str, dict[str, Any]] = field(default_factory=dict)  # by id: what was found
    failed: dict[str, ApiError] = field(default_factory=dict)  # ids whose read failed
    complete: bool = True  # False when the run stopped before every batch was read
    aborted: str | None = None  # the circuit breaker's reason, if it tripped
    calls: int = 0

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
    reading = Reading()
    batches = list(chunks(wanted, max(1, batch_size)))
    retry: list[list[str]] = []
    done = 0

    def on_read(outcome: JobResult) -> None:
        nonlocal done
        batch: list[str] = outcome.key
        reading.calls += outcome.attempts
        error = outcome.error
        if error is None:
            found = outcome.value.get("list", []) if isinstance(outcome.value, dict) else []
            for item in found:
                if isinstance(item, dict) and "id" in item:
                    reading.live[item["id"]] = item
            done += len(batch)
        elif isinstance(error, PermanentError) and error.status == 400 and len(batch) > 1:
            half = len(batch) // 2  # the API refused the batch size: halve it, go on
            retry.extend([batch[:half], batch[half:]])
        else:
            for video_id in batch:
                reading.failed[video_id] = error
            done += len(batch)
        if progress is not None:
            progress(done, len(wanted), len(reading.failed))

    while batches:
        jobs = [Job(batch, protocol.read_videos_request(batch, names)) for batch in batches]
        try:
            await dispatcher.run(jobs, on_read)
        except RunAborted as abort:
            reading.complete, reading.aborted = False, str(abort)
            return reading
        if dispatcher.stopping:
            reading.complete = False
            return reading
        batches = list(retry)
        retry.clear()
    return reading
