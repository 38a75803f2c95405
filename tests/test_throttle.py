"""The quota-window watch and the throttle budget (core/throttle.py), with literal times;
and through the dispatcher on a fake clock: a run that meets nothing but throttles stops
at the budget with every row not sent, none failed."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from conftest import FakeClock

from bulkedit.client.dispatch import Dispatcher, Job, JobResult
from bulkedit.core.errors import RateLimited, RunAborted
from bulkedit.core.protocol import HttpRequest
from bulkedit.core.throttle import QuotaWatch


def test_a_streak_of_throttles_over_a_second_is_a_quota_window():
    watch = QuotaWatch(streak=3, span=1.0, first_wait=1.0, max_wait=4.0, budget=100)
    assert watch.throttled(10.0, 0.0, None) is None
    assert watch.throttled(10.5, 0.0, None) is None
    hold = watch.throttled(11.0, 0.0, None)  # the third, a second after the first
    assert hold is not None and hold.kind == "hold" and hold.wait == 1.0
    assert "a quota window" in hold.notice and "waiting 1.0 s" in hold.notice
    assert watch.throttled(11.1, 0.0, None) is None  # not the probe: left before the hold
    waits = [watch.throttled(12.0 + i, 0.0, None, probe=True) for i in range(4)]
    assert [h.wait for h in waits if h] == [2.0, 4.0, 4.0, 4.0]  # doubled, at most 4
    assert watch.throttled(20.0, 0.0, 30, probe=True).wait == 30  # never below Retry-After
    assert "takes requests again" in (watch.answered(21.0) or "")
    assert not watch.holding and watch.windows == 1


def test_under_the_rate_finder_a_window_is_told_once_never_held():
    # --rate auto sends little into a spent window: four refusals in a row over a second
    # make it one, told when met and when it ends; nothing is held, no budget is used.
    watch = QuotaWatch(streak=10, span=1.0, budget=100)
    told = [watch.throttled(10.0 + i * 0.4, 0.0, None, paced=True) for i in range(6)]
    assert [t.kind if t else None for t in told] == [None, None, None, "paced", None, None]
    assert told[3].wait == 0.0 and "--rate auto sends little" in told[3].notice
    assert watch.held == 0.0 and watch.windows == 1 and not watch.exhausted
    assert "takes requests again after 2.0 s" in (watch.answered(12.0) or "")
    quick = QuotaWatch(streak=10, span=1.0)  # four in a row within a second: a rate limit
    assert [quick.throttled(10.0 + i * 0.1, 0.0, None, paced=True) for i in range(4)] == [
        None] * 4
    # ... unless the finder has seen the API take nothing through its own cut (issue 27):
    # it then sends too little for the refusals to span a second, and the window is told.
    spent = QuotaWatch(streak=10, span=1.0)
    told = [spent.throttled(10.0 + i * 0.1, 0.0, None, paced=True, spent=True)
            for i in range(4)]
    assert [t.kind if t else None for t in told] == [None, None, None, "paced"]


def test_successes_between_throttles_are_a_rate_limit_not_a_window():
    watch = QuotaWatch(streak=3, span=1.0)
    for moment in range(20):
        assert watch.throttled(float(moment), 0.0, None) is None
        watch.answered(moment + 0.5)
    assert watch.windows == 0


def test_the_budget_bounds_the_waiting():
    watch = QuotaWatch(streak=1, span=0.0, first_wait=10, max_wait=10, budget=25)
    assert watch.throttled(0.0, 0.0, None).kind == "hold"
    assert watch.throttled(10.0, 0.0, None, probe=True).kind == "hold"
    done = watch.throttled(20.0, 0.0, None, probe=True)  # 10 + 10 + 10 > 25
    assert done.kind == "exhausted" and watch.exhausted
    assert "throttle budget" in done.notice and "nothing failed" in done.notice


class Refusing:
    """Throttles every request, without Retry-After."""

    def __init__(self) -> None:
        self.sent = 0

    async def send(self, request: HttpRequest) -> Any:
        self.sent += 1
        raise RateLimited("Too many requests", retry_after=None)


def test_nothing_but_throttles_stops_at_the_budget_with_every_row_not_sent():
    clock, api = FakeClock(), Refusing()
    notices: list[str] = []
    results: list[JobResult] = []

    async def go() -> None:
        dispatcher = Dispatcher(api, rate=None, concurrency=1, clock=clock,
                                sleep=clock.sleep, draw=lambda: 0.5,
                                quota=QuotaWatch(budget=120), notify=notices.append)
        jobs = (Job(name, HttpRequest("POST", name)) for name in "abc")
        await dispatcher.run(jobs, results.append)

    with pytest.raises(RunAborted, match="throttle budget") as stopped:
        asyncio.run(go())
    assert "credentials" not in str(stopped.value)
    assert results == []  # the API took none: not sent, none failed
    assert any("a quota window" in notice for notice in notices)
    # Probes at growing intervals, not a request per worker per backoff.
    assert api.sent < 160 and clock.now <= 200  # about one probe a second
