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


def sent(finder: RateFinder, moment: float) -> None:
    """A request leaves at `moment` and is answered at once (the finder judges a rate by
    its answers: one never answered holds nothing)."""
    rate = finder.sent(moment)
    finder.answered(moment, moment, rate, 0.0)


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
    assert finder.rate(end) == 15.0
    assert MAX_RATE == 1000.0  # a safety cap, far above what the search finds on its own


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
    settled = finder.good  # (it may be probing above it)
    assert settled is not None
    assert finder.refused(end, end - 0.05, settled) is True
    first = finder.current
    assert first < settled and finder.good is None and finder.changes[-1].why == "cut"
    # The first refusal at the rate the cut chose may be chance (issue 27): it alone goes
    # again. Another close behind it is a limit the cut did not clear: a second cut in a
    # row, which does not trust the estimate: at least `decrease` off.
    end = send_for(finder, end + 1.7, 0.3)  # the API took little of the last second
    assert refuse(finder, end) is False and finder.current == first
    assert refuse(finder, end + 0.03, end - 0.02) is True
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
    stepped_back = finder.changes[-1]
    assert stepped_back.why == "step back"
    send_for(finder, end, 10.0)
    probe = next(c for c in finder.changes if c.why == "probe")
    # At about 5/s, 90 requests between probes is 18 s; but never more than 6 s (a spent
    # quota's window may have ended meanwhile).
    assert 6.0 <= probe.at - stepped_back.at <= 6.5


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


# ----------------------------------------------------------------------------- the parts


def test_stamps_count_half_open_intervals_in_any_order_and_forget_the_old():
    from bulkedit.core.autorate import _Stamps

    stamps = _Stamps(horizon=10.0)
    for moment in (1.0, 2.0, 3.0, 2.5, 0.5):  # answers come back out of order
        stamps.add(moment)
    assert stamps.oldest() == 0.5
    assert stamps.count(1.0, 3.0) == 3  # 1.0, 2.0, 2.5: [begin, end)
    assert stamps.count(0.0, 10.0) == 5 and stamps.count(3.0, 3.0) == 0
    stamps.add(11.0)  # 0.5 is now older than the horizon
    assert stamps.oldest() == 1.0 and stamps.count(0.0, 20.0) == 5
    stamps.add(12.0)
    assert stamps.oldest() == 2.0  # 1.0 < 12 - 10 is forgotten, 2.0 is kept
    many = _Stamps(horizon=1.0)
    for step in range(5000):  # compaction keeps the counts right
        many.add(step / 1000)
    assert many.count(3.999, 5.0) == 1001 and many.oldest() == pytest.approx(3.999)
    assert _Stamps(1.0).oldest() is None


def test_a_finder_needs_a_ceiling_and_keeps_its_start_and_floor_inside_it():
    with pytest.raises(ValueError, match="ceiling"):
        RateFinder(0)
    assert RateFinder(0.001).rate(0.0) == 0.001
    small = RateFinder(3.0)
    assert small.current == 3.0 and small.floor == 0.5 and small.found is None  # none held
    assert RateFinder(0.3).floor == 0.3


def test_a_rate_used_at_three_quarters_holds_and_below_it_does_not():
    finder = RateFinder(100.0)
    send_for(finder, 0.0, 1.3, share=0.8)
    assert finder.good == START_RATE
    finder = RateFinder(100.0)
    send_for(finder, 0.0, 5.0, share=0.7)
    assert finder.good is None


def test_a_rate_holds_after_exactly_the_hold_time():
    finder = RateFinder(100.0, hold=1.0)
    for step in range(11):  # 10/s from 0.0 to 1.0
        sent(finder, step / 10)
    assert finder.rate(0.999) == START_RATE
    assert finder.rate(1.0) == 2 * START_RATE


def test_the_estimate_is_that_seconds_sends_less_its_refusals():
    finder = RateFinder(200.0, start=50.0)
    for step in range(60):  # 50/s for 1.2 s, all answered
        sent(finder, step / 50)
    assert finder.rate(1.2) == 100.0  # held: doubled
    for step in range(60, 160):  # 100/s for a second: the API takes 70 of them
        sent(finder, 1.2 + (step - 60) / 100)
    for step in range(130, 160):
        finder._refusals.add(1.2 + (step - 60) / 100)
    finder.refused(2.25, 2.195, 100.0)
    # The 100 sends of [1.195, 2.195) less their 30 refusals: the API took 70.
    assert finder.current == pytest.approx(70.0)
    assert finder.bad == pytest.approx(70 * 1.05)


def test_no_estimate_without_a_whole_second_of_history():
    finder = RateFinder(100.0)
    sent(finder, 0.0)
    sent(finder, 0.5)
    assert finder.refused(0.6, 0.55, 10.0) is True  # nothing held yet: a cut
    assert finder.current == pytest.approx(7.0)  # decrease 0.7: no estimate to go by
    assert finder.bad == 10.0


def test_a_cut_at_once_after_another_is_multiplicative_and_floored_at_a_third():
    finder = RateFinder(100.0, start=40.0)
    for step in range(200):
        sent(finder, step / 40)
    finder.refused(5.0, 4.99, 40.0)  # first cut: trusts the estimate, at most 5 % off
    first = finder.current
    assert first == pytest.approx(40 * 0.95)
    for step in range(100):  # the API took only 5 of the last second's 100
        sent(finder, 6.0 + step / 100)
        if step >= 10:  # [6.05, 7.05) holds 95 sends and 90 refusals
            finder._refusals.add(6.0 + step / 100)
    finder.refused(7.1, 7.05, first)  # a second cut in a row: 0.7, and no lower than 0.343
    assert finder.current == pytest.approx(first * 0.7 ** 3)
    assert finder.good is None and finder.changes[-1].why == "cut"


def test_a_refusal_right_at_the_end_of_the_settle_second_counts():
    finder = RateFinder(100.0)
    end = send_for(finder, 0.0, 1.3)
    end = send_for(finder, end, 0.5)
    refuse(finder, end)
    cut_at = finder.changes[-1].at
    cuts = finder.cuts
    assert finder.refused(cut_at + 1.5, cut_at + 1.0, finder.current) is False  # a probe
    assert finder.cuts == cuts + 1


def queueing_finder() -> tuple[RateFinder, float]:
    finder = RateFinder(100.0)
    end = answer_with(finder, 0.0, 2.6, lambda _: 0.1)
    end = answer_with(finder, end, 1.0, lambda t, end=end: 0.1 + (t - end) * 0.5)
    assert finder.changes[-1].why == "queueing"
    return finder, end


def test_after_queueing_it_waits_for_the_queue_to_drain_then_resumes():
    finder, end = queueing_finder()
    drained_rate = finder.current
    assert drained_rate <= finder.good < 40.0  # not above what held before the queue grew
    # Still queueing, but no worse: no climb, no new cut.
    end = answer_with(finder, end + 1.0, 3.0, lambda _: 0.2)
    assert finder.current == drained_rate and finder.changes[-1].why == "queueing"
    # Drained: back to the rate that held, after the hold.
    end = answer_with(finder, end, 3.0, lambda _: 0.1)
    assert finder.changes[-1].why in ("resume", "climb", "probe")
    assert finder.current >= finder.good


def test_a_queue_that_still_grows_after_the_cut_is_cut_again():
    finder, end = queueing_finder()
    cuts = finder.cuts
    answer_with(finder, end + 1.0, 2.0, lambda t, end=end: 0.5 + (t - end) * 0.5)
    assert finder.cuts > cuts and finder.changes[-1].why == "queueing"


def test_a_queueing_api_is_climbed_gently_once_a_probe_holds():
    finder, end = queueing_finder()
    answer_with(finder, end + 1.0, 25.0, lambda _: 0.1)
    climbs = [(a, b) for a, b in zip(finder.changes, finder.changes[1:], strict=False)
              if a.why == "probe" and b.why == "climb"]
    assert climbs, finder.changes
    before, after = climbs[0]
    assert after.rate == pytest.approx(before.rate * 1.1)  # gently: 10 %, not doubled


def test_a_small_rise_in_a_tiny_latency_is_not_queueing():
    finder = RateFinder(100.0)
    end = answer_with(finder, 0.0, 2.6, lambda _: 0.002)
    answer_with(finder, end, 2.0, lambda _: 0.012)  # 6 x, but only 10 ms more
    assert finder.cuts == 0


def test_an_api_whose_latency_varies_widely_is_not_taken_for_a_queue():
    """50 ms plus up to 300 ms at random, no limit: auto must not fall below the fixed
    default it starts from (it did: the luckiest group of a minute made every other
    look slow)."""
    api, dispatcher, _, end = dispatch(
        lambda loop: SimulatedApi(loop, latency=0.05, jitter=0.3), "auto", 600)
    assert api.throughput(15.0, end - 1) >= START_RATE
    assert dispatcher.finder is not None and dispatcher.finder.current >= START_RATE


# ------------------------------------------- decisions a mutation run showed unpinned (#17)


def answer(finder: RateFinder, now: float, latency: float, sent_rate: float) -> None:
    """One successful answer at `now` to a request sent `latency` seconds before, while
    the API is sent two requests for each it answers (a queue that grows): the other one
    is lost (it tells nothing, and is not waited for)."""
    sent_at = now - latency - 1e-6
    finder.sent(sent_at)
    finder.sent(sent_at)
    finder.lost(now, sent_at)
    finder.answered(now, sent_at, sent_rate, latency)


def sends(finder: RateFinder, rate: float, start: float, count: int) -> None:
    """`count` requests leave at `rate` from `start`."""
    for i in range(count):
        sent(finder, start + i / rate)


def held_at(rate: float, **options: float) -> tuple[RateFinder, float]:
    """A finder whose rate held at `rate` (its ceiling, so it cannot climb), answers 0.1 s;
    the moment the warm-up ended."""
    finder = RateFinder(rate, start=rate, **options)  # type: ignore[arg-type]
    end = answer_with(finder, 0.0, 3.0, lambda _: 0.1)
    assert finder.good == rate and finder.current == rate
    return finder, end


def queue_at_held_rate(delivered: int) -> RateFinder:
    """Two slow answers (groups of one) at the held 20/s, with `delivered` answers in the
    second before the cut (the fast ones first, then the first slow one)."""
    finder, _ = held_at(20.0, latency_samples=1)
    for i in range(delivered - 1):
        answer(finder, 9.0 + i * 0.01, 0.1, 20.0)
    for moment in (9.7, 9.8):
        answer(finder, moment, 0.3, 20.0)
    assert finder.changes[-1].why == "queueing" and finder.changes[-1].at == 9.8
    return finder


@pytest.mark.parametrize(("delivered", "rate", "ceiling"), [
    (23, 14.0, 20.0),  # the API delivered it all: down by `decrease` (0.7)
    (15, 13.5, 15.0),  # it delivered 15: 0.9 of that, so its queue drains
    (7, 9.8, 9.8 * 1.05),  # it delivered little: no lower than decrease² (0.49)
])
def test_queueing_at_a_rate_that_held_drops_below_what_the_api_delivered(delivered, rate,
                                                                          ceiling):
    finder = queue_at_held_rate(delivered)
    assert finder.current == pytest.approx(rate)
    assert finder.bad == pytest.approx(ceiling)
    assert finder.good is None  # the limit fell: what held before is forgotten


def test_queueing_on_a_climb_steps_back_to_what_held_with_a_ceiling_at_the_delivered_rate():
    finder = RateFinder(100.0, start=20.0, latency_samples=2)
    end = answer_with(finder, 0.0, 1.25, lambda _: 0.1)
    assert finder.good == 20.0 and finder.current == 40.0  # climbing: not yet known
    for i in range(24):
        answer(finder, end + 5.0 + i * 0.01, 0.1, 40.0)
    answer(finder, end + 5.5, 0.3, 40.0)
    answer(finder, end + 5.6, 0.3, 40.0)  # one slow group is enough above what held
    assert finder.changes[-1].why == "queueing"
    assert finder.current == 20.0 and finder.good == 20.0
    assert finder.bad == pytest.approx(25 * 1.05)  # just above the 25 it delivered


def test_with_no_rate_above_what_held_queueing_needs_two_slow_groups_of_eight():
    finder = RateFinder(100.0)
    for i in range(8):
        answer(finder, 1.0 + i * 0.01, 0.1, 10.0)
    for i in range(15):
        answer(finder, 2.0 + i * 0.01, 0.3, 10.0)
    assert finder.cuts == 0  # one slow group, and seven answers of the next
    answer(finder, 2.2, 0.3, 10.0)
    assert finder.cuts == 1 and finder.changes[-1].why == "queueing"


def slow_after(base: float, slow: float, **options: float) -> RateFinder:
    """Groups of one: `base`, then `slow` twice, two seconds apart (never stale)."""
    finder = RateFinder(100.0, latency_samples=1, **options)  # type: ignore[arg-type]
    for moment, latency in ((2.0, base), (4.0, slow), (6.0, slow)):
        answer(finder, moment, latency, 10.0)
    return finder


def test_queueing_means_more_than_half_again_and_more_than_20_ms_above_the_base():
    assert slow_after(0.25, 0.375).cuts == 0  # exactly 1.5 x: not yet
    assert slow_after(0.25, 0.376).cuts == 1
    assert slow_after(0.125, 0.25, latency_margin=0.125).cuts == 0  # exactly the margin
    assert slow_after(0.010, 0.025).cuts == 0  # 2.5 x, but only 15 ms more
    assert slow_after(0.020, 0.050).cuts == 1  # 2.5 x and 30 ms more


def test_the_base_is_the_lower_quartile_of_the_groups():
    from bulkedit.core.autorate import lower_quartile

    assert lower_quartile([4.0, 1.0, 3.0, 2.0]) == 1.0
    assert lower_quartile([5.0, 4.0, 3.0, 2.0, 1.0]) == 2.0
    assert lower_quartile([float(v) for v in range(8, 0, -1)]) == 2.0
    assert lower_quartile([float(v) for v in range(9, 0, -1)]) == 3.0


def test_while_the_queue_drains_a_latency_a_quarter_higher_cuts_again():
    finder = slow_after(0.1, 0.25)
    assert finder.cuts == 1  # draining from 0.25 s
    answer(finder, 8.0, 0.3125, 10.0)  # 1.25 x: still queueing, but no worse
    assert finder.cuts == 1
    answer(finder, 10.0, 0.4, 10.0)  # 1.6 x: the cut was not enough
    assert finder.cuts == 2 and finder.changes[-1].why == "queueing"


def test_the_base_forgets_groups_older_than_a_minute():
    """A latency that rises for good (a slower API, not a queue) becomes the base once the
    fast groups are a minute old, and the climb resumes."""
    finder = RateFinder(100.0, latency_samples=1)
    for i in range(30):  # 0.1 s for three seconds
        answer(finder, i * 0.1, 0.1, 10.0)
    answer(finder, 5.0, 0.3, 10.0)
    answer(finder, 7.0, 0.3, 10.0)
    assert finder.cuts == 1 and finder.changes[-1].why == "queueing"
    rate = finder.current

    def used(start: float) -> float:  # the rate used for a hold from `start`
        for i in range(int(1.3 * rate) + 1):
            finder.sent(start + i / rate)
            finder.lost(start + i / rate, start + i / rate)  # no latency to tell
        return start + 1.3

    moment = 9.0
    while moment <= 57.0:  # 0.3 s, a quarter of the groups or less: still queueing
        answer(finder, moment, 0.3, rate)
        moment += 2.0
    finder.rate(used(57.0))
    assert finder.good is None  # draining: the rate does not count as held
    answer(finder, 63.0, 0.3, rate)  # the fast groups are over a minute old now
    finder.rate(used(63.0))
    assert finder.good == rate  # drained: the rate held, the search goes on from it


def test_a_group_exactly_a_minute_old_is_still_in_the_base():
    def slow_at(last: float) -> RateFinder:
        finder = RateFinder(100.0, latency_samples=1)
        for moment, latency in ((0.0, 0.1), (1.0, 0.3), (last, 0.3)):
            answer(finder, moment, latency, 10.0)
        return finder

    assert slow_at(60.0).cuts == 1  # the 0.1 s of t=0 is the base: two slow groups
    assert slow_at(60.001).cuts == 0  # it is gone: 0.3 s is the base


def test_latencies_from_before_a_cut_are_not_grouped_with_those_after_it():
    finder, end = held_at(20.0)
    while finder._recent:  # start a fresh group of eight
        answer(finder, end, 0.1, 20.0)
    for i in range(7):  # seven slow answers: a group not yet complete
        answer(finder, end + 1.0 + i * 0.01, 0.3, 20.0)
    assert finder.refused(end + 1.2, end + 1.1, 20.0) is True  # the limit fell
    cuts = finder.cuts
    slow = [end + 2.6 + i * 0.01 for i in range(16)]  # after the settle second
    for moment in slow[:9]:
        answer(finder, moment, 0.3, finder.current)
    assert finder.cuts == cuts  # one slow group since the cut, not two
    for moment in slow[9:]:
        answer(finder, moment, 0.3, finder.current)
    assert finder.cuts == cuts + 1 and finder.changes[-1].why == "queueing"


def test_refusals_of_requests_sent_in_the_settle_second_still_lower_the_next_estimate():
    finder = RateFinder(100.0, start=40.0)
    sends = [i / 40 for i in range(200)] + [5.0 + i / 38 for i in range(60)]
    for moment in sends[:200]:
        sent(finder, moment)
    assert finder.refused(5.0, 4.99, 40.0) is True  # a first cut: to 38
    assert finder.current == pytest.approx(38.0)
    for moment in sends[200:]:
        sent(finder, moment)
    for i in range(20):  # sent in the settle second: stale, but the API refused them
        assert finder.refused(5.95, 5.1 + i * 0.04, 38.0) is False
    assert finder.refused(6.2, 6.1, 38.0) is True  # the second cut in a row
    took = sum(1 for s in sends if 5.1 <= s < 6.1) - 20
    assert finder.current == pytest.approx(took)  # not the 26.6 of 0.7 x


def test_after_a_pause_a_refusal_has_no_estimate():
    finder = RateFinder(100.0, start=40.0)
    sends(finder, 40.0, 0.0, 200)
    sends(finder, 40.0, 17.0, 16)  # 12 s later (a long Retry-After), 0.4 s of sends
    finder.refused(17.5, 17.45, 40.0)  # the second before it was mostly a pause
    assert finder.current == pytest.approx(28.0)  # 0.7 x, not the 16 sent since


def test_an_estimate_needs_exactly_a_second_of_history_and_one_accepted_request():
    finder = RateFinder(100.0, start=40.0)
    sends(finder, 40.0, 0.0, 40)
    finder.refused(1.05, 1.0, 40.0)  # the history reaches back exactly one second
    assert finder.current == pytest.approx(38.0)  # the estimate (40) was used: 0.95 x
    finder = RateFinder(100.0, start=40.0)
    for i in range(40):  # every request of that second refused: it took nothing
        sent(finder, i / 40)
        finder._refusals.add(i / 40)
    finder.refused(1.05, 1.0, 40.0)
    # A quota spent until its window ends: sent little (decrease³) until it takes again.
    assert finder.current == pytest.approx(40 * 0.7**3)


def test_refusals_older_than_the_second_before_are_not_subtracted():
    finder = RateFinder(200.0, start=50.0)
    sends(finder, 50.0, 0.0, 60)
    assert finder.rate(1.2) == 100.0
    sends(finder, 100.0, 1.2, 100)
    for k in range(10):  # refused, but in the second before the estimate's second
        finder._refusals.add(1.0 + k * 0.01)
    finder.refused(2.25, 2.195, 100.0)
    assert finder.current == pytest.approx(100 / 1.05)  # took all 100: just under them


def test_a_burst_after_a_quiet_start_is_not_a_rate_that_held():
    finder = RateFinder(100.0)
    for i in range(15):  # 15 requests between 0.6 and 0.9 s, none before
        sent(finder, 0.6 + i * 0.02)
    assert finder.rate(1.2) == START_RATE and finder.good is None


def test_a_cut_after_a_rate_held_again_trusts_the_estimate_again():
    finder = RateFinder(100.0, start=40.0)
    sends(finder, 40.0, 0.0, 200)
    finder.refused(5.0, 4.99, 40.0)
    first = finder.current  # 38
    for i in range(200):  # it holds at 38 for five seconds
        sent(finder, 6.5 + i / first)
        finder.rate(6.5 + i / first)
    assert finder.good is not None and finder.good >= first
    held = finder.good
    finder.refused(12.0, 11.7, held)  # the limit fell again, after a hold
    assert finder.current >= 0.9 * held  # a first cut, to the estimate: not 0.7 x


def test_a_low_rate_that_held_is_found_as_it_is():
    finder = RateFinder(0.8, start=0.5, hold=4.0)
    for moment in (0.0, 2.0, 4.0):
        sent(finder, moment)
    finder.rate(4.5)
    assert finder.good == 0.5 and finder.found == 0.5


def test_a_step_back_never_returns_above_the_refused_rate():
    finder = RateFinder(100.0, start=10.0)
    sends(finder, 10.0, 0.0, 12)
    assert finder.rate(1.2) == 20.0
    sends(finder, 30.0, 1.2, 30)  # a burst: 30 sent in the second before the refusal
    finder.refused(2.25, 2.2, 20.0)
    assert finder.good == 10.0 and finder.current == pytest.approx(20 / 1.05)


def test_a_cut_sets_the_ceiling_just_above_where_it_went():
    finder = RateFinder(100.0, start=40.0)
    sends(finder, 40.0, 0.0, 200)
    finder.refused(5.0, 4.99, 40.0)  # the API took all 40: down 5 %, ceiling at 40
    assert finder.current == pytest.approx(38.0) and finder.bad == pytest.approx(40.0)


def test_a_second_cut_down_to_its_lower_bound_sets_the_ceiling_just_above_it():
    finder = RateFinder(100.0, start=40.0)
    sends(finder, 40.0, 0.0, 200)
    finder.refused(5.0, 4.99, 40.0)
    first = finder.current
    for step in range(100):
        sent(finder, 6.0 + step / 100)
        if step >= 10:
            finder._refusals.add(6.0 + step / 100)
    finder.refused(7.1, 7.05, first)
    assert finder.current == pytest.approx(first * 0.7 ** 3)
    assert finder.bad == pytest.approx(finder.current * 1.05)


def test_a_cut_makes_the_answers_sent_before_it_stale():
    finder = RateFinder(100.0, start=40.0)
    sends(finder, 40.0, 0.0, 200)
    assert finder.refused(5.0, 4.99, 40.0) is True
    assert finder.refused(5.1, 4.995, 40.0) is False  # the same window: not a second cut
    assert finder.cuts == 1 and finder.current == pytest.approx(38.0)


def test_at_the_ceiling_nothing_changes_and_nothing_is_logged():
    finder = RateFinder(15.0)
    send_for(finder, 0.0, 10.0)
    assert [(c.rate, c.why) for c in finder.changes] == [(15.0, "climb")]


def test_probes_come_every_3_seconds_to_the_moment():
    finder = RateFinder(200.0, start=40.0)
    sends(finder, 40.0, 0.0, 48)
    assert finder.rate(1.2) == 80.0
    sends(finder, 80.0, 1.2, 84)
    finder.refused(2.25, 2.25 - 1 / 80, 80.0)  # a step back at 2.25
    rate, settled_at = finder.current, finder.changes[-1].at
    assert settled_at == 2.25 and 90 / rate <= 3.0
    moment = 2.25
    while moment < 5.25:
        sent(finder, moment)
        moment += 1 / rate
    assert finder.rate(5.249) == rate
    assert finder.rate(5.25) == pytest.approx(finder.good * 1.05)
    assert finder.changes[-1].why == "probe"


def test_at_a_low_rate_a_probe_comes_after_90_requests():
    finder = RateFinder(100.0, start=6.0)
    sends(finder, 6.0, 0.0, 8)
    assert finder.rate(1.2) == 12.0
    sends(finder, 12.0, 1.2, 12)
    finder.refused(2.25, 2.2, 12.0)
    rate, since = finder.current, finder.changes[-1].at
    due = since + min(90 / rate, 6.0)  # 90 requests, or the 6 s cap
    assert due - since > 3.0
    moment = since
    while moment < due:
        sent(finder, moment)
        moment += 1 / rate
    assert finder.rate(due - 0.01) == rate
    assert finder.rate(due + 1e-9) > rate and finder.changes[-1].why == "probe"


def test_the_stamps_always_know_their_oldest_and_keep_memory_bounded():
    from bulkedit.core.autorate import _Stamps

    stamps = _Stamps(horizon=1000.0)
    for step in range(100_000):
        stamps.add(float(step))
        assert stamps.oldest() == max(0, step - 1000)
    assert stamps.count(0.0, 1e9) == 1001
    assert len(stamps._times) < 3 * 1024
