"""`--rate auto` and a quota spent until its window ends (issue 27, point 3): the finder
sends the least into it, further apart as it lasts (never more than `spent_longest`), and
starts again from the safe rate when the API takes requests again. With literal times;
the window shapes through the dispatcher are in tests/test_autorate_shapes.py."""

from __future__ import annotations

from itertools import pairwise

from bulkedit.core.autorate import RateFinder


def held_at_40() -> tuple[RateFinder, float]:
    finder = RateFinder(1000.0, start=40.0)
    for i in range(200):
        finder.sent(i / 40)
        finder.answered(i / 40, i / 40, 40.0, 0.0)
    return finder, 5.0


def test_a_spent_quota_is_knocked_at_further_apart_as_it_lasts_then_resumed_from_the_start():
    finder, now = held_at_40()
    sends = []
    while now < 125.0:  # two minutes of nothing but refusals
        rate = finder.rate(now)
        sent_rate = finder.sent(now)
        sends.append(now)
        finder.refused(now + 0.05, now, sent_rate)
        now += 1 / max(rate, finder.rate(now + 0.05))
    assert finder.quota_spent
    gaps = [b - a for a, b in pairwise(sends)]
    late = [g for g, moment in zip(gaps, sends, strict=False) if moment > 10.0]
    assert late == sorted(late)  # further apart as it lasts...
    assert max(late) <= 10.0 + 1e-6  # ... ten seconds at most (spent_longest)
    assert len(sends) <= 30  # before: one every 2 s, 60 in two minutes
    # The API takes one: from the safe rate again, what the refusals taught forgotten.
    finder.sent(now)
    finder.answered(now + 0.05, now, finder.current, 0.05)
    assert not finder.quota_spent and finder.current == finder.start
    assert finder.bad is None and finder.known is None and finder.good is None
    assert finder.changes[-1].why == "resume"


def test_a_short_run_of_refusals_is_not_a_spent_quota():
    """A limit that falls refuses everything for less than its window (a second): the
    first seconds of refusals are cut as before, never sent one request per seconds."""
    finder, now = held_at_40()
    assert finder.refused(now, now - 0.05, 40.0) is True  # a cut at a rate that held
    finder.sent(now + 1.2)
    finder.refused(now + 1.25, now + 1.2, finder.current)
    assert finder.current >= finder.floor
    assert "quota spent" not in [c.why for c in finder.changes]
