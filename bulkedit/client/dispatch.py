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
from bulkedit.core.errors import ApiError, AuthError, PermanentError, RateLimited, RunAborted
from bulkedit.core.policy import AdaptiveRate, CircuitBreaker, DisguisedThrottle, RetryPolicy
from bulkedit.core.protocol import HttpRequest
from bulkedit.core.throttle import QuotaWatch


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


def _seconds(delay: float) -> str:
    return f"{delay:.1f} s" if delay >= 0.1 else f"{delay * 1000:.0f} ms"


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
    """The limiter at the current rate (`rate_at(now)`, None: no limit), a pause all
    workers honour (a Retry-After), and a hold (a quota window): every worker waits,
    and at `probe_at` one of them, the probe, goes through alone."""

    def __init__(self, rate_at: Callable[[float], float] | None, clock: Callable[[], float],
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self._rate_at = rate_at
        self._clock = clock
        self._sleep = sleep
        self._limiter_rate = rate_at(clock()) if rate_at else 0.0
        self._limiter = bucket_limiter(self._limiter_rate) if rate_at else None
        self._resume_at = 0.0
        self._held = False
        self._probe_at = 0.0
        self._probe_out = False  # the probe left, its answer is awaited
        self.changed = asyncio.Event()  # set (and replaced) whenever the hold changes

    def pause_until(self, moment: float) -> None:
        self._resume_at = max(self._resume_at, moment)

    @property
    def held(self) -> bool:
        return self._held

    def hold(self, probe_at: float) -> None:
        """Hold every worker; at `probe_at`, let one request through: the probe."""
        self._held, self._probe_at, self._probe_out = True, probe_at, False
        self._changed()

    def release(self) -> None:
        if self._held:
            self._held = False
            self._changed()

    def _changed(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()

    def open(self) -> bool:
        """Nothing to wait for: no limit, no pause and no hold."""
        return (self._rate_at is None and not self._held
                and self._resume_at <= self._clock())

    async def _nap(self, seconds: float | None) -> None:
        """Until `seconds` pass (None: forever) or the hold changes, whichever is first."""
        changed = self.changed
        if seconds is None:
            await changed.wait()
        elif self._sleep is not asyncio.sleep:  # an injected clock: its sleep
            await self._sleep(seconds)
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), seconds)

    async def acquire(self) -> bool:
        """Wait for the right to send; True when this request is a quota window's probe."""
        while True:
            if self._held:
                if self._probe_out:
                    await self._nap(None)  # until the probe's answer changes the hold
                    continue
                wait = self._probe_at - self._clock()
                if wait > 0:
                    await self._nap(wait)
                    continue
                self._probe_out = True
                return True
            wait = self._resume_at - self._clock()
            if wait > 0:
                await self._sleep(wait)
                continue
            if self._rate_at is None or self._limiter is None:
                return False
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
            if self._clock() >= self._resume_at and not self._held:
                return False


class Dispatcher:
    def __init__(self, client: Sender, *, rate: float | Literal["auto"] | None,
                 concurrency: int, max_rate: float = MAX_RATE,
                 policy: RetryPolicy | None = None, breaker: CircuitBreaker | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 draw: Callable[[], float] = random.random,
                 sleep: Callable[[float], Awaitable[None]] | None = None,
                 finder: RateControl | None = None, quota: QuotaWatch | None = None,
                 notify: Callable[[str], None] | None = None,
                 wall: Callable[[], float] = time.time,
                 detail: Callable[[str], None] | None = None):
        """`rate`: requests per second, "auto" to find it (up to `max_rate`), or None for
        no limit. `clock`, `draw` and `sleep` are injectable so that tests drive retries,
        pauses and the breaker on a fake clock, instantly. Without `sleep`, a retry's wait
        ends early when the run is stopped. `finder` replaces the default RateFinder;
        `quota` the default QuotaWatch (its throttle budget); `notify` hears each notice
        (a quota window met, waited out) as it happens, and `notices` keeps them;
        `detail` hears each retry and each throttled answer (--verbose)."""
        self.client = client
        self.concurrency = max(1, concurrency)
        self.policy = policy or RetryPolicy()
        self.breaker = breaker or CircuitBreaker()
        self.quota = quota or QuotaWatch()
        self.clock = clock
        self.wall = wall
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
        self.notices: list[str] = []
        self._notify = notify
        self._detail = detail
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
        # Said only when a quota window was met: what held the run, and for how long.
        throttling = self.quota.report() if self.quota.windows else {}
        if self.finder is not None:
            held = self.finder.found  # None: no rate held long enough
            return {"mode": "auto", "max_per_second": self.finder.ceiling,
                    "found_per_second": round(held, 2) if held is not None else None,
                    "final_per_second": round(self.finder.current, 2),
                    "cuts": self.finder.cuts, **throttling}
        if self.rate is not None:
            return {"mode": "fixed", "per_second": self.rate.target,
                    "cuts": self.rate.cuts, **throttling}
        return {"mode": "none", **throttling}

    def stop(self) -> None:
        """Take no new job and start no retry; requests in flight finish."""
        self._stop.set()

    async def run(self, jobs: Iterable[Job], on_result: Callable[[JobResult], None],
                  on_start: Callable[[Job], None] | None = None) -> None:
        """Run every job (until stopped); RunAborted when the circuit breaker trips or
        the throttle budget runs out.

        `on_start` hears of each job just before its first attempt (the journal marks
        the row as sent), `on_result` as soon as its outcome is known. A job whose every
        attempt was throttled when the run stopped has no outcome: the API took none of
        its requests, so it was not sent, and `on_result` does not hear of it.
        """
        pending = iter(jobs)
        broken: list[Exception] = []  # a callback that failed (a full disk): stop, then raise

        async def worker() -> None:
            for job in pending:
                probe = await self._admitted()
                if probe is None:
                    return
                try:
                    if on_start is not None:
                        on_start(job)
                except Exception as error:  # the job is not sent
                    broken.append(error)
                    self._stop.set()
                    return
                result = await self._run_job(job, probe)
                if result is None:  # throttled until the run stopped: not sent
                    continue
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
        if self.quota.reason is not None:
            raise RunAborted(self.quota.reason)

    async def _admitted(self) -> bool | None:
        """Wait at the gate; None when the run is stopped meanwhile, else whether this
        request is a quota window's probe. A long wait (a Retry-After of an hour, a rate
        of one an hour) must not keep a stopped run from ending: the job is then not
        started, so not sent. A request the gate let through waits for the hold of a
        quota window met since (another worker's answer, before this one resumed): it
        has not left, so it does not go into the window beside the probe."""
        if self._stop.is_set():
            return None
        if self._gate.open():
            return False
        gate = asyncio.ensure_future(self._gate.acquire())
        stop = asyncio.ensure_future(self._stop.wait())
        done, _ = await asyncio.wait({gate, stop}, return_when=asyncio.FIRST_COMPLETED)
        for waiting in (gate, stop):
            if waiting not in done:
                waiting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waiting
        if gate not in done or self._stop.is_set():
            if gate in done and gate.result():
                self._probe_lost()  # the probe slot taken by a stopped worker: free it
            return None
        if not gate.result() and self._gate.held:
            return await self._admitted()  # wait with the others, for the probe's answer
        return bool(gate.result())

    async def _wait(self, delay: float) -> None:
        """A retry's wait: cut short by a stop, or by a quota window's hold or release
        (then the gate says when to go)."""
        if self._sleep is not None:
            await self._sleep(delay)
            return
        waits = {asyncio.ensure_future(self._stop.wait()),
                 asyncio.ensure_future(self._gate.changed.wait())}
        await asyncio.wait(waits, timeout=delay,
                           return_when=asyncio.FIRST_COMPLETED)
        for waiting in waits:
            waiting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await waiting

    async def _run_job(self, job: Job, probe: bool = False) -> JobResult | None:
        """One job to its end: its result, or None when the run stopped while it was
        throttled and the API had taken none of its requests (it was not sent)."""
        started = time.time()
        attempts = 0  # requests sent
        tries = 0  # attempts that count toward max_attempts: throttles do not
        throttles = 0  # throttled answers in a row
        failing_since: float | None = None  # the first failure that is not a throttle
        last_failure: ApiError | None = None  # ... and the latest
        suspect = None  # the signature of a 403 this job is retrying once
        suspect_sent = (0.0, 0.0)  # when, and at what rate, that 403's request left
        finder = self.finder
        first_pass = True
        while True:
            if not first_pass:  # the first attempt passed the gate in run()
                admitted = await self._admitted()
                if admitted is None:
                    return self._given_up(job, last_failure, attempts, started)
                probe = admitted
            first_pass = False
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
                self._count(error, sent_at, sent_rate, probe)
                if isinstance(error, RateLimited):
                    # Throttled: not applied, not a failure. It waits and goes again; the
                    # run's throttle budget (core/throttle.py) bounds the waiting.
                    throttles += 1
                    if self._stop.is_set():
                        return self._given_up(job, last_failure, attempts, started)
                    if not self._gate.held:
                        self.stats.retries += 1
                        pause = self.policy.throttle_delay(throttles, error.retry_after,
                                                           self.draw())
                        self._said(job, error, f"throttled; again in {_seconds(pause)}")
                        await self._wait(pause)
                    else:
                        self.stats.retries += 1
                        self._said(job, error, "throttled; again once the quota window "
                                               "turns")
                    continue
                throttles = 0
                tries += 1
                now = self.clock()
                failing_since = now if failing_since is None else failing_since
                last_failure = error
                if finder is not None and isinstance(error, PermanentError):
                    finder.answered(now, sent_at, sent_rate, now - sent_at)
                elif finder is not None and not isinstance(error, RateLimited):
                    finder.lost(self.clock(), sent_at)  # a 5xx, a timeout: not waited for
                retried = error
                if self.disguised.worth_a_retry(error, tries):
                    suspect = self.disguised.signature(error)
                    suspect_sent = (sent_at, sent_rate)
                    retried = RateLimited(error.message, retry_after=None, status=403)
                delay = self.policy.delay(retried, tries, now - failing_since, self.draw())
                if delay is None or self._stop.is_set():
                    return JobResult(job.key, None, error, attempts, started, time.time())
                self.stats.retries += 1
                self._said(job, error, f"attempt {tries + 1} of {self.policy.max_attempts} "
                                       f"in {_seconds(delay)}")
                await self._wait(delay)
                if self._stop.is_set():
                    return JobResult(job.key, None, error, attempts, started, time.time())
                continue
            now = self.clock()
            self._answered(now)
            if finder is not None:
                finder.answered(now, sent_at, sent_rate, now - sent_at)
            if suspect is not None:  # the 403 went away on its own: it was throttling
                self.disguised.recovered(suspect)
                self._throttled(*suspect_sent)
            return JobResult(job.key, value, None, attempts, started, time.time())

    def _given_up(self, job: Job, failure: ApiError | None, attempts: int,
                  started: float) -> JobResult | None:
        """The run stopped while the job waited to go again. Only throttled so far: not
        sent (None). Else the failure that may have reached the API (a timeout)."""
        if failure is None:
            return None
        return JobResult(job.key, None, failure, attempts, started, time.time())

    def _said(self, job: Job, error: ApiError, then: str) -> None:
        """A retry, for `detail`: the request (method and path, never a token or a
        value), what came back, and what happens next."""
        if self._detail is not None:
            status = f"{error.status} " if error.status is not None else ""
            self._detail(f"{job.request.method} {job.request.path}: {status}"
                         f"{error.message}; {then}")

    def _tell(self, notice: str) -> None:
        self.notices.append(notice)
        if self._notify is not None:
            self._notify(notice)

    def _answered(self, now: float) -> None:
        """The API answered, and not with a throttle: a quota window is over."""
        if self.rate is not None:
            self.rate.answered(now)
        told = self.quota.answered(now)
        if told is not None:
            self._tell(told)
        self._gate.release()

    def _probe_lost(self) -> None:
        if self._gate.held:
            self._gate.hold(self.clock() + self.quota.probe_lost())

    def _count(self, error: ApiError, sent_at: float, sent_rate: float,
               probe: bool = False) -> None:
        if error.status is not None:
            self.stats.by_status[error.status] = self.stats.by_status.get(error.status, 0) + 1
        if not isinstance(error, RateLimited):
            if isinstance(error, PermanentError | AuthError):
                self._answered(self.clock())  # an answer of its own: the API is there
            elif probe:
                self._probe_lost()  # a 5xx or a timeout tells nothing of the window
            return
        self.stats.rate_limited += 1
        now = self.clock()
        held = self._gate.held
        finder = self.finder
        if finder is not None:
            # With --rate auto the finder paces a spent window itself (core/autorate.py,
            # issue 27): holding every worker on top of it loses much of each reopened
            # window, so the window is only told, once the finder has heard this refusal
            # (it may be what tells it the quota is spent).
            everyone_waits = self._throttled(sent_at, sent_rate, counted=True)
            told = self.quota.throttled(now, self.wall(), error.retry_after, probe,
                                        paced=True, spent=finder.quota_spent)
            if told is not None:
                self._tell(told.notice)
            if error.retry_after is not None and everyone_waits:
                self._gate.pause_until(now + error.retry_after)
            return
        hold = self.quota.throttled(now, self.wall(), error.retry_after, probe)
        if hold is not None:
            self._tell(hold.notice)
        if hold is not None and hold.kind != "paced":
            if hold.kind == "exhausted":
                self._gate.release()
                self.stop()
            else:
                self._gate.hold(now + hold.wait)
            return
        if held:
            return  # left before the window was seen: the window, not the rate
        everyone_waits = self._throttled(sent_at, sent_rate, counted=True)
        if error.retry_after is not None and everyone_waits:
            self._gate.pause_until(now + error.retry_after)

    def _throttled(self, sent_at: float, sent_rate: float, counted: bool = False) -> bool:
        """A rate-limit answer, or a 403 that turned out to be one: slow down when it is a
        limit. True when every worker waits out its Retry-After: with a fixed rate, only
        when the throttles are a limit (the rate was cut), never for one by chance; with
        a found rate, not when the throttle answered a probe above the rate that held,
        which is stepped back from at once (the refused request still waits)."""
        if not counted:
            self.stats.rate_limited += 1
        if self.finder is not None:
            before = self.finder.cuts
            everyone = self.finder.refused(self.clock(), sent_at, sent_rate)
            self.stats.rate_cuts += self.finder.cuts - before
            return everyone
        if self.rate is not None:
            before = self.rate.cuts
            cut = self.rate.rate_limited(self.clock())
            self.stats.rate_cuts += self.rate.cuts - before
            return cut
        return True
