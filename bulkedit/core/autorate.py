"""`--rate auto`: find the API's real request rate and hold just under it (issues 16, 27).

Dailymotion does not document its limits, so the rate is found by trying. Pure: the time
and the measurements come in as arguments, a rate goes out; client/dispatch.py feeds it
every send and every answer.

- **Judged by answers.** A rate has *held* when the requests sent at it for `hold`
  seconds were really sent (most of the rate: a run held back by its concurrency learns
  nothing from its rate) and every one of them has been answered without a throttle. The
  sends alone say nothing: at 300 ms of latency the answers to the last quarter of them
  are still on their way.
- **Climb.** It starts at a safe rate and doubles it each time the rate has held, until
  a limit is first met. Above a limit it has met once (`known`), it climbs gently: 5 %,
  then 10 %, 20 %, 40 % at most each time that holds, never twice the rate into a
  ceiling it knows.
- **Step back.** A throttle (429, a throttling 403) for a request sent above the last
  rate that held (`good`) is a failed probe: back to `good`, and nobody else waits.
- **Cut.** A throttle for a request sent at or below `good` means the limit fell (or was a
  stored burst that ran out): the rate drops to the estimate below (at most 5 % off the
  first time, then by `decrease`, never below `decrease`³ of what it was), `good` is
  forgotten, and the caller pauses every worker for the Retry-After (the return value says
  so).
- **Estimate.** What the API accepted in the second before the refused request (that
  second's sends less its refusals), and, when an earlier refusal is a few seconds back
  and the run sent steadily since, what it accepted per second between the two: a token
  bucket is empty at both refusals, so what it took in between is its refill rate, not
  the burst it had stored. The lower of the two is where the rate goes, and the ceiling
  `bad` is set just above it.
- **Probe.** Settled just under the ceiling, it tries `probe_step` above it every
  `probe_every` seconds, or every `probe_requests` requests when that is longer; each
  failed probe in a row doubles that wait (at most four times): a limit that stays put
  costs few refusals, one that rises is found within seconds. A probe that holds lifts
  the ceiling and the gentle climb resumes.
- **Queueing.** An API may answer slowly instead of refusing. Latencies are taken in
  groups of `latency_samples`; when a group's median is `latency_rise` times the lower
  quartile of the group medians of the last minute (and `latency_margin` seconds above it)
  *and* the API delivers less than it is sent (its queue grows), the API is queueing:
  handled like a throttle, at the delivered rate, with a margin that lets the queue
  drain, and no pause. Latency that rises while every request still comes back (a busy
  client machine, a slower network) is not the API's queue and changes nothing.

- **Chance.** Some APIs refuse a share of requests whatever the rate. A cut for a
  refusal at a rate that held, with few others in the second before it, is on trial for
  `noise_trial` seconds: refusals of requests sent at the rate it chose (or one that held
  since, well below the rate refused), apart from each other, are what no limit does (it
  would take that rate whole, or refuse at once): the cut is undone, and from then on
  refusals up to their share (`noise`, the refused share of the sends at rates that held)
  neither cut the rate nor stop a rate from holding. The refused requests go again on
  their own. A share well above that is a limit, as before; the share is forgotten once
  such refusals stop.

- **A quota spent.** Refusals with nothing taken since the last cut (`nothing_taken` of
  them: every request in flight refused) are a quota spent until its window ends: the
  rate goes to the floor at once. After `spent_after` seconds of nothing but refusals,
  each refusal sends the next request further off, `spent_growth` of the time refused so
  far (never more than `spent_longest` apart): few knocks on a long window, and the one
  that reopens is used within seconds. The first request taken starts the search again
  from the safe rate, doubling: what the quota's refusals taught is forgotten.

Answers to requests sent before the last cut, or in the `settle` second after it, are stale:
they tell of the old rate (the API's window still holds it) and are not acted on twice.
"""

from __future__ import annotations

import heapq
import math
import statistics
from bisect import bisect_left
from collections import deque
from dataclasses import dataclass
from typing import Protocol

START_RATE = 10.0  # requests/s: the fixed default, which the API is known to take
# The default safety cap of --rate auto (--max-rate sets it): not the range of the search,
# which finds the API's limit wherever it is below it.
MAX_RATE = 1000.0


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

    def last_before(self, moment: float) -> float | None:
        """The latest kept moment at or before `moment`."""
        index = bisect_left(self._times, moment, self._start)
        if index < len(self._times) and self._times[index] == moment:
            return moment
        return self._times[index - 1] if index > self._start else None

    def widest_gap(self, begin: float, end: float) -> float:
        """The longest time in [begin, end) with no moment in it."""
        low = bisect_left(self._times, begin, self._start)
        high = bisect_left(self._times, end, low)
        previous, widest = begin, 0.0
        for moment in self._times[low:high]:
            widest = max(widest, moment - previous)
            previous = moment
        return max(widest, end - previous)

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
    why: str  # "climb", "probe", "step back", "cut", "burst spent", "queueing", "resume"


@dataclass(frozen=True)
class _Search:
    """What the search knew, kept before a cut that may be undone."""

    good: float | None
    bad: float | None
    known: float | None
    gentle: int
    failed_probes: int
    base: float | None
    bursty: bool
    cuts_in_a_row: int


@dataclass(frozen=True)
class _CutTrial:
    """A cut for a refusal at a rate that held, on trial: refusals that keep coming at
    the same share after it say the rate was not their cause."""

    at: float
    rate: float  # the rate the refused request was sent at
    cut_to: float  # the rate the cut chose
    before: _Search  # the search before the first of the cuts in a row
    restore: float  # ... and its rate


class RateControl(Protocol):
    """What the dispatcher asks of a rate that is found as the run goes."""

    cuts: int
    ceiling: float | None  # the most it ever sends at (--max-rate), None: no such bound

    @property
    def quota_spent(self) -> bool: ...

    def rate(self, now: float) -> float: ...
    @property
    def current(self) -> float: ...
    @property
    def found(self) -> float | None: ...
    def sent(self, now: float) -> float: ...
    def answered(self, now: float, sent_at: float, sent_rate: float,
                 latency: float) -> None: ...
    def refused(self, now: float, sent_at: float, sent_rate: float) -> bool: ...


    def lost(self, now: float, sent_at: float) -> None:
        """An answer that tells nothing of the rate: a server error, a timeout, a dropped
        connection. The request is no longer waited for."""


class _Pending:
    """The send times of requests not yet answered: the oldest is as far as the answers
    have judged the run."""

    def __init__(self) -> None:
        self._heap: list[float] = []
        self._count: dict[float, int] = {}

    def add(self, moment: float) -> None:
        heapq.heappush(self._heap, moment)
        self._count[moment] = self._count.get(moment, 0) + 1

    def done(self, moment: float) -> None:
        count = self._count.get(moment)
        if count is None:
            return  # answered twice (a 403 that turned out to be a throttle), or forgotten
        if count > 1:
            self._count[moment] = count - 1
        else:
            del self._count[moment]

    def __len__(self) -> int:
        return len(self._heap)

    def oldest(self, forget_before: float) -> float | None:
        """The oldest unanswered send; older than `forget_before` is given up on."""
        heap = self._heap
        while heap:
            moment = heap[0]
            count = self._count.get(moment, 0)
            if count and moment >= forget_before:
                return moment
            heapq.heappop(heap)  # answered; or lost without a word, a duplicate kept
            if count and moment < forget_before:
                if count > 1:
                    self._count[moment] = count - 1
                else:
                    del self._count[moment]
        return None


class RateFinder:
    """The request rate that the API takes, found by trying (see the module's text)."""

    def __init__(self, ceiling: float = MAX_RATE, *, start: float = START_RATE,
                 floor: float = 0.5, hold: float = 1.2, growth: float = 2.0,
                 probe_step: float = 0.05, probe_every: float = 3.0,
                 probe_requests: int = 90, probe_backoff: int = 2,
                 decrease: float = 0.7, latency_rise: float = 1.5,
                 latency_margin: float = 0.02, latency_samples: int = 8,
                 used: float = 0.75, settle: float = 1.0, patience: float = 10.0,
                 queue_share: float = 0.9, now: float = 0.0):
        if not ceiling > 0:
            raise ValueError("the ceiling must be more than 0")
        self.ceiling = ceiling
        self.floor = min(floor, ceiling)
        self.hold = hold
        self.growth = growth
        self.probe_step = probe_step
        self.probe_every = probe_every
        self.probe_requests = probe_requests
        self.probe_backoff = probe_backoff  # failed probes in a row that double the wait
        self.decrease = decrease
        self.latency_rise = latency_rise
        self.latency_margin = latency_margin
        self.used = used
        self.settle = settle
        self.patience = patience  # seconds an answer is waited for before it is given up
        self.queue_share = queue_share  # delivered below this share of the sends: a queue
        self.good: float | None = None  # the highest rate that held since the last cut
        self.bad: float | None = None  # the lowest rate known to be too much
        self.known: float | None = None  # the last limit met: climbed gently above it
        self.changes: list[Change] = []
        self.cuts = 0  # cuts and step-backs
        self.start = start
        self._rate = max(self.floor, min(start, ceiling))
        self._since = now  # when the rate last changed
        self._cut_at = -math.inf  # answers to requests sent before this are stale
        self._sends = _Stamps(horizon=30.0)
        self._refusals = _Stamps(horizon=30.0)
        self._delivered = _Stamps(horizon=4.0)  # when successful answers came back
        # Sends at a rate that held, and their refusals: what the noise is judged on.
        self._calm_sends = _Stamps(horizon=30.0)
        self._calm_refusals = _Stamps(horizon=30.0)
        self._pending = _Pending()
        self._prune_at = 1024
        # The group medians of the last minute: their lower quartile is the latency of an
        # unloaded API. (Their minimum is not: on an API whose latency varies widely, the
        # luckiest group of a minute is far below the usual one.)
        self._medians: deque[tuple[float, float]] = deque()
        self._recent: deque[float] = deque(maxlen=latency_samples)
        self._draining: float | None = None  # latency at a queueing cut, until it clears
        self._cuts_in_a_row = 0  # cuts with nothing held in between
        self._queueing_api = False  # the last limit met was latency, not a refusal
        self._queue_strikes = 0  # queueing groups in a row at a rate that held
        self._rising = False  # the last group of latencies was well above the base
        self._gentle = 0  # held steps above `known` since it was met: the next is 5 % x 2^n
        self._failed_probes = 0  # probes refused in a row at the same ceiling
        self._stepped_back_at = -math.inf
        self._base: float | None = None  # the settled rate the last probe started from
        self._bursty = False  # a stored burst ran out after the last climb
        self._taken_since_cut = 0  # answers taken since the last cut
        self._refused_since_cut = 0
        # Throttles the rate does not cause (a share refused whatever the speed): the cut
        # each refusal was judged to need, and what the finder was before it, so that
        # refusals that keep coming at the same share after it undo it.
        self._last_cut: _CutTrial | None = None
        self._noise_learned = 0.0  # the share refused whatever the rate, when first seen
        self._refused_since: float | None = None  # refusals only, none taken, since
        self._nothing_cuts = 0  # cuts in a row with nothing taken before them

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
    def quota_spent(self) -> bool:
        """The API took nothing since a cut, through `nothing_taken` refusals: a quota
        spent, until its window ends (cleared by the next request it takes)."""
        return self._nothing_cuts > 0

    @property
    def found(self) -> float | None:
        """The best rate the run knows the API takes: the last one that held (since the
        last cut); None when none held long enough."""
        return self.good

    # ------------------------------------------------------------------ what the caller tells

    def sent(self, now: float) -> float:
        """A request leaves now; the rate it was sent at, to hand back with its answer."""
        self._sends.add(now)
        self._pending.add(now)
        if self.good is not None and self._rate <= self.good:
            self._calm_sends.add(now)
        if len(self._pending) > self._prune_at:  # answered ones below the oldest: drop
            self._pending.oldest(now - self.patience)
            self._prune_at = 2 * max(1024, len(self._pending))
        return self._rate

    def lost(self, now: float, sent_at: float) -> None:
        """An answer that tells nothing of the rate (a server error, a timeout, a dropped
        connection): the request is no longer waited for."""
        self._pending.done(sent_at)

    def answered(self, now: float, sent_at: float, sent_rate: float, latency: float) -> None:
        """A successful answer (or any answer that is not a throttle) to a request sent at
        `sent_at`, `latency` seconds after it left."""
        self._pending.done(sent_at)
        self._delivered.add(now)
        self._taken_since_cut += 1
        spent = self._spent_rate(now) is not None or self._nothing_cuts > 0
        self._refused_since = None
        self._nothing_cuts = 0
        if spent:
            # A spent quota takes requests again: from the safe rate, doubling. What the
            # search met before were the quota's refusals, not a rate's.
            self.bad = self.known = self.good = None
            self._set(now, max(self.floor, min(self.start, self.ceiling)), "resume")
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
        slow = typical > base * self.latency_rise and typical - base > self.latency_margin
        # Half that rise: no rate holds above an API that queues while it lasts.
        self._rising = (typical > base * (1 + (self.latency_rise - 1) / 2)
                        and typical - base > self.latency_margin / 2)
        if self._draining is not None:
            if not slow:
                self._draining = None  # the queue has drained: climbing may resume
                self._since = now
            elif typical > self._draining * 1.25:  # still growing: the cut was not enough
                self._queueing(now, sent_rate, typical)
            return
        probing = self.good is not None and sent_rate > self.good
        # Slower answers just after the rate rose are its queue. At a rate that held, they
        # may be the client's own machine (busy CPUs slow every answer): the API's queue
        # only if it also delivers less than it is sent.
        queueing = slow and (probing or self._queue_grows(now, typical))
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
        self._pending.done(sent_at)
        self._refusals.add(sent_at)
        if self.good is not None and sent_rate <= self.good:
            self._calm_refusals.add(sent_at)
        self._refused_since_cut += 1
        if self._refused_since is None:
            self._refused_since = now
        spent = self._spent_rate(now)
        if spent is not None:
            # Nothing taken for seconds: a quota spent until its window ends. Each refusal
            # sends the next request further off, a share of the time refused so far:
            # few refusals, and the window that reopens is used soon after.
            if spent < self._rate:
                self._set(now, spent, "quota spent", cut=True)
            return True
        if self._stale(sent_at):
            if self._taken_since_cut or self._refused_since_cut < self.nothing_taken:
                return False
            # Since the last cut the API has taken nothing at all: not the old rate
            # still in its window but a quota spent (until its window ends). The least
            # is sent until it takes again: each request in flight now is refused.
            self._nothing_cuts += 1
            self._cut(now, sent_rate, 0.0, "cut", least=True)
            return True
        if self._not_the_rate(now, sent_at, sent_rate):
            return False  # the refused request alone goes again; the rate stays
        self._queueing_api = False
        good = self.good
        if good is not None and sent_rate > good:
            accepted = self._estimate(sent_at, rate=sent_rate)
            noise = self.noise(sent_at)
            if noise and accepted is not None:
                # What the API took, with its chance refusals added back: the rate it
                # takes. A rate that held above it held by chance.
                accepted /= 1.0 - noise
                if accepted < good:
                    self.good = max(self.floor, accepted)
            self._step_back(now, sent_rate, accepted, "step back")
            return False
        before, restore = self._snapshot(), sent_rate
        chained = self._last_cut
        if chained is not None and self._cuts_in_a_row:
            # A cut on a cut, nothing held between: if the rate is not the cause, it is
            # the first one's that is undone.
            before, restore = chained.before, chained.restore
        self._cut(now, sent_rate, self._estimate(sent_at, steady=True, rate=sent_rate),
                  "cut")
        # On trial only when the second before this refusal had few others: many
        # refusals together are a limit.
        sends = self._sends.count(sent_at - 1.0, sent_at)
        few = self._refusals.count(sent_at - 1.0, sent_at) <= self.noise_ceiling * sends
        self._last_cut = _CutTrial(now, sent_rate, self._rate, before, restore) if few else None
        return True

    def _spent_rate(self, now: float) -> float | None:
        """While nothing has been taken for `spent_after` seconds of refusals: the rate
        that sends one request per `spent_growth` of that time (never sooner than the
        floor's, never more than `spent_longest` apart: an hour's quota is not waited
        half an hour past its end). None while the API takes requests."""
        since = self._refused_since
        if since is None or now - since < self.spent_after:
            return None
        return min(self.floor, 1.0 / min(self.spent_longest,
                                         self.spent_growth * (now - since)))

    def noise(self, moment: float) -> float:
        """The share of requests refused whatever the rate, once such refusals were seen
        (0 before): the refused share of the last `noise_span` seconds' sends at rates
        that held (never above: a climb's refusals are its own), weighed with the share
        first seen as if it were `noise_prior` more refusals, so that a few quiet seconds
        at a low rate do not forget it, and a long quiet run does."""
        learned = self._noise_learned
        if learned <= 0.0:
            return 0.0
        begin = moment - self.noise_span
        sends = self._calm_sends.count(begin, moment)
        refused = self._calm_refusals.count(begin, moment)
        return (refused + self.noise_prior) / (sends + self.noise_prior / learned)

    def _allowed(self, noise: float, sends: int) -> float:
        """Refusals among `sends` that a share of `noise` refused by chance explains."""
        if noise <= 0.0:
            return 0.0
        expected = noise * sends
        return expected + 2.0 * math.sqrt(expected) + 1.0

    def _not_the_rate(self, now: float, sent_at: float, sent_rate: float) -> bool:
        """This refusal is not the rate's doing (the caller retries the refused request
        alone, and the rate stays): once such refusals are known, no more of them came
        at this rate than their share explains; before, it is the first refusal at the
        rate a recent cut chose, or the second, far from the first (refusals close
        together are a limit the cut did not clear), and that undoes the cut."""
        end = sent_at + 1e-9
        noise = self.noise(end)
        if noise > 0.0:
            # At the rate it was sent at: a climb into a limit is told within a few
            # refusals, not after the seconds of a rate that held are outweighed.
            begin = max(sent_at - max(2.0, 3 * self.noise_sample / self._rate), self._since)
            sends = self._sends.count(begin, end)
            return self._refusals.count(begin, end) <= self._allowed(noise, sends)
        trial = self._last_cut
        if (trial is None or sent_at < trial.at + self.settle
                or sent_at > trial.at + max(self.noise_trial,
                                            self.noise_trial_sends / trial.cut_to)
                or sent_rate > min(max(trial.cut_to, self.good or 0.0),
                                   trial.rate * (1 - self.probe_step)) * 1.000001):
            # Sent above the rate the cut chose (and any that held since), or near the
            # rate refused before it: a limit may refuse that.
            return False
        begin = trial.at + self.settle
        if self._sends.count(begin, end) < self.noise_sample:
            return False
        previous = self._refusals.last_before(sent_at - 1e-9)
        if previous is None or previous < begin:
            # The first refusal at the rate the cut chose (or one that held since), after
            # some sends it took: a limit the cut did not clear refuses again at once.
            # This one goes again alone, and the next refusal says which it is.
            return True
        if self._sends.count(previous + 1e-9, sent_at) < self.noise_gap:
            return False  # refusals close together: a limit below the cut
        # Refusals apart, at a rate below what the API took (or it would not have held,
        # or would have refused at once): they come whatever the rate. The cut is undone,
        # and the limits met since such refusals began are forgotten: they were these.
        refused = self._refusals.count(begin, end)
        self._noise_learned = min(refused / self._sends.count(begin, end),
                                  self.noise_ceiling / 2)
        self._last_cut = None
        self._restore(trial.before)
        self.bad = self.known = None
        self._set(now, max(trial.restore, self._rate), "not the rate")
        return True

    def _snapshot(self) -> _Search:
        return _Search(self.good, self.bad, self.known, self._gentle, self._failed_probes,
                       self._base, self._bursty, self._cuts_in_a_row)

    def _restore(self, before: _Search) -> None:
        (self.good, self.bad, self.known, self._gentle, self._failed_probes, self._base,
         self._bursty, self._cuts_in_a_row) = (
            before.good, before.bad, before.known, before.gentle, before.failed_probes,
            before.base, before.bursty, before.cuts_in_a_row)

    # ------------------------------------------------------------------ decisions

    def _stale(self, sent_at: float) -> bool:
        return sent_at < self._cut_at + self.settle

    def _judged_until(self, now: float) -> float:
        """Every request sent before this moment has been answered."""
        oldest = self._pending.oldest(now - self.patience)
        return now if oldest is None else min(now, oldest)

    def _held(self, now: float) -> bool:
        """The rate was really used for the hold time, and every request sent at it in
        that time has been answered, none refused (else it taught nothing yet)."""
        end = self._judged_until(now)
        begin = end - self.hold
        oldest = self._sends.oldest()
        if begin < self._since or oldest is None or oldest > begin:
            return False  # not enough answered history at this rate to judge
        sends = self._sends.count(begin, end)
        if (self._refusals.count(begin, end) > self._allowed(self.noise(end), sends)
                or (self._queueing_api and self._rising)):
            return False
        return sends >= self.used * self._rate * self.hold

    def _probe_wait(self, rate: float) -> float:
        doubled = 2.0 ** min(self._failed_probes, self.probe_backoff)
        wait: float = max(self.probe_every, self.probe_requests / rate) * doubled
        return min(wait, max(self.probe_every, self.probe_longest))

    def _step_up(self, now: float) -> None:
        rate = self._rate
        self._cuts_in_a_row = 0
        step = 1 + self.probe_step
        if self.good is not None and rate > self.good and not self._bursty:
            self._failed_probes = 0  # a probe held: the next goes 5 % above it, at once
        self.good = max(self.good or 0.0, rate)
        if self.bad is not None and rate >= self.bad:
            # A probe held: the limit rose. What it was is kept, and climbed above gently.
            self.known = max(self.known or 0.0, self.bad)
            self.bad = None
        if rate < self.good:  # drained after queueing: back to what held
            self._set(now, self.good, "resume")
        elif self.bad is None:
            if self.known is None and not self._queueing_api:
                self._set(now, rate * self.growth, "climb")
            else:
                # Above a limit met before (or an API that queues, whose overshoot fills a
                # queue every request then waits for): 5 %, 10 %, 20 %... never x 2.
                # (After a stored burst ran out, 10 % at most: a burst pays for any step.)
                self._gentle = min(self._gentle + 1, 1 if self._bursty else 3)
                gentle = min(self.growth, 1 + self.probe_step * 2 ** self._gentle)
                self._set(now, rate * gentle, "climb")
        elif self.bad > self.good * step * 1.000001:
            self._set(now, min((self.good + self.bad) / 2, rate * self.growth), "climb")
        elif now - self._since >= self._probe_wait(rate):
            self._base = self.good  # where the probing starts: settled, long held
            # Each probe refused in a row at the same ceiling tries half as far above it
            # (5 %, 2.5 %, 1.25 %): the limit is between what held and what was refused.
            finer = 2.0 ** min(self._failed_probes, self.probe_backoff)
            self._set(now, self.good * (1 + self.probe_step / finer), "probe")

    def _met(self, bad: float) -> None:
        """A limit was met at `bad`: the climb above it starts again at 5 %."""
        self.bad = bad
        self.known = bad
        self._gentle = 0

    def _step_back(self, now: float, sent_rate: float, accepted: float | None,
                   why: str) -> None:
        good = self.good
        assert good is not None
        step = 1 + self.probe_step
        if sent_rate <= good * step * 1.000001:
            self._failed_probes += 1  # the limit is where it was: probe less often
        ceiling = sent_rate if accepted is None else min(sent_rate, max(accepted, good) * step)
        gentle = self.known is not None  # the climb was gentle: back to what held
        self._met(max(ceiling, good * 1.000001))
        self._stepped_back_at = now
        bad = self.bad
        assert bad is not None
        target = good if accepted is None or gentle else min(max(accepted, good), bad / step)
        if gentle and self._bursty and self._base is not None and self._base < good:
            # A stored burst ran out here before: the steps above the settled rate held
            # only for a moment each, which the burst paid for. Back to where the probing
            # started, and the next probe waits longer.
            target = self.good = self._base
            self._met(self._base * step)
            self._failed_probes += 1
        self._set(now, max(self.good or good, target), why, cut=True)

    def _cut(self, now: float, sent_rate: float, accepted: float | None, why: str,
             least: bool = False) -> None:
        # A first cut trusts the estimate (a limit a little lower than the rate that held
        # costs a little); a cut that did not help is followed by a multiplicative one,
        # whatever the estimate says, so an API that over-admits for a while (a burst
        # allowance) cannot keep the rate above its limit.
        self._cuts_in_a_row += 1
        first = self._cuts_in_a_row == 1 and accepted is not None
        upper = sent_rate * ((1 - self.probe_step) if first else self.decrease)
        # An estimate from a pause is not a limit; an API that took nothing at all (a quota
        # spent until its window ends) is sent little until it takes again.
        lower = sent_rate * self.decrease ** 3
        target = upper if accepted is None else min(upper, max(lower, accepted))
        target = self.floor if least else max(self.floor, target)
        # A cut just after a step back to a rate climbed to above the settled one: that
        # rate had held on a stored burst (a token bucket's), now spent. Probes wait
        # longer, and above the settled rate nothing that held for a moment is trusted.
        step = 1 + self.probe_step
        self._bursty = (now - self._stepped_back_at <= self.probe_every
                        and sent_rate > (self._base or 0.0) * (1 + 4 * self.probe_step))
        self.good = self._base = None
        self._failed_probes = self._failed_probes + 1 if self._bursty else 0
        step = 1 + self.probe_step
        self._met(max(target * step, sent_rate if accepted is None
                      else min(sent_rate, accepted * step)))
        self._set(now, target, why, cut=True)

    def _queue_grows(self, now: float, typical: float) -> bool:
        """The API delivers less than it is sent: a queue at the API grows. (A busy client
        machine slows every answer, and still gets back as many as it sends.)"""
        window = 2.0
        sent = self._sends.count(now - typical - window, now - typical)
        delivered = self._delivered.count(now - window, now)
        return sent > 0 and delivered < self.queue_share * sent

    def _queueing(self, now: float, sent_rate: float, typical: float) -> None:
        """The API answers slower: hold below the rate it delivers, so its queue drains."""
        delivered = self._delivered.count(now - 1.0, now)
        drain = 0.9
        if self.good is not None and sent_rate > self.good:
            good = self.good
            self._met(max(min(sent_rate, max(delivered, good) * (1 + self.probe_step)),
                          good * 1.000001))
            # Below what the API delivered only when it did deliver less than it was
            # sent (else the answers were slow for another reason: back to what held).
            grows = self._queue_grows(now, typical)
            target = min(good, delivered * drain) if delivered and grows else good
        elif not self._queue_grows(now, typical):
            # Slower, and yet as many answers as requests: a queue bounded by the
            # concurrency, or a busy client machine. A step down, not a cut.
            target = sent_rate * (1 - self.probe_step)
            self.good = None
            self._met(sent_rate)
        else:
            upper = sent_rate * self.decrease
            target = min(upper, max(sent_rate * self.decrease ** 2, delivered * drain))
            self.good = None
            self._met(max(target * (1 + self.probe_step), min(sent_rate, delivered)))
        self._draining = typical
        self._queueing_api = True
        self._set(now, max(self.floor, target), "queueing", cut=True)  # clears the group

    def _set(self, now: float, rate: float, why: str, cut: bool = False) -> None:
        # Below the floor only while a quota is spent (one request per many seconds).
        rate = max(rate if why == "quota spent" else self.floor, min(self.ceiling, rate))
        if cut:
            self.cuts += 1
            self._cut_at = now
            self._taken_since_cut = self._refused_since_cut = 0
            self._recent.clear()
        if rate == self._rate and not cut:
            return
        self._rate = rate
        self._since = now
        self.changes.append(Change(now, rate, why))

    def _estimate(self, sent_at: float, steady: bool = False, rate: float = 0.0
                  ) -> float | None:
        """What the API takes per second, from what it accepted before `sent_at`: that
        second's sends less its refusals (None when the run paused in it: no send for
        longer than `steady_gap` and than two sends' time, at the faster of `rate` and
        what that second sent). With `steady` (a refusal at a rate that held), the lower
        of that and what it took per second since an earlier refusal, when the
        run sent without a pause since: a token bucket is empty at both refusals, so what
        it took in between is its refill, not the burst it had stored. None when the
        history does not reach back a whole second."""
        oldest = self._sends.oldest()
        if oldest is None or oldest > sent_at - 1.0:
            return None
        sends = self._sends.count(sent_at - 1.0, sent_at)
        refused = self._refusals.count(sent_at - 1.0, sent_at)
        if sends and self._sends.widest_gap(sent_at - 1.0, sent_at) > max(
                self.steady_gap, 2.0 / max(sends, rate)):
            return None  # the run paused in that second: what it sent is not a limit
        second = float(max(0, sends - refused))  # 0: it took nothing (a spent quota)
        if not steady or not second:
            return second
        earlier = self._refusals.last_before(sent_at - self.long_span)
        if earlier is None or earlier < sent_at - self._sends.horizon:
            return second
        if self._sends.widest_gap(earlier, sent_at) > self.steady_gap:
            return second  # the run paused (a Retry-After): the span says nothing
        span = sent_at - earlier
        taken = (self._sends.count(earlier, sent_at)
                 - self._refusals.count(earlier, sent_at)) / span
        return min(second, taken)

    long_span = 2.0  # the shortest span between two refusals that estimates a refill rate
    nothing_taken = 4  # refusals since a cut, none taken, that mean a spent quota
    steady_gap = 0.5  # seconds without a send that make a span unsteady (a pause)
    probe_longest = 6.0  # seconds: the longest wait between two probes
    noise_span = 20.0  # seconds of sends whose refused share is the noise, once seen
    noise_sample = 10  # sends after a cut's settle second before its refusals are judged
    noise_gap = 10  # sends between two refusals at the rate a cut chose: not a limit
    noise_trial = 10.0  # seconds after a cut that its refusals are judged so...
    noise_trial_sends = 150  # ... or the time of this many sends at the rate it chose
    noise_ceiling = 0.1  # twice the most a share refused by chance is taken to be
    noise_prior = 3.0  # refusals the share first seen weighs as, in the noise
    spent_after = 2.0  # seconds of refusals, none taken, that make a quota spent
    spent_growth = 0.5  # ... then one request per this share of the time refused so far
    spent_longest = 10.0  # seconds: the longest wait between two requests into a quota
