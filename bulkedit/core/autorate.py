"""`--rate auto`: find the API's real request rate and hold just under it (issue 16).

Dailymotion does not document its limits, so the rate is found by trying. Pure: the time
and the measurements come in as arguments, a rate goes out; client/dispatch.py feeds it
every send and every answer.

- **Climb.** It starts at a safe rate and doubles it each time the rate has *held* for
  `hold` seconds: really used (the sends reached most of it; a run held back by its
  concurrency learns nothing from its rate) with no throttling answer and no queueing.
- **Step back.** A throttle (429, a throttling 403) for a request sent above the last
  rate that held (`good`) is a failed probe: back to `good`, and nobody else waits.
- **Cut.** A throttle for a request sent at or below `good` means the limit fell: the rate
  drops to the estimate below (at most 5 % off the first time, then by `decrease`, never
  below `decrease`³ of what it was), `good` is
  forgotten, and the caller pauses every worker for the Retry-After (the return value says
  so).
- **Estimate.** Whichever it was, what the API accepted in the second before the refused
  request (that second's sends minus its refusals) estimates the limit: the next rate
  tries it, and the ceiling `bad` is set just above it, so the search takes one or two
  steps instead of a bisection.
- **Probe.** Settled just under the ceiling, it tries `probe_step` above it every
  `probe_every` seconds, or every `probe_requests` requests when that is longer (a failed
  probe costs a refusal or two, whatever the rate): the limit may have risen. A probe that
  holds lifts the ceiling and the climb resumes.
- **Queueing.** An API may answer slowly instead of refusing. Latencies are taken in
  groups of `latency_samples`; when a group's median is `latency_rise` times the lower
  quartile of the group medians of the last minute (and `latency_margin` seconds above it),
  the API is
  queueing: handled like a throttle, at the delivered rate, with a margin that lets the
  queue drain, and no pause. Medians of groups, not single answers, and two slow groups in
  a row at a rate that held, so that an API whose latency merely varies is not taken for
  one that queues.

Answers to requests sent before the last cut, or in the `settle` second after it, are stale:
they tell of the old rate (the API's window still holds it) and are not acted on twice.
"""

from __future__ import annotations

import math
import statistics
from bisect import bisect_left
from collections import deque
from dataclasses import dataclass
from typing import Protocol

START_RATE = 10.0  # requests/s: the fixed default, which the API is known to take
MAX_RATE = 50.0  # the default ceiling of --rate auto; --max-rate sets it


class _Stamps:
    """Sorted moments within a horizon, counted by interval."""

    def __init__(self, horizon: float):
        self.horizon = horizon
        self._times: list[float] = []
        self._start = 0  # the first kept item: pruning is amortised

    def add(self, moment: float) -> None:
        if self._times and moment < self._times[-1]:
            # Answers come back out of order; their send times keep their own order.
            self._times.insert(bisect_left(self._times, moment, self._start), moment)
        else:
            self._times.append(moment)
        limit = moment - self.horizon
        while self._start < len(self._times) and self._times[self._start] < limit:
            self._start += 1
        if self._start > 1024 and self._start * 2 > len(self._times):
            del self._times[:self._start]
            self._start = 0

    def oldest(self) -> float | None:
        return self._times[self._start] if self._start < len(self._times) else None

    def count(self, begin: float, end: float) -> int:
        """Moments in [begin, end)."""
        low = bisect_left(self._times, begin, self._start)
        return bisect_left(self._times, end, low) - low


def lower_quartile(values: list[float]) -> float:
    """The value a quarter of the way up (the smallest of 1 to 4 values, the second of
    5 to 8...): the latency of an API that is not loaded, from the last minute's groups."""
    return sorted(values)[(len(values) - 1) // 4]


@dataclass(frozen=True)
class Change:
    """One decision, for the log and the summary."""

    at: float
    rate: float
    why: str  # "climb", "probe", "step back", "cut", "queueing"


class RateControl(Protocol):
    """What the dispatcher asks of a rate that is found as the run goes."""

    cuts: int
    ceiling: float | None  # the most it ever sends at (--max-rate), None: no such bound

    def rate(self, now: float) -> float: ...
    @property
    def current(self) -> float: ...
    @property
    def found(self) -> float | None: ...
    def sent(self, now: float) -> float: ...
    def answered(self, now: float, sent_at: float, sent_rate: float,
                 latency: float) -> None: ...
    def refused(self, now: float, sent_at: float, sent_rate: float) -> bool: ...


class RateFinder:
    """The request rate that the API takes, found by trying (see the module's text)."""

    def __init__(self, ceiling: float = MAX_RATE, *, start: float = START_RATE,
                 floor: float = 0.5, hold: float = 1.2, growth: float = 2.0,
                 probe_step: float = 0.05, probe_every: float = 3.0,
                 probe_requests: int = 90,
                 decrease: float = 0.7, latency_rise: float = 1.5,
                 latency_margin: float = 0.02, latency_samples: int = 8,
                 used: float = 0.75, settle: float = 1.0, now: float = 0.0):
        if not ceiling > 0:
            raise ValueError("the ceiling must be more than 0")
        self.ceiling = ceiling
        self.floor = min(floor, ceiling)
        self.hold = hold
        self.growth = growth
        self.probe_step = probe_step
        self.probe_every = probe_every
        self.probe_requests = probe_requests
        self.decrease = decrease
        self.latency_rise = latency_rise
        self.latency_margin = latency_margin
        self.used = used
        self.settle = settle
        self.good: float | None = None  # the highest rate that held since the last cut
        self.bad: float | None = None  # the lowest rate known to be too much
        self.changes: list[Change] = []
        self.cuts = 0  # cuts and step-backs
        self._rate = max(self.floor, min(start, ceiling))
        self._since = now  # when the rate last changed
        self._cut_at = -math.inf  # answers to requests sent before this are stale
        self._sends = _Stamps(horizon=10.0)
        self._refusals = _Stamps(horizon=10.0)
        self._delivered = _Stamps(horizon=2.0)  # when successful answers came back
        # The group medians of the last minute: their lower quartile is the latency of an
        # unloaded API. (Their minimum is not: on an API whose latency varies widely, the
        # luckiest group of a minute is far below the usual one.)
        self._medians: deque[tuple[float, float]] = deque()
        self._recent: deque[float] = deque(maxlen=latency_samples)
        self._draining: float | None = None  # latency at a queueing cut, until it clears
        self._cuts_in_a_row = 0  # cuts with nothing held in between
        self._queueing_api = False  # the last limit met was latency, not a refusal
        self._queue_strikes = 0  # queueing groups in a row at a rate that held

    # ------------------------------------------------------------------ what the caller asks

    def rate(self, now: float) -> float:
        """The rate to send at now (it may climb or probe as time passes)."""
        if now - self._since >= self.hold and self._draining is None and self._held(now):
            self._step_up(now)
        return self._rate

    @property
    def current(self) -> float:
        return self._rate

    @property
    def found(self) -> float | None:
        """The best rate the run knows the API takes: the last one that held (since the
        last cut); None when none held long enough."""
        return self.good

    # ------------------------------------------------------------------ what the caller tells

    def sent(self, now: float) -> float:
        """A request leaves now; the rate it was sent at, to hand back with its answer."""
        self._sends.add(now)
        return self._rate

    def answered(self, now: float, sent_at: float, sent_rate: float, latency: float) -> None:
        """A successful answer (or any answer that is not a throttle) to a request sent at
        `sent_at`, `latency` seconds after it left."""
        self._delivered.add(now)
        if self._stale(sent_at):
            return
        self._recent.append(latency)
        if len(self._recent) < (self._recent.maxlen or 1):
            return
        typical = statistics.median(self._recent)
        self._recent.clear()
        medians = self._medians
        medians.append((now, typical))
        while medians[0][0] < now - 60.0:
            medians.popleft()
        base = lower_quartile([value for _, value in medians])
        queueing = typical > base * self.latency_rise and typical - base > self.latency_margin
        if self._draining is not None:
            if not queueing:
                self._draining = None  # the queue has drained: climbing may resume
                self._since = now
            elif typical > self._draining * 1.25:  # still growing: the cut was not enough
                self._queueing(now, sent_rate, typical)
            return
        probing = self.good is not None and sent_rate > self.good
        self._queue_strikes = self._queue_strikes + 1 if queueing else 0
        # Above the rate that held, one slow group is enough to step back (a probe costs
        # little); at a rate that held, latency that merely varies must not cut the rate:
        # two slow groups in a row.
        if queueing and (probing or self._queue_strikes >= 2):
            self._queue_strikes = 0
            self._queueing(now, sent_rate, typical)

    def refused(self, now: float, sent_at: float, sent_rate: float) -> bool:
        """A throttling answer to a request sent at `sent_at`. True when every worker should
        wait out the Retry-After (the limit fell, or nothing explains the throttle); False
        when it was a failed probe already stepped back from, or stale."""
        self._refusals.add(sent_at)
        if self._stale(sent_at):
            return False
        self._queueing_api = False
        accepted = self._accepted_before(sent_at)
        good = self.good
        if good is not None and sent_rate > good:
            self._step_back(now, sent_rate, accepted, "step back")
            return False
        self._cut(now, sent_rate, accepted, "cut")
        return True

    # ------------------------------------------------------------------ decisions

    def _stale(self, sent_at: float) -> bool:
        return sent_at < self._cut_at + self.settle

    def _held(self, now: float) -> bool:
        """The rate was really used for the hold time (else it taught nothing)."""
        oldest = self._sends.oldest()
        if oldest is None or oldest > now - self.hold:
            return False  # not enough history to judge
        sends = self._sends.count(now - self.hold, now)
        return sends >= self.used * self._rate * self.hold

    def _step_up(self, now: float) -> None:
        rate = self._rate
        self._cuts_in_a_row = 0
        self.good = max(self.good or 0.0, rate)
        if self.bad is not None and rate >= self.bad:
            self.bad = None  # a probe held: the limit rose
        if rate < self.good:  # drained after queueing: back to what held
            self._set(now, self.good, "resume")
        elif self.bad is None:
            # An API that queues is climbed gently: an overshoot fills its queue, and
            # every request waits for that queue to drain.
            growth = 1 + 4 * self.probe_step if self._queueing_api else self.growth
            self._set(now, rate * growth, "climb")
        elif self.bad > self.good * (1 + self.probe_step) * 1.000001:
            self._set(now, min((self.good + self.bad) / 2, rate * self.growth), "climb")
        elif now - self._since >= max(self.probe_every, self.probe_requests / rate):
            self._set(now, self.good * (1 + self.probe_step), "probe")

    def _step_back(self, now: float, sent_rate: float, accepted: float | None,
                   why: str) -> None:
        good = self.good
        assert good is not None
        step = 1 + self.probe_step
        ceiling = sent_rate if accepted is None else min(sent_rate, max(accepted, good) * step)
        self.bad = max(ceiling, good * 1.000001)
        target = good if accepted is None else min(max(accepted, good), self.bad / step)
        self._set(now, max(good, target), why, cut=True)

    def _cut(self, now: float, sent_rate: float, accepted: float | None, why: str) -> None:
        # A first cut trusts the estimate (a limit a little lower than the rate that held
        # costs a little); a cut that did not help is followed by a multiplicative one,
        # whatever the estimate says, so an API that over-admits for a while (a burst
        # allowance) cannot keep the rate above its limit.
        self._cuts_in_a_row += 1
        first = self._cuts_in_a_row == 1 and accepted is not None
        upper = sent_rate * ((1 - self.probe_step) if first else self.decrease)
        lower = sent_rate * self.decrease ** 3  # an estimate from a pause is not a limit
        target = upper if accepted is None else min(upper, max(lower, accepted))
        target = max(self.floor, target)
        self.good = None
        step = 1 + self.probe_step
        self.bad = max(target * step, sent_rate if accepted is None
                       else min(sent_rate, accepted * step))
        self._set(now, target, why, cut=True)

    def _queueing(self, now: float, sent_rate: float, typical: float) -> None:
        """The API answers slower: hold below the rate it delivers, so its queue drains."""
        delivered = self._delivered.count(now - 1.0, now)
        drain = 0.9
        if self.good is not None and sent_rate > self.good:
            good = self.good
            self.bad = max(min(sent_rate, max(delivered, good) * (1 + self.probe_step)),
                           good * 1.000001)
            target = min(good, delivered * drain) if delivered else good
        else:
            upper = sent_rate * self.decrease
            target = min(upper, max(sent_rate * self.decrease ** 2, delivered * drain))
            self.good = None
            self.bad = max(target * (1 + self.probe_step), min(sent_rate, delivered))
        self._draining = typical
        self._queueing_api = True
        self._set(now, max(self.floor, target), "queueing", cut=True)  # clears the group

    def _set(self, now: float, rate: float, why: str, cut: bool = False) -> None:
        rate = max(self.floor, min(self.ceiling, rate))
        if cut:
            self.cuts += 1
            self._cut_at = now
            self._recent.clear()
        if rate == self._rate and not cut:
            return
        self._rate = rate
        self._since = now
        self.changes.append(Change(now, rate, why))

    def _accepted_before(self, sent_at: float) -> float | None:
        """What the API took in the second before `sent_at`: that second's sends less its
        refusals. None when the history does not reach back a whole second."""
        oldest = self._sends.oldest()
        if oldest is None or oldest > sent_at - 1.0:
            return None
        sends = self._sends.count(sent_at - 1.0, sent_at)
        refused = self._refusals.count(sent_at - 1.0, sent_at)
        return float(sends - refused) if sends > refused else None
