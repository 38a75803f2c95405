"""How a fixed rate (`--rate N`) answers throttles, through the dispatcher a run uses, on a
virtual clock: how long a throttled request waits, and when refusals are a limit that cuts
the rate (the summary's `rate.cuts`) rather than chance. Issue 28's sample of
core/policy.py found the jitter of a throttle's wait, the span of answers a slow rate
judges its refusals on, and a refusal judged against refusals long gone, all passing every
test."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from simulated import VirtualTimeLoop, run_virtual

from bulkedit.client.dispatch import Dispatcher, Job, JobResult
from bulkedit.core.errors import RateLimited
from bulkedit.core.policy import RetryPolicy
from bulkedit.core.protocol import HttpRequest

REFUSED = RateLimited("Too many requests", retry_after=None, status=429)


class ScriptedApi:
    """Answers each request from its script, one item per attempt (an error to raise or
    a value to return); notes when, on the virtual clock, each attempt was made."""

    def __init__(self, loop: VirtualTimeLoop, scripts: dict[str, list[Any]]):
        self.loop = loop
        self.scripts = {key: iter(script) for key, script in scripts.items()}
        self.sent: list[tuple[str, float]] = []

    async def send(self, request: HttpRequest) -> Any:
        self.sent.append((request.path, self.loop.time()))
        answer = next(self.scripts[request.path])
        if isinstance(answer, Exception):
            raise answer
        return answer


def run(scripts: dict[str, list[Any]], rate: float, *, concurrency: int = 1,
        draw: float = 0.5) -> tuple[list[JobResult], ScriptedApi, Dispatcher]:
    """The jobs of `scripts`, in order, at a fixed `rate` (0: no limit)."""

    async def main(loop: VirtualTimeLoop) -> tuple[list[JobResult], ScriptedApi, Dispatcher]:
        api = ScriptedApi(loop, scripts)
        dispatcher = Dispatcher(api, rate=rate or None, concurrency=concurrency,
                                policy=RetryPolicy(base_delay=0.5), clock=loop.time,
                                draw=lambda: draw)
        results: list[JobResult] = []
        jobs = (Job(name, HttpRequest("POST", name)) for name in scripts)
        await dispatcher.run(jobs, results.append)
        return results, api, dispatcher

    return run_virtual(main)


def gaps(api: ScriptedApi, key: str) -> list[float]:
    """The seconds between one job's attempts."""
    moments = [moment for name, moment in api.sent if name == key]
    return [later - earlier for earlier, later in itertools.pairwise(moments)]


def test_a_throttled_request_waits_half_its_backoff_and_the_draw_s_share_of_the_rest():
    """Equal jitter, as for a failure's retry: the wait after the n-th throttle in a row is
    backoff/2 + draw * backoff/2, backoff = 0.5 s doubled each time (never near zero, and
    up to the whole backoff: requests refused together spread over all of it)."""
    script = {"a": [REFUSED, REFUSED, REFUSED, "ok"]}
    for draw, waits in ((0.0, [0.25, 0.5, 1.0]), (0.75, [0.4375, 0.875, 1.75]),
                        (0.999, [0.49975, 0.9995, 1.999])):
        results, api, _ = run(script, 0, draw=draw)
        assert results[0].ok and results[0].attempts == 4
        assert gaps(api, "a") == pytest.approx(waits, abs=1e-6), draw


def test_a_slow_rate_judges_its_refusals_on_about_its_last_twenty_answers():
    """At 5/s the span of answers a throttle is judged on is 4 s (twenty answers), not the
    whole calm past: after 50 answers, three refusals in a row among the last 14 answers
    (18 %) are a limit, and the rate is cut; judged over 8 s (34 answers) they would be
    8 %, chance, and a limit that starts late in a slow run would go unseen."""
    scripts: dict[str, list[Any]] = {f"r{n:02d}": ["ok"] for n in range(50)}
    scripts["late"] = [REFUSED, REFUSED, REFUSED, "ok"]
    results, _, dispatcher = run(scripts, 5)
    assert all(result.ok for result in results) and len(results) == 51
    report = dispatcher.rate_report()
    assert report["mode"] == "fixed" and report["cuts"] == 1
    assert dispatcher.stats.rate_cuts == 1


def test_a_refusal_is_not_judged_with_refusals_whose_time_has_passed():
    """Two requests refused with Retry-After: 5 (too few to be a limit), and one of them
    refused again when it goes back 5 s later, with nothing answered between: one refusal
    in the last two seconds, not three. The rate stays, uncut."""
    later = RateLimited("Too many requests", retry_after=5, status=429)
    scripts: dict[str, list[Any]] = {"a": [later, REFUSED, "ok"], "b": [later, "ok"]}
    results, api, dispatcher = run(scripts, 10, concurrency=2)
    assert all(result.ok for result in results)
    assert [round(moment) for name, moment in api.sent if name == "a"][:2] == [0, 5]
    assert dispatcher.rate_report()["cuts"] == 0 and dispatcher.stats.rate_cuts == 0
    assert dispatcher.current_rate() == 10


def test_the_three_refusals_in_two_seconds_with_nothing_answered_are_a_limit():
    """The other side of the test above: the same refusals close together cut the rate."""
    scripts: dict[str, list[Any]] = {"a": [REFUSED, REFUSED, "ok"], "b": [REFUSED, "ok"]}
    results, _, dispatcher = run(scripts, 10, concurrency=2)
    assert all(result.ok for result in results)
    assert dispatcher.rate_report()["cuts"] == 1

