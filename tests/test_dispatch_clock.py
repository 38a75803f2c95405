"""The dispatcher on a fake clock: retries, Retry-After pauses, the time bound and the
breaker, decided exactly and at once, through the same factory every command uses."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import FakeClock

from bulkedit.client.connect import connect
from bulkedit.client.dispatch import Job, JobResult
from bulkedit.client.transport import Credentials
from bulkedit.core.errors import (
    CredentialsRejected,
    PermanentError,
    RateLimited,
    RunAborted,
    ServerError,
)
from bulkedit.core.policy import ApiLimits, RetryPolicy
from bulkedit.core.protocol import HttpRequest


class ScriptedApi:
    """Answers each request from its script, one item per attempt: an error to raise or a
    value to return; notes when (on the fake clock) each attempt was made."""

    def __init__(self, clock: FakeClock, scripts: dict[str, list[Any]]):
        self.clock = clock
        self.scripts = {key: iter(script) for key, script in scripts.items()}
        self.sent: list[tuple[str, float]] = []

    async def send(self, request: HttpRequest) -> Any:
        self.sent.append((request.path, self.clock.now))
        answer = next(self.scripts[request.path])
        if isinstance(answer, Exception):
            raise answer
        return answer


def jobs(*names: str) -> Iterator[Job]:
    return (Job(name, HttpRequest("POST", name)) for name in names)


def run(scripts: dict[str, list[Any]], limits: ApiLimits, **options: Any
        ) -> tuple[list[JobResult], ScriptedApi, FakeClock]:
    clock = FakeClock()
    api = ScriptedApi(clock, scripts)
    results: list[JobResult] = []

    async def go() -> None:
        async with connect(Credentials("k", "s"), "http://unused", limits, sender=api,
                           clock=clock, draw=lambda: 0.5, sleep=clock.sleep,
                           **options) as dispatcher:
            await dispatcher.run(jobs(*scripts), results.append)

    asyncio.run(go())
    return results, api, clock


def test_transient_failures_are_retried_with_the_policy_s_delays():
    limits = ApiLimits(rate=0, concurrency=1, max_attempts=6, backoff=0.5)
    error = ServerError("busy", status=503)
    results, api, clock = run({"a": [error, error, "ok"]}, limits)
    assert results[0].value == "ok" and results[0].attempts == 3
    policy = RetryPolicy(max_attempts=6, base_delay=0.5)
    expected = [policy.delay(error, 1, 0.0, 0.5), policy.delay(error, 2, 0.375, 0.5)]
    assert clock.slept == expected == [0.375, 0.75]
    assert [moment for _, moment in api.sent] == [0.0, 0.375, 1.125]


def test_permanent_errors_are_not_retried():
    results, _, clock = run({"a": [PermanentError("no", status=400)]},
                              ApiLimits(rate=0, concurrency=1))
    assert results[0].error is not None and results[0].attempts == 1 and clock.slept == []


def test_retry_after_pauses_every_worker():
    limited = RateLimited("slow down", retry_after=7)
    results, api, _ = run({"a": [limited, "ok"], "b": ["ok"], "c": ["ok"]},
                              ApiLimits(rate=0, concurrency=1))
    assert all(r.ok for r in results)
    assert [moment for _, moment in api.sent] == [0.0, 7.0, 7.0, 7.0]  # nobody before 7 s


def test_retrying_stops_at_the_time_bound():
    error = ServerError("down", status=502)
    results, _, clock = run({"a": [error] * 10}, ApiLimits(rate=0, concurrency=1,
                                                           max_attempts=10, backoff=4),
                            max_elapsed=10)
    # Equal jitter at the middle draw: 3 s, then 6 s; the next, 12 s, would pass 10 s.
    assert results[0].error is error and results[0].attempts == 3
    assert clock.slept == [3.0, 6.0] and clock.now == 9.0


def test_the_breaker_stops_the_run_and_says_why():
    rejected = CredentialsRejected("invalid_client", status=401)
    with pytest.raises(RunAborted, match="invalid_client"):
        run({name: [rejected] for name in "abcdefgh"}, ApiLimits(rate=0, concurrency=2))


def test_a_run_of_same_kind_failures_trips_the_threshold():
    error = ServerError("down", status=503)
    scripts = {name: [error] for name in "abcdefghij"}
    with pytest.raises(RunAborted, match="3 calls in a row failed"):
        run(scripts, ApiLimits(rate=0, concurrency=1, max_attempts=1), breaker_threshold=3)


# ----------------------------------------------------------------------------- disguised throttling

def test_a_plain_403_that_goes_away_is_throttling_and_becomes_known():
    """Dailymotion's limits are undocumented: a 403 with no word of rate is tried once
    more; when the retry goes through it was throttling (the rate is cut), and the same
    403 is then retried as a rate limit."""
    denied = PermanentError("Access denied", status=403, type="access_forbidden")
    scripts = {"a": [denied, "ok"], "b": [denied, denied, denied, "ok"]}
    limits = ApiLimits(rate=10, concurrency=1, max_attempts=6, backoff=0.5)
    results, _, _ = run(scripts, limits)
    assert [r.ok for r in results] == [True, True]  # no row failed
    assert [r.attempts for r in results] == [2, 4]  # b: known by then, retried on


def test_a_403_that_answers_the_same_twice_is_the_rows_own_refusal():
    denied = PermanentError("You are not allowed to edit this video", status=403,
                            type="access_forbidden")
    results, _, clock = run({"a": [denied, denied]}, ApiLimits(rate=0, concurrency=1))
    assert results[0].error is denied and results[0].attempts == 2 and len(clock.slept) == 1


def test_the_disguised_throttle_decisions():
    from bulkedit.core.policy import DisguisedThrottle

    detector = DisguisedThrottle(confirm_after=2, pattern=3, patience=4)
    denied = PermanentError("Access denied", status=403, type="access_forbidden")
    assert detector.worth_a_retry(denied, 1) and not detector.worth_a_retry(denied, 2)
    assert not detector.worth_a_retry(PermanentError("bad", status=400), 1)
    assert not detector.worth_a_retry(RateLimited("slow", retry_after=None, status=403), 1)
    for row in ("r1", "r2", "r3"):  # the same 403 on three rows: the throttling pattern
        detector.observe(denied, row)
    assert detector.worth_a_retry(denied, 3) and not detector.worth_a_retry(denied, 4)
    signature = detector.signature(denied)
    assert signature is not None and not detector.recovered(signature)
    assert detector.recovered(signature) and detector.is_throttle(denied)
    other = PermanentError("Something else", status=403)
    assert not detector.is_throttle(other)


def test_a_stop_during_a_long_wait_at_the_gate_ends_the_run_without_sending():
    """A Retry-After of an hour (an hourly quota) or a rate of one an hour: a stop must not
    wait for it. The jobs not yet started are not sent, nor the throttled one: a throttle
    is never a failure, and the API took none of its requests."""
    import time as real_time

    from bulkedit.client.dispatch import Dispatcher

    class Api:
        def __init__(self) -> None:
            self.sent: list[str] = []
            self.refused = asyncio.Event()

        async def send(self, request: HttpRequest) -> Any:
            self.sent.append(request.path)
            if len(self.sent) == 1:
                self.refused.set()
                raise RateLimited("quota", retry_after=3600)
            return "ok"

    async def scenario() -> tuple[Api, list[JobResult], float]:
        api = Api()
        dispatcher = Dispatcher(api, rate=0.0003, concurrency=2,  # one an hour
                                policy=RetryPolicy(max_attempts=1))
        results: list[JobResult] = []
        started = real_time.monotonic()
        running = asyncio.ensure_future(dispatcher.run(jobs("a", "b", "c"), results.append))
        await api.refused.wait()  # "a" answered 429 (Retry-After: an hour), all wait
        dispatcher.stop()
        await asyncio.wait_for(running, 10)  # not an hour
        return api, results, real_time.monotonic() - started

    api, results, took = asyncio.run(scenario())
    assert api.sent == ["a"] and results == []  # "a" throttled: not sent, not failed
    assert took < 5
