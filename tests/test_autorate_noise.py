"""`--rate auto` and throttles the rate does not cause (issue 27): an API that refuses a
share of requests whatever the speed. The refused request alone goes again; the rate is
not cut, and nobody else waits, once the refusals are seen to come at the same share after
a cut. A real limit is still a limit. Pure decisions first, then the real dispatcher on
the virtual clock (tests/limit_shapes.py)."""

from __future__ import annotations

import pytest
from limit_shapes import ShapedApi, Sliding
from simulated import schedule
from test_autorate_shapes import run

from bulkedit.core.autorate import RateFinder


def send(finder: RateFinder, start: float, seconds: float, every: int = 0,
         latency: float = 0.05, ceiling: float | None = None) -> tuple[float, list[bool]]:
    """Send at the finder's rate for `seconds`; every `every`-th request (0: none) is
    refused by chance, and above `ceiling` (a limit) every request is. The end, and what
    each refusal's `refused` said (True: everyone waits)."""
    now, count, said = start, 0, []
    while now < start + seconds:
        rate = finder.rate(now)
        sent_rate = finder.sent(now)
        count += 1
        if (every and count % every == 0) or (ceiling is not None and sent_rate > ceiling):
            said.append(finder.refused(now + latency, now, sent_rate))
        else:
            finder.answered(now + latency, now, sent_rate, latency)
        now += 1 / rate
    return now, said


def held_at_40() -> tuple[RateFinder, float]:
    """A finder settled at about 40/s, no refusal for a while."""
    finder = RateFinder(1000.0)
    end, _ = send(finder, 0.0, 4.0, ceiling=41.0)  # 10, 20, 40, 80 refused: back to ~40
    end, _ = send(finder, end + 1.5, 3.0)
    assert finder.good is not None and 35 <= finder.good <= 42
    return finder, end


def test_refusals_that_keep_coming_at_the_same_share_after_a_cut_undo_it():
    finder, end = held_at_40()
    good = finder.good
    assert finder.refused(end, end - 0.05, good) is True  # at a rate that held: a cut
    cut_to = finder.current
    assert cut_to < good and finder.noise(end) == 0.0
    # At the rate the cut chose (which a limit would take whole), one refusal among
    # twenty-odd answers: it alone goes again, the rate stays...
    end, said = send(finder, end + 1.2, 0.75, every=25)
    assert said == [False] and finder.current == cut_to
    # ... and another as far behind it: whatever the rate. The cut is undone.
    end, said = send(finder, end, 0.75, every=25)
    assert said == [False]
    assert finder.changes[-1].why == "not the rate" and finder.current >= good
    assert finder.noise(end) > 0
    cuts = finder.cuts
    # From then on such refusals are their share: no cut, nobody waits, the rate climbs.
    end, said = send(finder, end, 10.0, every=33)
    assert said and not any(said)
    assert finder.cuts == cuts and finder.current > good


def test_refusals_close_together_after_a_cut_are_a_limit_below_it():
    finder, end = held_at_40()
    assert finder.refused(end, end - 0.05, finder.good) is True
    cut_to = finder.current
    end, _ = send(finder, end + 1.2, 0.4)
    assert finder.refused(end, end - 0.05, cut_to) is False  # the first: may be chance
    assert finder.refused(end + 0.02, end - 0.03, cut_to) is True  # the next, at once
    assert finder.current < cut_to and finder.noise(end) == 0.0


def test_many_refusals_before_a_cut_are_a_limit_whatever_comes_after():
    finder, end = held_at_40()
    good = finder.good
    for k in range(6):  # six others refused in the second before (answered out of order)
        finder._refusals.add(end - 0.9 + k * 0.1)
    assert finder.refused(end, end - 0.05, good) is True
    cut_to = finder.current
    end, _ = send(finder, end + 1.2, 0.75)
    # The first refusal at the rate the cut chose is not given the benefit of the doubt:
    # a limit, a cut again.
    assert finder.refused(end, end - 0.05, cut_to) is True
    assert finder.current < cut_to and finder.noise(end) == 0.0


def test_refusals_near_the_rate_refused_before_the_cut_are_not_taken_for_chance():
    """Back near the rate that was refused before the cut, a refusal is what a limit
    there does, not chance: a cut, not the benefit of the doubt."""
    finder, end = held_at_40()
    old = finder.good
    assert finder.refused(end, end - 0.05, old) is True
    end, _ = send(finder, end + 1.2, 3.0)  # it holds, and climbs back
    assert finder.good is not None and finder.good >= 0.95 * old
    good = finder.good
    assert finder.refused(end, end - 0.05, good) is True  # a cut, not the benefit of doubt
    assert finder.current < good and finder.noise(end) == 0.0


def test_the_share_of_chance_is_forgotten_when_such_refusals_stop():
    finder, end = held_at_40()
    assert finder.refused(end, end - 0.05, finder.good) is True
    end, _ = send(finder, end + 1.2, 0.75, every=25)
    end, _ = send(finder, end, 0.75, every=25)
    assert finder.changes[-1].why == "not the rate"
    end, _ = send(finder, end, 2.0, every=33)
    high = finder.noise(end)
    end, _ = send(finder, end, 30.0)  # none refused for half a minute
    assert 0 < finder.noise(end) < high / 5


# ----------------------------------------------------------------------------- shapes


@pytest.mark.parametrize(("share", "limit", "least"), [(0.03, 100, 0.88), (0.005, 150, 0.6)])
def test_random_throttles_whatever_the_rate_cost_their_share(share, limit, least):
    """3 % (0.5 %) of the answers refused at random, under a limit of 100/s (150/s).
    Before, each refusal was a cut with every worker paused: 0.020 (0.378) of the limit."""
    api, dispatcher, results = run(
        lambda loop: ShapedApi(loop, Sliding(schedule(f"0:{limit}")), throttle_share=share),
        90.0, concurrency=16)
    assert all(r.ok for r in results)
    assert api.throughput(15.0, 90.0) >= least * limit
    assert api.refused_share <= share + 0.02
    finder = dispatcher.finder
    assert isinstance(finder, RateFinder)
    assert "not the rate" in [c.why for c in finder.changes]
