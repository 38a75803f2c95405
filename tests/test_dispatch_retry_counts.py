"""What the dispatcher counts, which the console's "N retries" and the summary's
`retries` / `rate_limited` show (run/runner.py), and a failure that is not a throttle
under `--rate auto`: retried like any other, and told to the rate finder as lost. Issue
28's sample found that a throttle counted as two retries, and a 5xx under --rate auto
crashing the run, passed every test."""

from __future__ import annotations

import asyncio
from typing import Any

from conftest import FakeClock

from bulkedit.client.connect import connect
from bulkedit.client.dispatch import Dispatcher, Job, JobResult
from bulkedit.client.transport import Credentials
from bulkedit.core.errors import NetworkError, PermanentError, RateLimited, ServerError
from bulkedit.core.policy import ApiLimits
from bulkedit.core.protocol import HttpRequest


class ScriptedApi:
    """Answers each request from its script, one item per attempt."""

    def __init__(self, scripts: dict[str, list[Any]]):
        self.scripts = {key: iter(script) for key, script in scripts.items()}

    async def send(self, request: HttpRequest) -> Any:
        answer = next(self.scripts[request.path])
        if isinstance(answer, Exception):
            raise answer
        return answer


def run(scripts: dict[str, list[Any]], limits: ApiLimits) -> tuple[list[JobResult],
                                                                   Dispatcher]:
    clock = FakeClock()
    results: list[JobResult] = []
    used: list[Dispatcher] = []

    async def go() -> None:
        async with connect(Credentials("k", "s"), "http://unused", limits,
                           sender=ScriptedApi(scripts), clock=clock, draw=lambda: 0.5,
                           sleep=clock.sleep) as dispatcher:
            used.append(dispatcher)
            jobs = (Job(name, HttpRequest("POST", name)) for name in scripts)
            await dispatcher.run(jobs, results.append)

    asyncio.run(go())
    return results, used[0]


def test_each_retry_is_counted_once_whatever_sent_it_again():
    scripts = {"a": [RateLimited("slow down", retry_after=None), "ok"],
               "b": [ServerError("busy", status=503), "ok"],
               "c": [RateLimited("slow down", retry_after=None),
                     RateLimited("slow down", retry_after=None), "ok"],
               "d": ["ok"]}
    results, dispatcher = run(scripts, ApiLimits(rate=0, concurrency=1, max_attempts=3))
    assert all(r.ok for r in results) and len(results) == 4
    stats = dispatcher.stats
    assert (stats.requests, stats.retries, stats.rate_limited) == (8, 4, 3)


def test_under_rate_auto_a_5xx_or_a_timeout_is_retried_and_the_row_goes_through():
    scripts = {"a": [ServerError("busy", status=503), "ok"],
               "b": [NetworkError("no answer within 30 s"), "ok"],
               "c": [PermanentError("no such video", status=404)],
               "d": ["ok"]}
    results, dispatcher = run(scripts, ApiLimits(rate="auto", concurrency=2,
                                                 max_attempts=3))
    by_key = {r.key: r for r in results}
    assert [by_key[k].ok for k in "abcd"] == [True, True, False, True]
    assert [by_key[k].attempts for k in "abcd"] == [2, 2, 1, 1]
    assert dispatcher.stats.retries == 2 and dispatcher.rate_report()["mode"] == "auto"
