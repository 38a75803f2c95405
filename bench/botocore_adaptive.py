"""botocore's "adaptive" retry mode, ported to bulkedit's rate interface: the reference
`--rate auto` is measured against (bench/bench_rate.py). Written from the algorithm in
botocore's retries/adaptive.py, throttling.py and bucket.py (Apache-2.0), not copied:

- a CUBIC curve sets the rate: after a throttle at rate W the rate drops to 0.7 W, then
  follows 0.4 (t - K)^3 + W, K = cbrt(W (1 - 0.7) / 0.4): back to W after K seconds, above
  it after that;
- the rate W is the *measured* rate of answers (an exponential average over half-second
  buckets, smoothing 0.8), capped by the bucket's rate once limiting is on;
- the limiter is off until the first throttle (requests go as fast as the concurrency
  allows), and the rate never exceeds twice the measured rate;
- the token bucket's floor is 0.5/s.

Used only here, never by bulkedit itself. Every worker honours a Retry-After, as the
dispatcher does for any rate that is not a probe of its own.
"""

from __future__ import annotations

import math

UNLIMITED = 10_000.0  # before the first throttle: no limit (the concurrency is the cap)


class _RateClocker:
    def __init__(self, now: float, smoothing: float = 0.8, bucket: float = 0.5):
        self.smoothing = smoothing
        self.scale = 1 / bucket
        self.measured = 0.0
        self._last_bucket = math.floor(now)
        self._count = 0

    def record(self, now: float) -> float:
        bucket = math.floor(now * self.scale) / self.scale
        self._count += 1
        if bucket > self._last_bucket:
            current = self._count / (bucket - self._last_bucket)
            self.measured = current * self.smoothing + self.measured * (1 - self.smoothing)
            self._count = 0
            self._last_bucket = bucket
        return self.measured


class _Cubic:
    def __init__(self, now: float, scale: float = 0.4, beta: float = 0.7):
        self.w_max = 0.0
        self.scale = scale
        self.beta = beta
        self.last_fail = now
        self.k = self._zero_point()

    def _zero_point(self) -> float:
        return float((self.w_max * (1 - self.beta) / self.scale) ** (1 / 3))

    def success(self, now: float) -> float:
        return self.scale * (now - self.last_fail - self.k) ** 3 + self.w_max

    def error(self, rate: float, now: float) -> float:
        self.w_max = rate
        self.k = self._zero_point()
        self.last_fail = now
        return rate * self.beta


class BotocoreAdaptive:
    """The same calls as bulkedit.core.autorate.RateFinder."""

    def __init__(self, now: float = 0.0, min_rate: float = 0.5):
        self._cubic = _Cubic(now)
        self._clocker = _RateClocker(now)
        self._enabled = False
        self._min_rate = min_rate
        self._bucket_rate = 1.0
        self.cuts = 0
        self.ceiling: float | None = None  # botocore has no upper bound of its own
        self.changes: list[object] = []

    def rate(self, now: float) -> float:
        return self._bucket_rate if self._enabled else UNLIMITED

    @property
    def current(self) -> float:
        return self._bucket_rate if self._enabled else UNLIMITED

    @property
    def found(self) -> float | None:
        return self._bucket_rate if self._enabled else None  # no rate until a throttle

    def sent(self, now: float) -> float:
        return self.current

    def answered(self, now: float, sent_at: float, sent_rate: float, latency: float) -> None:
        measured = self._clocker.record(now)
        self._set(min(self._cubic.success(now), 2 * measured))

    def refused(self, now: float, sent_at: float, sent_rate: float) -> bool:
        measured = self._clocker.record(now)
        rate = measured if not self._enabled else min(measured, self._bucket_rate)
        new = self._cubic.error(rate, now)
        self._enabled = True
        self.cuts += 1
        self._set(min(new, 2 * measured))
        return True

    def _set(self, rate: float) -> None:
        self._bucket_rate = max(rate, self._min_rate)
