"""The async engine: rate-limited, bounded, retrying, stoppable (DESIGN.md §6).

A token bucket (aiolimiter) sized so that no one-second window ever holds more
than the rate (perf-notes.md §5), `concurrency` workers (the cap on requests in
flight), retries of transient failures only (core/policy.py), a shared pause when the
API says Retry-After, and a circuit breaker. The rate is either fixed, with AIMD below
it on rate limits, or found as the run goes (`rate="auto"`, core/autorate.py), which is
told of every send and answer. Each job's result reaches the caller through a callback
as soon as it is known.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from aiolimiter import AsyncLimiter

from bulkedit.core.autorate import MAX_RATE, RateControl, RateFinder
from bulkedit.core.errors import ApiError, PermanentError, RateLimited, RunAborted
from bulkedit.core.policy import AdaptiveRate, CircuitBreaker, DisguisedThrottle, RetryPolicy
from bulkedit.core.protocol import HttpRequest


class Sender(Protocol):
    async def send(self, request: HttpRequest) -> Any: ...


@dataclass(frozen=True)
class Job:
    key: Any  # the caller's name for it: a row, a batch
    request: HttpRequest


@dataclass
class JobResult:
    key: Any
    value: Any = None
    error: ApiError | None = None
    attempts: int = 0
    started: float = 0.0  # unix time of the first attempt
    finished: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class DispatchStats:
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    rate_cuts: int = 0
    by_status: dict[int, int] = field(default_factory=dict)


# Below this rate a bucket of one request is exact enough: a late timer wake-up costs
# little of a long period. Above it, a bucket of two or more absorbs those late
# wake-ups, which a bucket of one loses (47/s instead of 49 at 50/s, here).
_SINGLE_BUCKET_BELOW = 25
# A 2 % margin keeps a strict server-side window from seeing R + 1 when one request
# leaves a little late and the next on time.
_MARGIN = 0.98


def bucket_limiter(rate: float) -> AsyncLimiter:
    """A token bucket that never lets more than `rate` through in any one-second window.

    `AsyncLimiter(R, 1)` starts full and lets 2R through in the first second and
    after every pause. A bucket of c requests leaking at R - c per second holds at
    most R in any second and sustains ~95-97 % of R (perf-notes.md §5: c = R/20).
    """
    if rate < _SINGLE_BUCKET_BELOW:
        return AsyncLimiter(1, 1 / (rate * _MARGIN))
    capacity = max(2, math.floor(rate / 20))
    return AsyncLimiter(capacity, capacity / (rate - capacity))


class RateGate:
    """The limiter at the current rate (`rate_at(now)`, None: no limit), plus a pause all
    workers honour."""

    def __init__(self, rate_at: Callable[[float], float] | None, clock: Callable[[], float],
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self._rate_at = rate_at
        self._clock = clock
        self._sleep = sleep
        self._limiter_rate = rate_at(clock()) if rate_at else 0.0
        self._limiter = bucket_limiter(self._limiter_rate) if rate_at else None
        self._resume_at = 0.0

    def pause_until(self, moment: float) -> None:
        self._resume_at = max(self._resume_at, moment)

    def open(self) -> bool:
        """Nothing to wait for: no limit and no pause."""
        return self._rate_at is None and self._resume_at <= self._clock()

    async def acquire(self) -> None:
        while True:
            wait = self._resume_at - self._clock()
            if wait > 0:
                await self._sleep(wait)
                continue
            if self._rate_at is None or self._limiter is None:
                return
            current = self._rate_at(self._clock())
            if abs(current - self._limiter_rate) > 0.02 * self._limiter_rate:
                # A new bucket starts full: a change of rate is not a burst on top of the
                # requests that just left.
                self._limiter = bucket_limiter(current)
                self._limiter_rate = current
                await self._limiter.acquire(self._limiter.max_rate)
            limiter = self._limiter
            await limiter.acquire()
            if limiter is not self._limiter:
                continue  # the rate changed while this worker waited: wait at the new one
            if self._clock() >= self._resume_at:
                return


class Dispatcher:
    def __init__(self, client: Sender, *, rate: float | Literal["auto"] | None,
                 concurrency: int, max_rate: float = MAX_RATE,
                 policy: RetryPolicy | None = None, breaker: CircuitBreaker | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 draw: Callable[[], float] = random.random,
                 sleep: Callable[[float], Awaitable[None]] | None = None,
                 finder: RateControl | None = None):
        """`rate`: requests per second, "auto" to find it (up to `max_rate`), or None for
        no limit. `clock`, `draw` and `sleep` are injectable so that tests drive retries,
        pauses and the breaker on a fake clock, instantly. Without `sleep`, a retry's wait
        ends early when the run is stopped. `finder` replaces the default RateFinder."""
        self.client = client
        self.concurrency = max(1, concurrency)
        self.policy = policy or RetryPolicy()
        self.breaker = breaker or CircuitBreaker()
        self.clock = clock
        self.rate: AdaptiveRate | None = None  # a fixed rate, AIMD below it
        self.finder: RateControl | None = None  # or a rate found as the run goes
        rate_at: Callable[[float], float] | None = None
        if rate == "auto" or finder is not None:
            self.finder = finder or RateFinder(max_rate, now=clock())
            rate_at = self.finder.rate
        elif rate:
            self.rate = AdaptiveRate(rate)
            rate_at = self.rate.rate
        self.draw = draw
        self.stats = DispatchStats()
        self._sleep = sleep
        self._gate = RateGate(rate_at, clock, sleep or asyncio.sleep)
        self._stop = asyncio.Event()
        self.disguised = DisguisedThrottle()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def current_rate(self) -> float | None:
        """The rate requests are sent at now (None: no limit)."""
        if self.finder is not None:
            return self.finder.current
        return self.rate.rate(self.clock()) if self.rate is not None else None

    def rate_report(self) -> dict[str, Any]:
        """How the rate was set, or what was found: for the summary."""
        if self.finder is not None:
            held = self.finder.found  # None: no rate held long enough
            return {"mode": "auto", "max_per_second": self.finder.ceiling,
                    "found_per_second": round(held, 2) if held is not None else None,
                    "final_per_second": round(self.finder.current, 2),
                    "cuts": self.finder.cuts}
        if self.rate is not None:
            return {"mode": "fixed", "per_second": self.rate.target,
                    "cuts": self.rate.cuts}
        return {"mode": "none"}

    def stop(self) -> None:
        """Take no new job and start no retry; requests in flight finish."""
        self._stop.set()

    async def run(self, jobs: Iterable[Job], on_result: Callable[[JobResult], None],
                  on_start: Callable[[Job], None] | None = None) -> None:
        """Run every job (until stopped); RunAborted when the circuit breaker trips.

        `on_start` hears of each job just before its first attempt (the journal marks
        the row as sent), `on_result` as soon as its outcome is known.
        """
        pending = iter(jobs)
        broken: list[Exception] = []  # a callback that failed (a full disk): stop, then raise

        async def worker() -> None:
            for job in pending:
                if self._stop.is_set() or not await self._admitted():
                    return
                try:
                    if on_start is not None:
                        on_start(job)
                except Exception as error:  # the job is not sent
                    broken.append(error)
                    self._stop.set()
                    return
                result = await self._run_job(job, admitted=True)
                try:
                    on_result(result)
                except Exception as error:  # the other workers' requests in flight finish
                    broken.append(error)
                    self._stop.set()
                    return
                if self.breaker.record(result.error):
                    self._stop.set()

        await asyncio.gather(*(worker() for _ in range(self.concurrency)))
        if broken:
            raise broken[0]
        if self.breaker.tripped:
            raise RunAborted(self.breaker.reason or "the run stopped early")

    async def _admitted(self) -> bool:
        """Wait at the gate for a job's first attempt; False when the run is stopped
        meanwhile. A long wait (a Retry-After of an hour, a rate of one an hour) must not
        keep a stopped run from ending: the job is then not started, so not sent."""
        if self._gate.open():
            return True
        gate = asyncio.ensure_future(self._gate.acquire())
        stop = asyncio.ensure_future(self._stop.wait())
        done, _ = await asyncio.wait({gate, stop}, return_when=asyncio.FIRST_COMPLETED)
        for waiting in (gate, stop):
            if waiting not in done:
                waiting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waiting
        return gate in done and not self._stop.is_set()

    async def _run_job(self, job: Job, admitted: bool = False) -> JobResult:
        first = self.clock()
        started = time.time()
        attempts = 0
        suspect = None  # the signature of a 403 this job is retrying once
        suspect_sent = (0.0, 0.0)  # when, and at what rate, that 403's request left
        finder = self.finder
        while True:
            if not admitted:  # the first attempt passed the gate in _admitted
                await self._gate.acquire()
            admitted = False
            attempts += 1
            self.stats.requests += 1
            sent_at = self.clock()
            sent_rate = finder.sent(sent_at) if finder is not None else 0.0
            try:
                value = await self.client.send(job.request)
            except ApiError as error:
                self.disguised.observe(error, id(job))  # keys need not be hashable
                if self.disguised.is_throttle(error):  # known throttling in disguise
                    error = RateLimited(error.message, retry_after=None, status=403,
                                        type=error.type)
                self._count(error, sent_at, sent_rate)
                if finder is not None and isinstance(error, PermanentError):
                    now = self.clock()  # the API answered, and how fast tells of its load
                    finder.answered(now, sent_at, sent_rate, now - sent_at)
                elif finder is not None and not isinstance(error, RateLimited):
                    finder.lost(self.clock(), sent_at)  # a 5xx, a timeout: not waited for
                retried = error
                if self.disguised.worth_a_retry(error, attempts):
                    suspect = self.disguised.signature(error)
                    suspect_sent = (sent_at, sent_rate)
                    retried = RateLimited(error.message, retry_after=None, status=403)
                delay = self.policy.delay(retried, attempts, self.clock() - first,
                                          self.draw())
                if delay is None or self._stop.is_set():
                    return JobResult(job.key, None, error, attempts, started, time.time())
                self.stats.retries += 1
                if self._sleep is not None:
                    await self._sleep(delay)
                else:
                    with contextlib.suppress(TimeoutError):  # a stop cuts the wait short
                        await asyncio.wait_for(self._stop.wait(), delay)
                if self._stop.is_set():
                    return JobResult(job.key, None, error, attempts, started, time.time())
                continue
            if finder is not None:
                now = self.clock()
                finder.answered(now, sent_at, sent_rate, now - sent_at)
            if suspect is not None:  # the 403 went away on its own: it was throttling
                self.disguised.recovered(suspect)
                self._throttled(*suspect_sent)
            return JobResult(job.key, value, None, attempts, started, time.time())

    def _count(self, error: ApiError, sent_at: float, sent_rate: float) -> None:
        if error.status is not None:
            self.stats.by_status[error.status] = self.stats.by_status.get(error.status, 0) + 1
        if isinstance(error, RateLimited):
            everyone_waits = self._throttled(sent_at, sent_rate)
            if error.retry_after is not None and everyone_waits:
                self._gate.pause_until(self.clock() + error.retry_after)

    def _throttled(self, sent_at: float, sent_rate: float) -> bool:
        """A rate-limit answer, or a 403 that turned out to be one: slow down. True when
        every worker waits out its Retry-After; with a found rate, not when the throttle
        answered a probe above the rate that held, which is stepped back from at once
        (the refused request still waits its Retry-After)."""
        self.stats.rate_limited += 1
        if self.finder is not None:
            before = self.finder.cuts
            everyone = self.finder.refused(self.clock(), sent_at, sent_rate)
            self.stats.rate_cuts += self.finder.cuts - before
            return everyone
        if self.rate is not None:
            before = self.rate.cuts
            self.rate.rate_limited(self.clock())
            self.stats.rate_cuts += self.rate.cuts - before
        return True
