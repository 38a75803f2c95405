"""`--rate auto` (issue 16): the finder's decisions with plain values, then the real
dispatcher and aiolimiter against simulated APIs on a virtual clock (tests/simulated.py):
a hidden limit, a limit that changes, an API that queues instead of refusing."""

from __future__ import annotations

import pytest
from simulated import SimulatedApi, VirtualTimeLoop, run_virtual, schedule

from bulkedit.client.dispatch import Dispatcher, Job, JobResult
from bulkedit.core.autorate import MAX_RATE, START_RATE, RateFinder
from bulkedit.core.errors import RateLimited
from bulkedit.core.policy import RetryPolicy
from bulkedit.core.protocol import HttpRequest


def send_for(finder: RateFinder, start: float, seconds: float, latency: float = 0.05,
             share: float = 1.0) -> float:
    """Send at `share` of the finder's rate for `seconds`, every answer a success after
    `latency`; the moment it stopped."""
    now = start
    while now < start + seconds:
        rate = finder.rate(now) * share
        sent_rate = finder.sent(now)
        finder.answered(now + latency, now, sent_rate, latency)
        now += 1 / rate
    return now


# ----------------------------------------------------------------------------- decisions


def test_it_starts_at_the_safe_rate_and_doubles_each_time_a_rate_holds():
    finder = RateFinder(100.0)
    assert finder.rate(0.0) == START_RATE
    end = send_for(finder, 0.0, 1.3)
    assert finder.rate(end) == 2 * START_RATE and finder.good == START_RATE
    end = send_for(finder, end, 1.3)
    assert finder.rate(end) == 4 * START_RATE


def test_a_rate_the_run_does_not_use_teaches_nothing_and_is_not_raised():
    finder = RateFinder(100.0)
    end = send_for(finder, 0.0, 5.0, share=0.5)  # held back by its concurrency
    assert finder.rate(end) == START_RATE and finder.good is None


def test_the_rate_never_passes_the_ceiling():
    finder = RateFinder(15.0)
    end = send_for(finder, 0.0, 10.0)
    assert finder.rate(end) == 15.0 and MAX_RATE == 50.0


def refuse(finder: RateFinder, now: float, sent_at: float | None = None) -> bool:
    sent_at = now - 0.05 if sent_at is None else sent_at
    return finder.refused(now, sent_at, finder.current)


def test_a_refused_probe_steps_back_to_the_rate_that_held_and_nobody_else_waits():
    finder = RateFinder(100.0)
    end = send_for(finder, 0.0, 1.3)  # 10/s held
    end = send_for(finder, end, 0.5)  # now at 20/s
    assert finder.current == 20.0
    assert refuse(finder, end) is False
    assert finder.current >= 10.0 and finder.good == 10.0
    assert finder.bad is not None and finder.bad <= 20.0
    assert finder.changes[-1].why == "step back"


def test_what_the_api_took_in_the_last_second_is_where_the_search_goes_next():
    finder = RateFinder(100.0)
    end = send_for(finder, 0.0, 1.3)
    end = send_for(finder, end, 1.3)  # 20/s held
    end = send_for(finder, end, 1.1)  # 40/s for a second: the API took about 40
    refuse(finder, end)
    assert finder.current == pytest.approx(40 * 39 / 40, rel=0.06)  # not back to 20
    assert finder.bad == pytest.approx(finder.current * 1.05, rel=0.06)


def test_a_refusal_at_a_rate_that_held_means_the_limit_fell_and_everyone_waits():
    finder = RateFinder(100.0)
    end = send_for(finder, 0.0, 1.3)
    end = send_for(finder, end, 1.3)
    end = send_for(finder, end, 1.1)
    refuse(finder, end)  # settled at ~39
    end = send_for(finder, end + 1.5, 6.0)
    settled = finder.current
    assert refuse(finder, end, sent_at=end - 0.05) is True
    first = finder.current
    assert first < settled and finder.good is None and finder.changes[-1].why == "cut"
    # A second cut in a row does not trust the estimate: at least `decrease` off.
    end = send_for(finder, end + 1.2, 0.3)
    assert refuse(finder, end) is True
    assert finder.current <= first * 0.7 + 1e-9


def test_refusals_of_requests_sent_before_a_cut_or_just_after_are_not_counted_twice():
    finder = RateFinder(100.0)
    end = send_for(finder, 0.0, 1.3)
    end = send_for(finder, end, 0.5)
    refuse(finder, end)
    cuts, rate = finder.cuts, finder.current
    for late in (end - 0.5, end + 0.2, end + 0.9):  # sent before the cut, or in its settle
        assert finder.refused(end + 1.0, late, 20.0) is False
    assert (finder.cuts, finder.current) == (cuts, rate)


def test_settled_under_the_ceiling_it_probes_a_step_above_now_and_then():
    finder = RateFinder(100.0)
    end = send_for(finder, 0.0, 1.3)
    end = send_for(finder, end, 1.3)
    end = send_for(finder, end, 1.1)
    refuse(finder, end)
    end = send_for(finder, end, 1.3)  # the estimate held: settled
    settled = finder.good
    assert settled is not None
    settled_at = end
    end = send_for(finder, end, 1.0)
    assert finder.current == settled  # not yet: a probe every 3 s at the most
    send_for(finder, end, 2.5)
    probe = next(c for c in finder.changes if c.at > settled_at)
    assert probe.why == "probe" and probe.rate == pytest.approx(settled * 1.05)
    stepped_back = finder.changes[finder.changes.index(probe) - 1]
    assert stepped_back.why == "step back"
    assert 3.0 <= probe.at - stepped_back.at <= 3.2  # every 3 s (90 requests is less)


def test_probes_at_a_low_rate_are_spaced_by_requests_not_seconds():
    finder = RateFinder(100.0, start=4.0)
    end = send_for(finder, 0.0, 1.3)
    end = send_for(finder, end, 0.9)  # 8/s refused: settles near 4-8
    refuse(finder, end)
    end = send_for(finder, end, 1.5)
    settled_at = end
    end = send_for(finder, end, 8.0)
    probes = [c for c in finder.changes if c.why == "probe" and c.at > settled_at]
    # At about 5/s, 90 requests between probes is 18 s: none in these 8 s.
    assert probes == []


def test_a_probe_that_holds_lifts_the_ceiling_and_the_climb_resumes():
    finder = RateFinder(200.0)
    end = send_for(finder, 0.0, 1.3)
    end = send_for(finder, end, 0.5)
    refuse(finder, end)  # back to 10, ceiling just above the ~10-20 taken
    end = send_for(finder, end, 20.0)  # the API's limit rose meanwhile: nothing refused
    assert finder.bad is None and finder.current > 20.0
    assert any(c.why == "probe" for c in finder.changes)


def answer_with(finder: RateFinder, start: float, seconds: float,
                latency_of: object) -> float:
    now = start
    while now < start + seconds:
        rate = finder.rate(now)
        sent_rate = finder.sent(now)
        latency = latency_of(now)  # type: ignore[operator]
        finder.answered(now + latency, now, sent_rate, latency)
        now += 1 / rate
    return now


def test_latency_that_climbs_well_above_its_minimum_is_taken_for_queueing():
    finder = RateFinder(100.0)
    end = answer_with(finder, 0.0, 2.6, lambda _: 0.1)  # 10, then 20/s, unloaded
    before = finder.current
    assert before == 40.0
    answer_with(finder, end, 1.0, lambda t: 0.1 + (t - end) * 0.5)  # the queue grows
    change = finder.changes[-1]
    assert change.why == "queueing" and change.rate < before
    assert finder.cuts == 1


def test_latency_that_only_varies_is_not_queueing():
    import random

    draw = random.Random(3)
    finder = RateFinder(100.0)
    answer_with(finder, 0.0, 30.0, lambda _: 0.3 + draw.uniform(0, 0.2))
    assert finder.cuts == 0 and finder.current == 100.0


# ----------------------------------------------------------------------------- dispatcher


def dispatch(api_of, rate: object, jobs: int, **options: object
             ) -> tuple[SimulatedApi, Dispatcher, list[JobResult], float]:
    async def main(loop: VirtualTimeLoop):
        api = api_of(loop)
        dispatcher = Dispatcher(api, rate=rate, concurrency=8, clock=loop.time,  # type: ignore[arg-type]
                                policy=RetryPolicy(max_attempts=20, max_elapsed=1e9),
                                **options)  # type: ignore[arg-type]
        results: list[JobResult] = []
        await dispatcher.run((Job(i, HttpRequest("POST", f"/video/x{i}")) for i in range(jobs)),
                             results.append)
        return api, dispatcher, results, loop.time()

    return run_virtual(main)


def test_a_hidden_limit_is_found_and_held_with_few_refusals():
    api, dispatcher, results, end = dispatch(
        lambda loop: SimulatedApi(loop, schedule("0:37")), "auto", 3000)
    assert all(r.ok for r in results)
    assert api.throughput(15.0, end - 1) >= 0.90 * 37
    assert api.refused_share <= 0.02
    assert 35 <= dispatcher.rate_report()["found_per_second"] <= 40


def test_a_limit_that_halves_and_recovers_is_followed_within_ten_seconds():
    api, _dispatcher, results, end = dispatch(
        lambda loop: SimulatedApi(loop, schedule("0:40,60:15,120:40")), "auto", 5600)
    assert all(r.ok for r in results) and end > 150
    assert api.refused_share <= 0.03
    for change, limit in ((60, 15), (120, 40)):
        window = api.throughput(change + 10, change + 15)
        assert abs(window / limit - 1) <= 0.10, (change, window)


def test_an_api_that_queues_instead_of_refusing_is_held_below_its_knee():
    knee, unloaded = 30.0, 0.1
    api, _dispatcher, _results, end = dispatch(
        lambda loop: SimulatedApi(loop, latency=unloaded, jitter=0.01, knee=knee), "auto", 2400)
    assert api.refused_share == 0
    assert api.throughput(15.0, end - 1) >= 0.8 * knee
    assert api.latency_p95(15.0) <= 2 * (unloaded + 0.005)
    # A fixed rate above the knee is as fast, and every request waits in the queue.
    api, *_ = dispatch(
        lambda loop: SimulatedApi(loop, latency=unloaded, jitter=0.01, knee=knee), 100.0, 1200)
    assert api.latency_p95(5.0) > 2 * (unloaded + 0.005)


def test_a_refused_probe_does_not_stop_the_other_workers_but_a_fallen_limit_does():
    api, dispatcher, _, _ = dispatch(
        lambda loop: SimulatedApi(loop, schedule("0:37")), "auto", 1500)
    finder = dispatcher.finder
    assert finder is not None
    steps = [c.at for c in finder.changes if c.why == "step back"]
    assert steps, "the run never probed past the limit"
    sent = sorted(a.sent for a in api.answers)
    for moment in steps:  # requests kept leaving in the second after each step back
        assert any(moment < s < moment + 0.5 for s in sent)
    # The limit falls to 5 at 20 s: the first refusal at a rate that held pauses everyone
    # for its Retry-After (one second, at least).
    api, dispatcher, _results, _end = dispatch(
        lambda loop: SimulatedApi(loop, schedule("0:30,20:5")), "auto", 900)
    cut = next(c.at for c in dispatcher.finder.changes if c.why == "cut")  # type: ignore[union-attr]
    after = [s for s in sorted(a.sent for a in api.answers) if s > cut]
    assert after and after[0] >= cut + 0.95


def test_the_fixed_rate_is_untouched_by_auto():
    api, dispatcher, _results, end = dispatch(
        lambda loop: SimulatedApi(loop, schedule("0:37")), 10.0, 300)
    assert dispatcher.finder is None and api.refused_share == 0
    assert dispatcher.rate_report() == {"mode": "fixed", "per_second": 10.0, "cuts": 0}
    assert 9.0 <= api.throughput(5.0, end - 1) <= 10.0


def test_throttles_without_retry_after_are_survived_too():
    api, _dispatcher, results, end = dispatch(
        lambda loop: SimulatedApi(loop, schedule("0:37"), retry_after=False), "auto", 2000)
    assert all(r.ok for r in results)
    assert api.throughput(15.0, end - 1) >= 0.90 * 37 and api.refused_share <= 0.02


def test_rate_limited_answers_are_what_the_simulated_api_raises():
    async def main(loop: VirtualTimeLoop):
        api = SimulatedApi(loop, schedule("0:1"), latency=0.0, jitter=0.0)
        await api.send(HttpRequest("POST", "/a"))
        with pytest.raises(RateLimited) as caught:
            await api.send(HttpRequest("POST", "/b"))
        return caught.value

    error = run_virtual(main)
    assert error.status == 429 and error.retry_after == 1
