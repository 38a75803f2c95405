"""One factory for what every command that talks to the API needs: the HTTP session, the
client with its token, and the dispatcher (rate limit, concurrency, retry policy, breaker).

apply, plan and export all go through it, so a limit or a policy is set in one place. The
sender, the clock, the random draw and the sleep can be injected: tests drive the whole
dispatcher on a fake clock, without the network and without waiting.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bulkedit.client.dispatch import Dispatcher, Sender, bucket_limiter
from bulkedit.client.transport import Credentials
from bulkedit.core.policy import ApiLimits, CircuitBreaker, RetryPolicy
from bulkedit.core.throttle import THROTTLE_BUDGET, QuotaWatch

if TYPE_CHECKING:
    from aiolimiter import AsyncLimiter

MAX_ELAPSED = 300.0  # seconds a request keeps being retried
BREAKER_THRESHOLD = 5  # failures of one kind in a row that stop a run


@contextlib.asynccontextmanager
async def connect(credentials: Credentials, api_base: str, limits: ApiLimits, *,
                  max_elapsed: float = MAX_ELAPSED,
                  breaker_threshold: int = BREAKER_THRESHOLD,
                  sender: Sender | None = None,
                  clock: Callable[[], float] = time.monotonic,
                  draw: Callable[[], float] = random.random,
                  sleep: Callable[[float], Awaitable[None]] | None = None,
                  throttle_budget: float = THROTTLE_BUDGET,
                  notify: Callable[[str], None] | None = None,
                  detail: Callable[[str], None] | None = None,
                  cap: AsyncLimiter | None = None,
                  ) -> AsyncIterator[Dispatcher]:
    """A dispatcher for the API at `api_base` (or for `sender`), open for the block.
    `throttle_budget`: the seconds the run may spend held by throttling, in all (a quota
    window); `notify` hears the dispatcher's notices as they happen, `detail` each retry
    and throttled answer (--verbose); `cap`: a rate shared with other dispatchers (the
    global cap over several accounts, `shared_cap`), which every request also takes."""
    policy = RetryPolicy(max_attempts=limits.max_attempts, base_delay=limits.backoff,
                         max_elapsed=max_elapsed)

    def dispatcher(client: Sender) -> Dispatcher:
        made = Dispatcher(client, rate=limits.rate or None, max_rate=limits.max_rate,
                          concurrency=limits.concurrency,
                          policy=policy, breaker=CircuitBreaker(breaker_threshold),
                          clock=clock, draw=draw, sleep=sleep,
                          quota=QuotaWatch(budget=throttle_budget), notify=notify,
                          detail=detail)
        if cap is not None:
            made._gate = CappedGate(made._gate, cap)  # type: ignore[assignment]
        return made

    if sender is not None:
        yield dispatcher(sender)
        return
    import aiohttp

    from bulkedit.client.transport import DailymotionClient

    connector = aiohttp.TCPConnector(limit=limits.concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        yield dispatcher(DailymotionClient(session, credentials, api_base, limits.timeout))


def shared_cap(rate: float) -> AsyncLimiter:
    """One limit for several dispatchers in one event loop: never more than `rate`
    requests in any one-second window, whichever account sends them (rclone's global
    bucket over each remote's own pacer)."""
    return bucket_limiter(rate)


class CappedGate:
    """The account's own gate, then a slot of the shared cap: a request leaves only once
    both let it through. The cap is taken at the gate, before the dispatcher stamps the
    request's departure, so a wait for the cap is never read as the API's latency (which
    `--rate auto` finds its rate from)."""

    def __init__(self, inner: Any, cap: AsyncLimiter):
        self._inner = inner
        self._cap = cap

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)  # hold, pause_until, changed, held...

    def open(self) -> bool:
        return False  # the cap is always waited for

    async def acquire(self) -> bool:
        probe = bool(await self._inner.acquire())
        await self._cap.acquire()
        return probe
