"""A quota window's probe that gets no answer that says anything (a 5xx, a timeout): the
next probe goes after the same wait the window's notice announced, not at once (issue 28's
seed-28 sample of client/dispatch.py: `clock() + probe_lost()` turned into `clock()` passed
every test). On the fake clock of tests/conftest.py, through the real dispatcher."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from conftest import FakeClock

from bulkedit.client.dispatch import Dispatcher, Job, JobResult
from bulkedit.core.errors import NetworkError, RateLimited, ServerError
from bulkedit.core.protocol import HttpRequest
from bulkedit.core.throttle import QuotaWatch

REOPENS = 6.0  # the fake clock's second at which the spent window reopens
FIRST_WAIT = 0.5


class LostProbe:
    """Refuses every request (429, no Retry-After) until REOPENS, then takes them; the
    first request sent once the run is held (the first probe) gets `lost` instead."""

    def __init__(self, clock: FakeClock, lost: Exception) -> None:
        self.clock = clock
        self.lost = lost
        self.sent: list[float] = []
        self.held = False  # the quota window's notice was told
        self.lost_at: int | None = None  # which request was the lost probe

    async def send(self, request: HttpRequest) -> Any:
        self.sent.append(self.clock.now)
        await asyncio.sleep(0)  # the other workers run meanwhile, as on a network
        if self.held and self.lost_at is None:
            self.lost_at = len(self.sent) - 1
            raise self.lost
        if self.clock.now < REOPENS:
            raise RateLimited("Too many requests", retry_after=None)
        return "ok"


@pytest.mark.parametrize("lost", [ServerError("Service unavailable", status=503),
                                  NetworkError("no answer within 30 s")])
@pytest.mark.parametrize("concurrency", [1, 4])
def test_after_a_lost_probe_the_next_one_waits_the_announced_wait(lost, concurrency):
    clock = FakeClock()
    api = LostProbe(clock, lost)
    notices: list[str] = []

    def told(notice: str) -> None:
        notices.append(notice)
        api.held = api.held or "a quota window" in notice

    dispatcher = Dispatcher(api, rate=None, concurrency=concurrency, clock=clock,
                            sleep=clock.sleep, draw=lambda: 0.0, notify=told,
                            quota=QuotaWatch(streak=3, span=1.0, first_wait=FIRST_WAIT,
                                             max_wait=1.0, budget=600))
    results: list[JobResult] = []

    async def go() -> None:
        jobs = (Job(n, HttpRequest("POST", f"/video/x{n}")) for n in range(6))
        # A guard, not a measure: a broken hold waits for ever on the fake clock.
        await asyncio.wait_for(dispatcher.run(jobs, results.append), 30)

    asyncio.run(go())
    assert sorted(r.key for r in results) == list(range(6)) and all(r.ok for r in results)
    met = [n for n in notices if "a quota window" in n]
    assert len(met) == 1 and f"waiting {FIRST_WAIT} s before trying again" in met[0]
    assert api.lost_at is not None, api.sent
    # The lost probe said nothing of the window: the next request is the next probe,
    # sent after the same wait, not at once (nor a request per worker).
    assert api.sent[api.lost_at + 1] - api.sent[api.lost_at] >= FIRST_WAIT - 1e-9, api.sent
