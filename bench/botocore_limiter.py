"""botocore's own adaptive limiter (its real classes, not a port) in front of a sender.

`ClientRateLimiter`, `TokenBucket`, `CubicCalculator` and `RateClocker` come from
botocore.retries (`adaptive.py`, `bucket.py`, `throttling.py`), wired as botocore's
`register_retry_handler` wires them, with two changes of plumbing only: the clock is the
run's (the virtual loop's, or time.monotonic), and the bucket's blocking `acquire` (a
thread's condition variable) becomes an asyncio wait of the time botocore's bucket says a
token needs. The throttling detector is bulkedit's reading of the answer (429, a throttling
403), the same one every contender hears.

    BotocoreSender(sender, clock)   # None when botocore cannot be imported

botocore is not a dependency of bulkedit: when it is not importable, `available()` says why
and the benches skip the botocore column with that line.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

try:
    from botocore.exceptions import CapacityNotAvailableError
    from botocore.retries import adaptive, bucket, throttling

    _MISSING: str | None = None
except ImportError as error:  # pragma: no cover - depends on the machine
    _MISSING = f"botocore is not importable here ({error}); the botocore column is skipped"

from bulkedit.core.errors import ApiError, RateLimited


def available() -> str | None:
    """None when botocore can be used, else the line to print."""
    return _MISSING


class _Clock:
    def __init__(self, now: Callable[[], float]):
        self._now = now

    def current_time(self) -> float:
        return self._now()

    def sleep(self, amount: float) -> None:  # never called: the waits are asyncio's
        raise RuntimeError("botocore's blocking sleep is not used here")


class _Detector:
    """bulkedit's reading of the answer, handed to botocore's limiter."""

    def is_throttling_error(self, **kwargs: Any) -> bool:
        return bool(kwargs.get("throttled"))


if _MISSING is None:

    class _AsyncBucket(bucket.TokenBucket):  # type: ignore[misc]
        """botocore's bucket; its blocking acquire is asked not to block."""

        def acquire(self, amount: int = 1, block: bool = True) -> bool:
            return bool(super().acquire(amount, block=False))


class BotocoreSender:
    """A sender whose requests wait for botocore's limiter, which hears every answer."""

    def __init__(self, sender: Any, now: Callable[[], float]):
        if _MISSING is not None:
            raise RuntimeError(_MISSING)
        self.sender = sender
        clock = _Clock(now)
        self.bucket = _AsyncBucket(max_rate=1, clock=clock)
        self.limiter = adaptive.ClientRateLimiter(
            rate_adjustor=throttling.CubicCalculator(starting_max_rate=0,
                                                     start_time=clock.current_time()),
            rate_clocker=adaptive.RateClocker(clock),
            token_bucket=self.bucket,
            throttling_detector=_Detector(),
            clock=clock,
        )
        self.throttles = 0

    async def _admitted(self) -> None:
        while True:
            try:
                self.limiter.on_sending_request(request=None)
                return
            except CapacityNotAvailableError:
                # What botocore's blocking acquire would wait: the missing part of a
                # token at the bucket's fill rate.
                missing = 1 - self.bucket.available_capacity
                await asyncio.sleep(max(1e-4, missing / self.bucket.max_rate))

    @property
    def rate(self) -> float | None:
        return float(self.bucket.max_rate) if self.limiter._enabled else None

    async def send(self, request: Any) -> Any:
        await self._admitted()
        try:
            value = await self.sender.send(request)
        except ApiError as error:
            throttled = isinstance(error, RateLimited) or error.status == 403
            self.throttles += throttled
            self.limiter.on_receiving_response(throttled=throttled)
            raise
        self.limiter.on_receiving_response(throttled=False)
        return value
