"""How hard to push and when to stop: the user's limits (ApiLimits), retry backoff, AIMD
rate and circuit breaker.

Pure: every decision takes the time and the random draw as arguments, so it is
tested with plain values. client/dispatch.py applies these decisions to real requests.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from dataclasses import dataclass
from typing import Literal

from bulkedit.core.autorate import MAX_RATE
from bulkedit.core.errors import (
    ApiError,
    AuthError,
    CertificateRefused,
    CredentialsRejected,
    NetworkError,
    RateLimited,
    ServerError,
    TransientError,
    UsageError,
)

AUTO: Literal["auto"] = "auto"
Rate = float | Literal["auto"]


def parse_rate(text: object) -> Rate:
    """A rate as a user writes it: a number of requests per second, or "auto"."""
    if isinstance(text, str) and text.strip().lower() == AUTO:
        return AUTO
    try:
        if isinstance(text, bool):
            raise ValueError(text)
        rate = float(text)  # type: ignore[arg-type]
        if not math.isfinite(rate):
            raise ValueError(text)
        return rate
    except (TypeError, ValueError):
        raise UsageError(f"rate {text!r}: give requests per second (like 10), or \"auto\" "
                         "to find the API's rate as the run goes") from None


def _number(value: object) -> bool:
    """A finite number, not a bool (True is an int to Python, not a rate to a user)."""
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


@dataclass(frozen=True)
class ApiLimits:
    """How hard a command may use the API: the one home of these defaults and their checks,
    whatever sets them (a flag, bulkedit.toml, a Python caller)."""

    # Requests per second, never exceeded in any second; 0: no limit; "auto": found as the
    # run goes (core/autorate.py), never above max_rate.
    rate: Rate = 10.0
    max_rate: float = MAX_RATE
    concurrency: int = 8  # requests in flight at most
    timeout: float = 30.0  # seconds before a request is given up and retried
    max_attempts: int = 6  # attempts per request for transient failures
    backoff: float = 0.5  # first retry delay, doubled at each attempt
    batch_size: int = 100  # ids per read of current values

    def __post_init__(self) -> None:
        if isinstance(self.rate, str) and self.rate.strip().lower() == AUTO:
            object.__setattr__(self, "rate", AUTO)  # "Auto", " auto " as the flag takes them
        rate_ok = self.rate == AUTO or (_number(self.rate) and self.rate >= 0)
        checks = (("rate", self.rate, rate_ok),
                  ("max_rate", self.max_rate, _number(self.max_rate) and self.max_rate > 0),
                  ("backoff", self.backoff, _number(self.backoff) and self.backoff >= 0),
                  ("concurrency", self.concurrency,
                   _number(self.concurrency) and self.concurrency >= 1),
                  ("max_attempts", self.max_attempts,
                   _number(self.max_attempts) and self.max_attempts >= 1),
                  ("batch_size", self.batch_size,
                   _number(self.batch_size) and self.batch_size >= 1),
                  ("timeout", self.timeout, _number(self.timeout) and self.timeout > 0))
        wrong = [f"{name} {value!r}" for name, value, ok in checks if not ok]
        if wrong:
            raise UsageError(f"{', '.join(wrong)}: rate (or \"auto\") and backoff must be 0 "
                             "or more, concurrency, max_attempts and batch_size at least 1, "
                             "timeout and max_rate more than 0")

    @property
    def adaptive(self) -> bool:
        return self.rate == AUTO

    @property
    def fixed_rate(self) -> float | None:
        """The rate when it is fixed (None: auto, or no limit)."""
        return None if self.rate == AUTO or not self.rate else float(self.rate)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, bounded in attempts and in total time."""

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_elapsed: float = 300.0
    max_throttle_delay: float = 8.0

    def delay(self, error: ApiError, attempt: int, elapsed: float, draw: float
              ) -> float | None:
        """Seconds to wait before attempt `attempt + 1`, or None to give up.

        `attempt` counts the attempts made so far (1 after the first), `elapsed`
        the seconds since the first, `draw` a random number in [0, 1).
        """
        if not isinstance(error, TransientError) or attempt >= self.max_attempts:
            return None
        backoff = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        delay = backoff / 2 + draw * backoff / 2  # "equal jitter": never near zero
        if isinstance(error, RateLimited) and error.retry_after is not None:
            delay = max(delay, float(error.retry_after))
        if elapsed + delay > self.max_elapsed:
            return None
        return delay

    def throttle_delay(self, throttles: int, retry_after: float | None, draw: float
                       ) -> float:
        """Seconds a throttled request waits before it is sent again, after `throttles`
        throttled answers in a row. Never None: a throttle is not a failure, and uses up no
        attempt; the run's throttle budget bounds the waiting (core/throttle.py). The
        backoff stops growing at `max_throttle_delay`: past that, a quota window is what
        holds the run, and its probes say when to go on."""
        backoff = min(self.max_throttle_delay, self.base_delay * 2.0 ** (throttles - 1))
        delay = backoff / 2 + draw * backoff / 2
        if retry_after is not None:
            delay = max(delay, float(retry_after))
        return delay


class AdaptiveRate:
    """A fixed rate, held unless the API really limits it; then back to it within seconds.

    Throttles that come by chance (an API that refuses 3 % of requests whatever the rate)
    cost their share and nothing more: the refused requests wait and go again, the rate
    stays. Only when more than `share` of the answers of the last `window` seconds (and at
    least `least` of them) were throttles is the rate cut, to what the API took (never
    below `decrease` of it, at most once per `cooldown`); it then climbs back by
    `recovery` of the target per second (from half the target: 2 s at the default).
    """

    def __init__(self, target: float, *, decrease: float = 0.5, recovery: float = 0.25,
                 floor: float = 0.2, cooldown: float = 1.0, share: float = 0.1,
                 least: int = 3, window: float = 2.0):
        self.target = target
        self.decrease = decrease
        self.recovery = recovery
        self.floor = min(floor, target)
        self.cooldown = cooldown
        self.share = share
        self.least = least
        # Long enough to hold some twenty answers at the target, so a slow rate judges
        # its throttles on more than one or two of them.
        self.window = max(window, 20.0 / target) if target > 0 else window
        self._base = target
        self._since = 0.0
        self._last_cut: float | None = None
        self._answers: deque[float] = deque()
        self._throttles: deque[float] = deque()
        self.cuts = 0

    def rate(self, now: float) -> float:
        if self._last_cut is None:
            return self.target
        grown = self._base + self.recovery * self.target * (now - self._since)
        return min(self.target, grown)

    def answered(self, now: float) -> None:
        """An answer that is not a throttle."""
        self._answers.append(now)
        self._forget(now)

    def _forget(self, now: float) -> None:
        for stamps in (self._answers, self._throttles):
            while stamps and stamps[0] <= now - self.window:
                stamps.popleft()

    def throttled_share(self, now: float) -> float:
        """The share of the last `window` seconds' answers that were throttles."""
        self._forget(now)
        throttles = len(self._throttles)
        return throttles / (throttles + len(self._answers)) if throttles else 0.0

    def rate_limited(self, now: float) -> bool:
        """Record a throttle; True when it cut the rate (the throttles are a limit)."""
        self._throttles.append(now)
        refused = self.throttled_share(now)
        if len(self._throttles) < self.least or refused <= self.share:
            return False  # by chance: the refused request goes again, the rate stays
        if self._last_cut is not None and now - self._last_cut < self.cooldown:
            return False  # the same burst of refusals: counted once
        self._base = max(self.floor, self.rate(now) * max(self.decrease, 1.0 - refused))
        self._since = now
        self._last_cut = now
        self.cuts += 1
        return True


Signature = tuple[int, str, str]  # (status, type, message) of a refusal


class DisguisedThrottle:
    """Throttling that does not say so. Dailymotion's real limits are undocumented: a 403
    whose message has no word of rate may be a refusal of the row, or the API slowing
    the run down. So a 403 is tried once more after a backoff, and while the same 403
    reaches `pattern` different rows (the pattern of throttling) up to `patience`
    attempts. When a retry goes through, the 403 was throttling (the rate is cut), and
    after `confirm_after` such recoveries its signature is known: later ones are retried
    as rate limits. A 403 that never goes away is the row's own refusal. Pure: errors
    and row keys in, decisions out."""

    def __init__(self, confirm_after: int = 1, pattern: int = 3, patience: int = 4):
        self.confirm_after = confirm_after
        self.pattern = pattern
        self.patience = patience
        self.known: set[Signature] = set()
        self._recovered: dict[Signature, int] = {}
        self._rows: dict[Signature, set[object]] = {}

    @staticmethod
    def signature(error: ApiError) -> Signature | None:
        if isinstance(error, RateLimited) or error.status != 403:
            return None
        return (403, error.type, error.message)

    def is_throttle(self, error: ApiError) -> bool:
        return self.signature(error) in self.known

    def observe(self, error: ApiError, row: object) -> None:
        signature = self.signature(error)
        if signature is not None:
            self._rows.setdefault(signature, set()).add(row)

    def worth_a_retry(self, error: ApiError, attempt: int) -> bool:
        """A 403 of unknown kind: once more, or while it looks like throttling, until
        `patience`, before calling it the row's."""
        signature = self.signature(error)
        if signature is None:
            return False
        widespread = len(self._rows.get(signature, ())) >= self.pattern
        return attempt == 1 or (widespread and attempt < self.patience)

    def recovered(self, signature: Signature) -> bool:
        """The retry after `signature` went through; True when that makes it known."""
        count = self._recovered.get(signature, 0) + 1
        self._recovered[signature] = count
        if count >= self.confirm_after and signature not in self.known:
            self.known.add(signature)
            return True
        return False


def failure_kind(error: ApiError) -> str:
    """How the breaker names a failure in its message."""
    if isinstance(error, NetworkError):
        return "connection errors"
    if isinstance(error, ServerError):
        return "server errors (5xx)"
    if isinstance(error, AuthError):
        return "auth refusals"
    return "other transient errors"


class CircuitBreaker:
    """Stop the run after `threshold` calls in a row failed for the API's sake.

    Rows that failed on transient errors (after their retries) or on refused
    authentication count; a success or a row-specific refusal (400, 404) resets
    the count. Throttling never counts: a throttled row was not refused, it waits (and
    never ends failed). Refused credentials trip it at once: nothing else can work. The
    reason names what it saw, by kind, and blames the credentials only for auth refusals.
    """

    def __init__(self, threshold: int = 5):
        self.threshold = threshold
        self.consecutive = 0
        self.kinds: Counter[str] = Counter()
        self.reason: str | None = None

    @property
    def tripped(self) -> bool:
        return self.reason is not None

    def record(self, error: ApiError | None) -> bool:
        """Count one finished row; True when the run must stop."""
        if isinstance(error, RateLimited):
            return self.tripped  # throttling: neither a failure nor a success
        if error is None or not isinstance(error, TransientError | AuthError):
            self.consecutive = 0
            self.kinds.clear()
            return self.tripped
        if isinstance(error, CredentialsRejected | CertificateRefused):
            self.reason = str(error)
            return True
        self.consecutive += 1
        self.kinds[failure_kind(error)] += 1
        if self.consecutive >= self.threshold and self.reason is None:
            seen = ", ".join(f"{count} {kind}" for kind, count in self.kinds.most_common())
            auth = self.kinds.get("auth refusals", 0)
            blame = ("the API refused the token every time: check the credentials" if
                     auth == self.consecutive else
                     "the API seems down or unreachable, and refused the token too" if auth
                     else "the API seems down or unreachable")
            self.reason = (f"{self.consecutive} calls in a row failed ({seen}; the last: "
                           f"{error}); {blame}, so the run stopped early")
        return self.tripped
