"""A throttled row's paths through the dispatcher, on the virtual clock: the retries the
console and the summary count while a quota window holds the run, a throttle's backoff
after a failure, and a row that failed once and was throttled when the run stopped.
Issue 28's second sample of client/dispatch.py found each of them passing every test."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
from simulated import VirtualTimeLoop, run_virtual

from bulkedit.client.dispatch import Dispatcher, Job, JobResult
from bulkedit.core.errors import NetworkError, PermanentError, RateLimited, ServerError
from bulkedit.core.policy import RetryPolicy
from bulkedit.core.protocol import HttpRequest

REFUSED = RateLimited("Too many requests", retry_after=None, status=429)


class ScriptedApi:
    """Answers each request from its script, one item per attempt (past its end: "ok");
    notes when, on the virtual clock, each attempt was made."""

    def __init__(self, loop: VirtualTimeLoop, scripts: dict[str, list[Any]]):
        self.loop = loop
        self.scripts = {key: iter(script) for key, script in scripts.items()}
        self.sent: list[tuple[str, float]] = []

    async def send(self, request: HttpRequest) -> Any:
        self.sent.append((request.path, self.loop.time()))
        answer = next(self.scripts[request.path], "ok")
        if isinstance(answer, Exception):
            raise answer
        return answer


def run(scripts: dict[str, list[Any]], *, rate: float | None = None, concurrency: int = 1,
        stop_at: float | None = None, notices: list[str] | None = None
        ) -> tuple[list[JobResult], ScriptedApi, Dispatcher]:
    async def main(loop: VirtualTimeLoop) -> tuple[list[JobResult], ScriptedApi, Dispatcher]:
        api = ScriptedApi(loop, scripts)
        dispatcher = Dispatcher(api, rate=rate, concurrency=concurrency, clock=loop.time,
                                policy=RetryPolicy(base_delay=0.5), draw=lambda: 0.5,
                                notify=(notices.append if notices is not None else None))
        if stop_at is not None:
            loop.call_later(stop_at, dispatcher.stop)
        results: list[JobResult] = []
        jobs = (Job(name, HttpRequest("POST", name)) for name in scripts)
        await dispatcher.run(jobs, results.append)
        return results, api, dispatcher

    return run_virtual(main)


def test_every_request_sent_again_is_a_retry_while_a_quota_window_holds_the_run():
    """A quota window (a dozen refusals in a row over more than a second) holds every
    worker and probes one request at a time; the requests refused while it holds are sent
    again like any other: the summary's `retries` is every request but each row's first."""
    notices: list[str] = []
    scripts: dict[str, list[Any]] = {f"r{n}": [REFUSED] * 6 for n in range(4)}
    results, api, dispatcher = run(scripts, concurrency=4, notices=notices)
    assert all(result.ok for result in results) and len(results) == 4
    assert any("a quota window" in notice for notice in notices)
    stats = dispatcher.stats
    assert stats.requests == len(api.sent) == 28
    assert stats.retries == stats.requests - len(scripts) == 24
    assert stats.rate_limited == 24


def test_a_throttle_after_a_failure_starts_its_backoff_again():
    """Throttles in a row grow the wait (0.375, 0.75 s...); a failure between them (a 503)
    ends the row of throttles: the next throttle waits the first backoff again."""
    busy = ServerError("busy", status=503)
    results, api, _ = run({"a": [REFUSED, REFUSED, busy, REFUSED, "ok"]})
    assert results[0].ok and results[0].attempts == 5
    moments = [moment for _, moment in api.sent]
    waits = [later - earlier for earlier, later in itertools.pairwise(moments)]
    assert waits == pytest.approx([0.375, 0.75, 0.375, 0.375], abs=1e-6)


def test_a_row_that_failed_and_was_throttled_when_the_run_stopped_keeps_its_failure():
    """A timeout may have reached the API: a row that timed out, then was refused with a
    throttle until the run was stopped, ends `failed` with its timeout (it may have been
    applied), never `not sent` as if the API had taken none of its requests; a row only
    ever throttled is not sent (no outcome)."""
    timeout = NetworkError("no answer within 30 s")
    scripts: dict[str, list[Any]] = {"a": [timeout] + [REFUSED] * 50,
                                     "b": [REFUSED] * 50}
    results, _, dispatcher = run(scripts, concurrency=2, stop_at=5.0)
    assert dispatcher.stopping
    assert [(r.key, r.ok, type(r.error).__name__) for r in results] == [
        ("a", False, "NetworkError")]
    assert str(results[0].error) == "no answer within 30 s"


class QuotaSpentUntil:
    """Refuses every request (429, Retry-After: 1) until `until`, then takes them all;
    each answer 50 ms after its request."""

    def __init__(self, loop: VirtualTimeLoop, until: float):
        self.loop, self.until = loop, until

    async def send(self, request: HttpRequest) -> Any:
        await asyncio.sleep(0.05)
        if self.loop.time() < self.until:
            raise RateLimited("Too many requests", retry_after=1, status=429)
        return "ok"


def test_with_no_rate_limit_only_the_probe_s_answer_extends_a_quota_window():
    """`--rate 0`, 8 workers, a quota spent for 8 s: the first refusals' Retry-After pauses
    every worker, then all eight go at once, and the window is met while some of them are
    still on their way. Their refusals left before the window was seen: they are not the
    probe's answer. One "still refuses" notice per probe, a second apart, and the summary's
    held seconds are the probes' waits (1 s, then 1 s each), not four more."""

    async def main(loop: VirtualTimeLoop) -> tuple[Dispatcher, list[JobResult], list[str]]:
        notices: list[str] = []
        dispatcher = Dispatcher(QuotaSpentUntil(loop, 8.0), rate=None, concurrency=8,
                                clock=loop.time, draw=lambda: 0.5, notify=notices.append,
                                policy=RetryPolicy(base_delay=0.5))
        results: list[JobResult] = []
        jobs = (Job(n, HttpRequest("POST", f"/video/x{n}")) for n in range(30))
        await dispatcher.run(jobs, results.append)
        return dispatcher, results, notices

    dispatcher, results, notices = run_virtual(main)
    assert len(results) == 30 and all(result.ok for result in results)
    still = [notice for notice in notices if notice.startswith("the API still refuses")]
    assert len(still) == 6 and len(set(still)) == 6  # each at its own moment
    report = dispatcher.rate_report()
    assert report["quota_windows"] == 1 and report["held_seconds"] == 7.0


def test_verbose_says_each_retry_what_came_back_and_what_happens_next():
    """`--verbose` (the dispatcher's `detail`): one line per retry, the request, the
    status when there is one, the API's message, and when it goes again."""
    said: list[str] = []
    scripts: dict[str, list[Any]] = {
        "/video/a": [ServerError("busy", status=503), "ok"],
        "/video/b": [NetworkError("no answer within 30 s"), "ok"],
        "/video/c": [REFUSED, REFUSED, "ok"],
        "/video/d": [RateLimited("Too many requests", retry_after=0.05, status=429), "ok"]}

    async def main(loop: VirtualTimeLoop) -> list[JobResult]:
        dispatcher = Dispatcher(ScriptedApi(loop, scripts), rate=None, concurrency=1,
                                clock=loop.time, policy=RetryPolicy(base_delay=0.5),
                                draw=lambda: 0.5, detail=said.append)
        results: list[JobResult] = []
        await dispatcher.run((Job(n, HttpRequest("POST", n)) for n in scripts),
                             results.append)
        return results

    assert all(result.ok for result in run_virtual(main))
    assert said == [
        "POST /video/a: 503 busy; attempt 2 of 6 in 0.4 s",
        "POST /video/b: no answer within 30 s; attempt 2 of 6 in 0.4 s",
        "POST /video/c: 429 Too many requests; throttled; again in 0.4 s",
        "POST /video/c: 429 Too many requests; throttled; again in 0.8 s",
        "POST /video/d: 429 Too many requests; throttled; again in 0.4 s"]


def test_a_403_that_goes_away_on_a_retry_was_throttling_and_cuts_a_fixed_rate():
    """A 403 without a word of rate, which goes through when tried again, was the API
    slowing the run down: the fixed rate is cut (the summary's `rate.cuts`), as for a 429."""
    denied = PermanentError("Access denied", status=403, type="access_forbidden")
    scripts: dict[str, list[Any]] = {f"r{n}": [denied, "ok"] for n in range(4)}
    results, _, dispatcher = run(scripts, rate=10.0, concurrency=4)
    assert all(result.ok for result in results)
    assert dispatcher.rate_report()["cuts"] >= 1 and dispatcher.stats.rate_cuts >= 1
