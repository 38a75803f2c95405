"""A quota window at a fixed rate (or none), through the dispatcher on a fake clock: every
worker is held, one probe at a time goes at the wait the window's notice says, and the
first answer that is not a throttle ends the hold (core/throttle.py, issue 26). Issue 28's
sample found that nothing checked *when* the probes go: a hold whose probe left at once
(or never), or a notice that never reached the caller, passed every test."""

from __future__ import annotations

import asyncio
from itertools import pairwise
from typing import Any

import pytest
from conftest import FakeClock

from bulkedit.client.dispatch import Dispatcher, Job, JobResult
from bulkedit.core.errors import RateLimited
from bulkedit.core.protocol import HttpRequest
from bulkedit.core.throttle import QuotaWatch

REOPENS = 6.0  # the fake clock's second at which the spent window reopens
FIRST_WAIT = 0.5
MAX_WAIT = 1.0


class SpentWindow:
    """Refuses every request (429, no Retry-After) until REOPENS, then takes them; notes
    when each request was sent, on the fake clock."""

    def __init__(self, clock: FakeClock, turns: int = 1) -> None:
        self.clock = clock
        self.turns = turns
        self.sent: list[float] = []

    async def send(self, request: HttpRequest) -> Any:
        self.sent.append(self.clock.now)
        for _ in range(self.turns):  # the other workers run meanwhile, as on a network
            await asyncio.sleep(0)
        if self.clock.now < REOPENS:
            raise RateLimited("Too many requests", retry_after=None)
        return "ok"


def run(rows: int = 6, concurrency: int = 4, turns: int = 1
        ) -> tuple[list[JobResult], SpentWindow, list[tuple[int, str]], Dispatcher]:
    """The results, the API, and each notice with the number of requests sent before it."""
    clock = FakeClock()
    api = SpentWindow(clock, turns)
    notices: list[tuple[int, str]] = []
    results: list[JobResult] = []
    quota = QuotaWatch(streak=3, span=1.0, first_wait=FIRST_WAIT, max_wait=MAX_WAIT,
                       budget=600)
    dispatcher = Dispatcher(api, rate=None, concurrency=concurrency, clock=clock,
                            sleep=clock.sleep, draw=lambda: 0.5, quota=quota,
                            notify=lambda notice: notices.append((len(api.sent), notice)))

    async def go() -> None:
        jobs = (Job(n, HttpRequest("POST", f"/video/x{n}")) for n in range(rows))
        # A guard, not a measure: a broken hold waits for ever on the fake clock.
        await asyncio.wait_for(dispatcher.run(jobs, results.append), 30)

    asyncio.run(go())
    return results, api, notices, dispatcher


@pytest.mark.parametrize(("rows", "concurrency", "turns"), [(6, 4, 1), (10, 8, 0)])
def test_a_held_run_sends_one_probe_at_a_time_at_the_waits_it_announces(
        rows, concurrency, turns):
    results, api, told, dispatcher = run(rows, concurrency, turns)
    notices = [notice for _, notice in told]
    assert sorted(r.key for r in results) == list(range(rows)) and all(r.ok for r in results)
    met = [n for n in notices if "a quota window" in n]
    assert len(met) == 1 and "waiting 0.5 s before trying again with one request" in met[0]
    assert any("the API takes requests again after" in n for n in notices)
    assert dispatcher.notices == notices  # what the caller heard is what the run kept
    assert dispatcher.rate_report()["quota_windows"] == 1
    # From the hold on, requests go one at a time: each refused one is a probe, told
    # with the wait before the next, which leaves no sooner; the first probe sent after
    # the window reopened ends the hold.
    still = [n for n in notices if n.startswith("the API still refuses every request")]
    first_ok = next(i for i, t in enumerate(api.sent) if t >= REOPENS)
    held_at = next(sent for sent, notice in told if "a quota window" in notice)
    # No request that had not left yet goes out before the first probe: every one sent
    # after the window was met, until it reopened, is a probe.
    assert first_ok - held_at == len(still) > 0, (told, api.sent)
    probes = api.sent[held_at:first_ok + 1]
    gaps = [b - a for a, b in pairwise(probes)]
    assert min(gaps) >= FIRST_WAIT - 1e-9, api.sent
    assert dispatcher.rate_report()["held_seconds"] >= sum(gaps) - MAX_WAIT
    assert len(api.sent) < 40, api.sent  # not a request per worker per backoff

def test_the_window_notice_reaches_the_caller_and_no_notify_is_fine():
    clock = FakeClock()
    api = SpentWindow(clock)

    async def go() -> Dispatcher:
        dispatcher = Dispatcher(api, rate=None, concurrency=2, clock=clock,
                                sleep=clock.sleep, draw=lambda: 0.5,
                                quota=QuotaWatch(streak=3, span=1.0, budget=600))
        jobs = (Job(n, HttpRequest("POST", f"/video/x{n}")) for n in range(3))
        await asyncio.wait_for(dispatcher.run(jobs, lambda result: None), 30)
        return dispatcher

    dispatcher = asyncio.run(go())  # notify=None: the notices are kept, nothing raises
    assert any("a quota window" in n for n in dispatcher.notices)


class WindowSpentAfter:
    """Takes the first `quota` requests, then refuses every one (429, no Retry-After)
    until REOPENS; notes each request as it leaves: when, and whether a quota hold was on
    (then it must be the hold's probe)."""

    def __init__(self, clock: FakeClock, quota: int) -> None:
        self.clock = clock
        self.quota = quota
        self.sent: list[tuple[float, str]] = []
        self.dispatcher: Dispatcher | None = None

    async def send(self, request: HttpRequest) -> Any:
        self.sent.append((self.clock.now, request.path))
        if len(self.sent) > self.quota and self.clock.now < REOPENS:
            raise RateLimited("Too many requests", retry_after=None)
        return "ok"


@pytest.mark.parametrize("concurrency", [4, 8, 16])
def test_requests_let_through_at_a_fixed_rate_wait_for_a_hold_met_before_they_leave(
        concurrency):
    """At a fixed rate the gate lets a request through before its worker resumes; a quota
    window met meanwhile (another worker's answer) must hold it too. Before the fix, at
    1,000/s with 8 workers, 5 requests left into the just-met window at once, beside the
    probe: throttled, each a request wasted."""
    clock = FakeClock()
    api = WindowSpentAfter(clock, quota=40)
    told: list[tuple[int, str]] = []
    quota = QuotaWatch(streak=3, span=0.0, first_wait=FIRST_WAIT, max_wait=MAX_WAIT,
                       budget=600)
    dispatcher = Dispatcher(api, rate=1000, concurrency=concurrency, clock=clock,
                            sleep=clock.sleep, draw=lambda: 0.5, quota=quota,
                            notify=lambda notice: told.append((len(api.sent), notice)))
    results: list[JobResult] = []

    async def go() -> None:
        jobs = (Job(n, HttpRequest("POST", f"/video/x{n}")) for n in range(80))
        await asyncio.wait_for(dispatcher.run(jobs, results.append), 30)

    asyncio.run(go())
    assert sorted(r.key for r in results) == list(range(80)) and all(r.ok for r in results)
    held_at = next(sent for sent, notice in told if "a quota window" in notice)
    first_ok = next(i for i, (t, _) in enumerate(api.sent) if t >= REOPENS)
    # From the window's notice to the first request taken, only probes left: one at a
    # time, each at least the announced wait after the one before.
    probes = [t for t, _ in api.sent[held_at:first_ok + 1]]
    gaps = [b - a for a, b in pairwise(probes)]
    assert len(probes) >= 2 and min(gaps) >= FIRST_WAIT - 1e-9, api.sent[held_at:]
    still = [n for _, n in told if n.startswith("the API still refuses every request")]
    assert first_ok - held_at == len(still), (told, api.sent[held_at:])
