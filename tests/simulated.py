"""A virtual clock for the whole asyncio loop, and a simulated API that limits its rate.

`run_virtual(coro)` runs a coroutine on an event loop whose clock jumps to the next timer
instead of waiting, so a three-minute run of the real dispatcher, with aiolimiter's own
timers, takes a fraction of a second and comes out the same every time. Nothing on that
loop may do real I/O: `SimulatedApi` is the API, in the same loop.

`SimulatedApi` follows the sandbox's models (bulkedit/sandbox/limits.py): a sliding
one-second window per client whose limit may follow a schedule, answered with 429 and
Retry-After (the seconds until the window admits again, at least 1), or an API that
queues instead of refusing: above its knee, each request waits its turn.
"""

from __future__ import annotations

import asyncio
import math
import random
import selectors
import statistics
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bulkedit.core.errors import RateLimited
from bulkedit.core.protocol import HttpRequest

T = TypeVar("T")


class _JumpingSelector(selectors.SelectSelector):
    def __init__(self, loop: VirtualTimeLoop):
        super().__init__()
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[Any]:
        if timeout is None:
            raise RuntimeError("nothing scheduled and nothing ready: the run is stuck")
        self._loop.now += max(0.0, timeout)
        return super().select(0)


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        self.now = 0.0
        super().__init__(selector=_JumpingSelector(self))

    def time(self) -> float:
        # A real clock moves between two readings; a frozen one leaves aiolimiter waiting
        # for a rounding error to leak away, forever.
        self.now += 1e-9
        return self.now


def run_virtual(main: Callable[[VirtualTimeLoop], Coroutine[Any, Any, T]]) -> T:
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(main(loop))
    finally:
        loop.close()


def schedule(text: str) -> Callable[[float], float | None]:
    """"0:40,60:15,120:40" -> the limit at a moment."""
    points = sorted((float(t), float(r)) for t, r in (p.split(":") for p in text.split(",")))

    def limit_at(moment: float) -> float | None:
        current = None
        for start, rate in points:
            if moment >= start:
                current = rate
        return current

    return limit_at


@dataclass
class Answer:
    sent: float
    answered: float
    refused: bool


@dataclass
class SimulatedApi:
    loop: VirtualTimeLoop
    limit_at: Callable[[float], float | None] = lambda _: None
    latency: float = 0.05
    jitter: float = 0.01
    knee: float | None = None  # requests/s served; above it, requests queue
    retry_after: bool = True
    throttle_share: float = 0.0  # refused at random, whatever the load
    seed: int = 1
    answers: list[Answer] = field(default_factory=list)
    _window: deque[float] = field(default_factory=deque)
    _free_at: float = 0.0
    _random: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    async def send(self, request: HttpRequest) -> Any:
        sent = self.loop.time()
        await asyncio.sleep(self.latency + self._random.uniform(0, self.jitter))
        now = self.loop.time()
        limit = self.limit_at(now)
        window = self._window
        while window and window[0] <= now - 1.0:
            window.popleft()
        if self.throttle_share and self._random.random() < self.throttle_share:
            self.answers.append(Answer(sent, now, True))
            raise RateLimited("Too many requests", status=429,
                              retry_after=1 if self.retry_after else None)
        if limit is not None and len(window) >= max(1, math.floor(limit)):
            self.answers.append(Answer(sent, now, True))
            wait = window[len(window) - max(1, math.floor(limit))] + 1.0 - now
            raise RateLimited("Too many requests", status=429,
                              retry_after=max(1, math.ceil(wait)) if self.retry_after
                              else None)
        window.append(now)
        if self.knee:
            start = max(now, self._free_at)
            self._free_at = start + 1.0 / self.knee
            await asyncio.sleep(start - now)
        self.answers.append(Answer(sent, self.loop.time(), False))
        return {"id": request.path}

    # ------------------------------------------------------------------ what it saw

    def throughput(self, begin: float, end: float) -> float:
        """Successful answers per second in [begin, end)."""
        done = sum(1 for a in self.answers if not a.refused and begin <= a.answered < end)
        return done / (end - begin)

    @property
    def refused_share(self) -> float:
        return sum(a.refused for a in self.answers) / max(1, len(self.answers))

    def latency_p95(self, begin: float = 0.0) -> float:
        latencies = [a.answered - a.sent for a in self.answers
                     if not a.refused and a.answered >= begin]
        return statistics.quantiles(latencies, n=20)[-1]
