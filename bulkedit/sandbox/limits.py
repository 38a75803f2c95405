"""Rate limits and the counters tests read: both measured on a monotonic clock."""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field


class SlidingWindow:
    """At most `limit` events in any `window` seconds; says how long until the next fits."""

    def __init__(self, limit: int, window: float):
        self.limit = limit
        self.window = window
        self._stamps: deque[float] = deque()

    def admit(self, now: float, limit: int | None = None) -> float:
        """0.0 if an event at `now` is admitted (and counted), else seconds to wait.
        `limit` replaces the window's own for this call (a limit that changes)."""
        limit = self.limit if limit is None else limit
        stamps = self._stamps
        while stamps and stamps[0] <= now - self.window:
            stamps.popleft()
        if len(stamps) < limit:
            stamps.append(now)
            return 0.0
        # When the window holds more than a lowered limit, more must leave than one.
        return stamps[len(stamps) - limit] + self.window - now


class FixedWindow:
    """At most `limit` events per window of `window` seconds, the windows back to back from
    the first event: the kind of quota that refuses everything once spent."""

    def __init__(self, limit: int, window: float):
        self.limit = limit
        self.window = window
        self._start: float | None = None
        self._count = 0

    def admit(self, now: float) -> float:
        """0.0 if admitted (and counted), else the seconds until the window turns."""
        if self._start is None:
            self._start = now
        turns = math.floor((now - self._start) / self.window)
        begin = self._start + turns * self.window
        if turns > 0:
            self._start, self._count = begin, 0
        if self._count < self.limit:
            self._count += 1
            return 0.0
        return begin + self.window - now


class TokenBucket:
    """`burst` requests at once, refilled at `refill` a second."""

    def __init__(self, burst: int, refill: float):
        self.burst = burst
        self.refill = refill
        self._tokens = float(burst)
        self._at: float | None = None

    def admit(self, now: float) -> float:
        """0.0 if admitted (a token taken), else the seconds until a token is there."""
        if self._at is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.refill)
        self._at = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.refill


class PeakPerWindow:
    """The largest number of events seen in any window of `window` seconds."""

    def __init__(self, window: float = 1.0):
        self.window = window
        self.peak = 0
        self._stamps: deque[float] = deque()

    def add(self, now: float) -> None:
        stamps = self._stamps
        stamps.append(now)
        while stamps[0] <= now - self.window:
            stamps.popleft()
        self.peak = max(self.peak, len(stamps))


@dataclass
class Counters:
    """What the sandbox has served, for tests and benchmarks."""

    requests: Counter[str] = field(default_factory=Counter)  # by endpoint name
    statuses: Counter[int] = field(default_factory=Counter)
    rate_limited: int = 0  # answers refused for the rate (429 or 403)
    faults: Counter[str] = field(default_factory=Counter)  # fail / timeout / drop
    writes: Counter[str] = field(default_factory=Counter)  # applied edits per video
    source_replacements: int = 0  # edits that wrote `url`
    tokens_issued: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    peak: PeakPerWindow = field(default_factory=PeakPerWindow)
    peak_per_token: dict[str, PeakPerWindow] = field(default_factory=dict)
    # Per API key (issue 30): what each account's key asked, wrote and was refused, so a
    # test proves every row went through its own account and none through another's.
    requests_by_key: Counter[str] = field(default_factory=Counter)  # authenticated /rest
    writes_by_key: dict[str, Counter[str]] = field(default_factory=dict)  # key: video: n
    not_owner_by_key: Counter[str] = field(default_factory=Counter)  # edits refused 403
    rate_limited_by_key: Counter[str] = field(default_factory=Counter)
    peak_per_key: dict[str, PeakPerWindow] = field(default_factory=dict)

    @property
    def max_per_second(self) -> int:
        """Most /rest requests received in any one-second window."""
        return self.peak.peak

    def max_per_second_for(self, token: str) -> int:
        window = self.peak_per_token.get(token)
        return window.peak if window else 0

    def max_per_second_of_key(self, key: str) -> int:
        """Most /rest requests of one API key (all its tokens) in any one-second window."""
        window = self.peak_per_key.get(key)
        return window.peak if window else 0


class TokenLimits:
    """A token's per-second window and hourly quota."""

    def __init__(self, rate: float | Callable[[], float | None] | None, hourly: int | None,
                 clock: Callable[[], float], window: FixedWindow | None = None,
                 bucket: TokenBucket | None = None):
        """`rate`: requests per second, or a function of now (a schedule)."""
        self._clock = clock
        self._rate_now = rate if callable(rate) else (lambda: rate)
        self._second = SlidingWindow(1, 1.0)
        self._hour = SlidingWindow(hourly, 3600.0) if hourly else None
        self._window = window
        self._bucket = bucket

    def admit(self) -> float:
        """0.0 when the request may go on, else the seconds to wait (Retry-After)."""
        now = self._clock()
        rate = self._rate_now()
        if rate:
            wait = self._second.admit(now, max(1, math.floor(rate)))
            if wait > 0:
                return wait
        for limit in (self._window, self._bucket):
            if limit is not None:
                wait = limit.admit(now)
                if wait > 0:
                    return wait
        if self._hour is not None:
            return self._hour.admit(now)
        return 0.0
