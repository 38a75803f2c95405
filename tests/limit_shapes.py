"""Shapes of rate limit for the virtual clock (tests/simulated.py), issue 27's matrix.

`ShapedApi` is an API on the virtual loop whose limit is one of:

- `Sliding(limit_at)`: at most N answers in any one second (N may follow a schedule);
- `Bucket(burst, refill)`: a token bucket that starts full (a stored burst) and refills;
- `FixedWindow(quota, seconds)`: a quota per fixed window (a minute of 1,500, say);
- nothing, with `knee`: above it the API queues instead of refusing.

and whose refusal is one of the ways real APIs say it (`REFUSALS`): a 429 with Retry-After,
a 429 whose body is an HTML page and no Retry-After, a 403 whose message says spam, a
plain 403 that says nothing. A refusal is built as bytes and read by the client's own
`parse_response`, so the client classifies it as it would the real thing.

`throttle_share` refuses that share of requests at random whatever the rate; `extra_latency`
adds latency that has nothing to do with the API's load (a busy client machine).
"""

from __future__ import annotations

import asyncio
import json
import math
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from simulated import VirtualTimeLoop

from bulkedit.core.protocol import HttpRequest, parse_response


class Limit(Protocol):
    def admit(self, now: float) -> float | None:
        """None: admitted (and counted); else the seconds until it would be."""


@dataclass
class Sliding:
    limit_at: Callable[[float], float | None]
    _window: deque[float] = field(default_factory=deque)

    def admit(self, now: float) -> float | None:
        window = self._window
        while window and window[0] <= now - 1.0:
            window.popleft()
        limit = self.limit_at(now)
        if limit is None:
            window.append(now)
            return None
        allowed = max(1, math.floor(limit))
        if len(window) >= allowed:
            return window[len(window) - allowed] + 1.0 - now
        window.append(now)
        return None


@dataclass
class Bucket:
    burst: float
    refill: float
    _tokens: float = -1.0
    _at: float = 0.0

    def admit(self, now: float) -> float | None:
        if self._tokens < 0:
            self._tokens = self.burst
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.refill)
        self._at = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return None
        return (1.0 - self._tokens) / self.refill


@dataclass
class FixedWindow:
    quota: int
    seconds: float
    _window: int = -1
    _used: int = 0

    def admit(self, now: float) -> float | None:
        window = int(now // self.seconds)
        if window != self._window:
            self._window, self._used = window, 0
        if self._used >= self.quota:
            return (window + 1) * self.seconds - now
        self._used += 1
        return None


def _json(kind: str, message: str) -> bytes:
    return json.dumps({"error": {"type": kind, "message": message, "code": 0}}).encode()


# How a refusal is said: status, whether Retry-After is sent, the body.
REFUSALS: dict[str, tuple[int, bool, bytes]] = {
    "429": (429, True, _json("rate_limit_exceeded", "Too many requests")),
    "429-no-retry-after": (429, False, _json("rate_limit_exceeded", "Too many requests")),
    "429-html": (429, False, b"<html><body><h1>429 Too Many Requests</h1></body></html>"),
    "403-spam": (403, False, _json("access_forbidden", "Spam detected: slow down")),
    "403-plain": (403, False, _json("access_forbidden", "Forbidden")),
}


@dataclass
class Answer:
    sent: float
    answered: float
    refused: bool


@dataclass
class ShapedApi:
    loop: VirtualTimeLoop
    limit: Limit | None = None
    refusal: str = "429"
    latency: float = 0.05
    jitter: float = 0.01
    knee: float | None = None  # requests/s served; above it, requests queue
    throttle_share: float = 0.0  # refused at random, whatever the rate
    extra_latency: Callable[[float], float] = lambda _: 0.0  # not the API's: the client's
    seed: int = 1
    answers: list[Answer] = field(default_factory=list)
    _free_at: float = 0.0
    _random: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    async def send(self, request: HttpRequest) -> Any:
        sent = self.loop.time()
        await asyncio.sleep(self.latency + self._random.uniform(0, self.jitter))
        now = self.loop.time()
        wait: float | None = None
        if self.throttle_share and self._random.random() < self.throttle_share:
            wait = 1.0
        elif self.limit is not None:
            wait = self.limit.admit(now)
        if wait is None and self.knee:
            start = max(now, self._free_at)
            self._free_at = start + 1.0 / self.knee
            await asyncio.sleep(start - now)
        extra = self.extra_latency(now)
        if extra > 0:
            await asyncio.sleep(extra)
        self.answers.append(Answer(sent, self.loop.time(), wait is not None))
        if wait is None:
            return {"id": request.path}
        status, retry_after, body = REFUSALS[self.refusal]
        headers = {"Retry-After": str(max(1, math.ceil(wait)))} if retry_after else {}
        return parse_response(status, headers, body)  # raises what the client would

    # ------------------------------------------------------------------ what it saw

    def ok(self, begin: float, end: float) -> int:
        return sum(1 for a in self.answers if not a.refused and begin <= a.answered < end)

    def throughput(self, begin: float, end: float) -> float:
        return self.ok(begin, end) / (end - begin)

    @property
    def refused_share(self) -> float:
        return self.refused_share_after(-1.0)

    def refused_share_after(self, begin: float) -> float:
        later = [a for a in self.answers if a.answered >= begin]
        return sum(a.refused for a in later) / max(1, len(later))
