"""The dispatcher when its caller's callbacks fail (issue 28, point 4): a journal that
cannot record a result (a full disk) stops the run at once — no new job is started by
any worker, the requests in flight finish, and the caller gets the callback's own error."""

from __future__ import annotations

import asyncio
import errno
from typing import Any

import pytest

from bulkedit.client.connect import connect
from bulkedit.client.dispatch import Job, JobResult
from bulkedit.client.transport import Credentials
from bulkedit.core.policy import ApiLimits
from bulkedit.core.protocol import HttpRequest

NAMES = [f"job{n:02d}" for n in range(40)]


class YieldingApi:
    """Answers every request "ok", after giving the other workers a turn, as a real
    request would; notes the order of sends."""

    def __init__(self, events: list[tuple[str, str]]):
        self.events = events

    async def send(self, request: HttpRequest) -> Any:
        self.events.append(("send", request.path))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return "ok"


def run_with_failing(which: str, fail_on: str) -> tuple[list[tuple[str, str]], BaseException]:
    events: list[tuple[str, str]] = []
    full = OSError(errno.ENOSPC, "No space left on device")

    def on_start(job: Job) -> None:
        if which == "on_start" and job.key == fail_on:
            events.append(("failed", job.key))
            raise full
        events.append(("start", job.key))

    def on_result(result: JobResult) -> None:
        if which == "on_result" and result.key == fail_on:
            events.append(("failed", result.key))
            raise full
        events.append(("result", result.key))

    async def go() -> None:
        limits = ApiLimits(rate=0, concurrency=4, max_attempts=1)
        async with connect(Credentials("k", "s"), "http://unused", limits,
                           sender=YieldingApi(events)) as dispatcher:
            await dispatcher.run((Job(n, HttpRequest("POST", n)) for n in NAMES), on_result,
                                 on_start=on_start)

    with pytest.raises(OSError) as raised:
        asyncio.run(go())
    return events, raised.value


@pytest.mark.parametrize("which", ["on_result", "on_start"])
def test_a_failing_callback_stops_every_worker_and_its_error_reaches_the_caller(which):
    events, error = run_with_failing(which, fail_on="job05")
    assert error.errno == errno.ENOSPC
    failed_at = events.index(("failed", "job05"))
    after = events[failed_at + 1:]
    # Requests already in flight finish (their results are still recorded), but no
    # worker starts or sends another job.
    assert [kind for kind, _ in after if kind in ("start", "send")] == []
    assert len([e for e in events if e[0] == "send"]) < len(NAMES) // 2
    if which == "on_start":  # the job whose start could not be recorded is never sent
        assert ("send", "job05") not in events
