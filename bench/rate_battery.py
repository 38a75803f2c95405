"""The differential battery of the rate modules (issue 28): core/policy.py, core/autorate.py
and client/dispatch.py, as a run sees them.

`python bench/mutate.py --check-equivalents policy autorate dispatch` runs it once on the
original code and once with each mutant listed in bench/mutation_equivalents.txt, each in
a fork whose `bulkedit` is the (mutated) copy; a listed mutant is equivalent only when
every answer is the same.

What it records is what a user or the API can see, never the modules' internals: for
each scenario, every request the API received (which, when on the virtual clock, and the
rate the console showed at that moment), every row's outcome in the order the journal
hears them (value, attempts, error and its message), the counts the summary shows
(retries, rate_limited, rate cuts), the summary's `rate` block, the notices, and the
error that ended the run. The scenarios: every shape of limit of tests/limit_shapes.py
(sliding, token bucket, fixed window, a queueing API, random refusals, a busy client) under
`--rate auto` and two fixed rates, each refusal spelled as real APIs do; scripted APIs for
retries, a disguised 403, the breaker, a quota window, the throttle budget, a stop and a
failing journal; and the pure decisions other modules call directly (parse_rate,
ApiLimits, RetryPolicy). Everything runs on tests/simulated.py's virtual clock with seeded
draws: the same code gives the same digest every time.
"""

from __future__ import annotations

import hashlib
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

SECONDS = 40.0  # virtual seconds of each shape
WALL = 1_800_000_000.0  # the notices' wall clock starts here (their HH:MM:SS)


def rate_battery(root: Path) -> tuple[str, int]:
    """(digest, number of answers) of every scenario, with the `bulkedit` importable now."""
    sys.path.insert(0, str(root / "tests"))
    from limit_shapes import REFUSALS, Bucket, FixedWindow, ShapedApi, Sliding
    from simulated import VirtualTimeLoop, run_virtual, schedule

    from bulkedit.client.dispatch import Dispatcher, Job, JobResult
    from bulkedit.core import errors
    from bulkedit.core.policy import ApiLimits, RetryPolicy, parse_rate
    from bulkedit.core.protocol import HttpRequest
    from bulkedit.core.throttle import QuotaWatch

    digest, count = hashlib.sha256(), 0

    def note(*parts: object) -> None:
        nonlocal count
        count += 1
        digest.update(repr(parts).encode())

    def outcome(result: JobResult) -> tuple[object, ...]:
        error = result.error
        return (result.key, result.ok, result.value, result.attempts,
                type(error).__name__ if error else None, str(error) if error else None)

    def dispatch(name: str, api_of: Callable[[VirtualTimeLoop], Any], rate: object, *,
                 concurrency: int = 8, jobs: list[str] | None = None,
                 seconds: float | None = None, policy: Any = None, budget: float = 3600.0,
                 failing_journal_at: int | None = None, seed: int = 7) -> None:
        """One run of the real dispatcher against `api_of(loop)`; notes what it showed."""

        async def main(loop: VirtualTimeLoop) -> None:
            api = api_of(loop)
            draws = random.Random(seed)
            said: list[str] = []  # what --verbose shows of each retry
            dispatcher = Dispatcher(
                api, rate=rate, concurrency=concurrency, clock=loop.time,  # type: ignore[arg-type]
                draw=draws.random, policy=policy or RetryPolicy(max_attempts=6),
                quota=QuotaWatch(budget=budget), wall=lambda: WALL + loop.time(),
                detail=said.append)
            sent: list[tuple[object, ...]] = []
            inner = api.send

            async def send(request: Any) -> Any:
                shown = dispatcher.current_rate()
                sent.append((request.path, round(loop.time(), 3),
                             None if shown is None else round(shown, 3)))
                return await inner(request)

            api.send = send
            heard: list[tuple[object, ...]] = []

            def on_result(result: JobResult) -> None:
                if failing_journal_at is not None and len(heard) == failing_journal_at:
                    raise OSError(28, "No space left on device")
                heard.append(outcome(result))

            if seconds is not None:
                loop.call_later(seconds, dispatcher.stop)
            names = jobs if jobs is not None else (f"/video/x{i}" for i in range(10**9))
            ended: tuple[object, ...] = ()
            try:
                await dispatcher.run((Job(n, HttpRequest("POST", n)) for n in names),
                                     on_result)
            except Exception as error:
                ended = (type(error).__name__, str(error))
            stats = dispatcher.stats
            note(name, ended, sent, heard, (stats.requests, stats.retries,
                                            stats.rate_limited, stats.rate_cuts),
                 dispatcher.rate_report(), dispatcher.notices, said)

        run_virtual(main)

    # --- every shape of limit, under --rate auto and two fixed rates -------------------
    shapes: dict[str, Callable[[VirtualTimeLoop], Any]] = {
        "sliding 40->15->40": lambda loop: ShapedApi(
            loop, Sliding(schedule("0:40,15:15,28:40"))),
        "bucket 60 + 25/s": lambda loop: ShapedApi(loop, Bucket(60, 25.0)),
        "window 300/10 s": lambda loop: ShapedApi(loop, FixedWindow(300, 10.0)),
        "window 300/10 s, no Retry-After": lambda loop: ShapedApi(
            loop, FixedWindow(300, 10.0), refusal="429-no-retry-after"),
        "queue at 60/s, 300 ms": lambda loop: ShapedApi(loop, knee=60.0, latency=0.3),
        "random 3 %": lambda loop: ShapedApi(loop, throttle_share=0.03),
        "busy client": lambda loop: ShapedApi(
            loop, Sliding(lambda _: 200.0),
            extra_latency=lambda now: 0.15 if int(now) % 10 < 3 else 0.0),
    }
    for refusal in REFUSALS:
        shapes[f"37/s, {refusal}"] = (lambda kind: lambda loop: ShapedApi(
            loop, Sliding(lambda _: 37.0), refusal=kind))(refusal)
    for name, api_of in shapes.items():
        for rate, concurrency in (("auto", 8), ("auto", 32), (30.0, 8), (120.0, 16)):
            dispatch(f"{name} @ {rate}/{concurrency}", api_of, rate,
                     concurrency=concurrency, seconds=SECONDS)

    # --- scripted APIs: every path of a row ---------------------------------------------
    class Scripted:
        def __init__(self, loop: VirtualTimeLoop, scripts: dict[str, list[Any]],
                     latency: float = 0.05):
            self.loop, self.latency = loop, latency
            self.scripts = {key: iter(script) for key, script in scripts.items()}

        async def send(self, request: Any) -> Any:
            import asyncio

            await asyncio.sleep(self.latency)
            answer = next(self.scripts[request.path], "ok")
            if isinstance(answer, Exception):
                raise answer
            return answer

    def limited(retry_after: float | None = None, status: int = 429,
                message: str = "Too many requests") -> errors.RateLimited:
        return errors.RateLimited(message, retry_after=retry_after, status=status)

    busy = errors.ServerError("busy", status=503)
    lost = errors.NetworkError("no answer within 30 s")
    missing = errors.PermanentError("No such video", status=404, type="not_found")
    denied = errors.PermanentError("Access denied", status=403, type="access_forbidden")
    token = errors.TokenRejected("expired token", status=401)
    scripts: dict[str, dict[str, list[Any]]] = {
        "retries": {"a": [busy, busy, "ok"], "b": [lost, "ok"], "c": [missing],
                    "d": [limited(), limited(), "ok"], "e": [limited(2.5), "ok"],
                    "f": [busy] * 8, "g": [token, "ok"], "h": ["ok"]},
        "a disguised 403": {f"r{n}": [denied, "ok"] for n in range(8)},
        "a row's own 403": {"a": [denied] * 6, "b": ["ok"], "c": [denied] * 6},
        "a 403 on many rows": {f"r{n}": [denied] * 6 for n in range(6)},
        "server down": {f"r{n}": [busy] * 10 for n in range(12)},
        "network down": {f"r{n}": [lost] * 10 for n in range(12)},
        "mixed failures": {f"r{n}": [busy, lost, token, busy, lost, busy][n % 6:] * 2
                           for n in range(12)},
        "credentials": {"a": ["ok"], "b": [errors.CredentialsRejected("bad key", status=401)],
                        "c": ["ok"], "d": ["ok"]},
        "certificate": {"a": [errors.CertificateRefused("not the API's certificate")],
                        "b": ["ok"]},
        "quota window": {f"r{n:02d}": [limited()] * (12 if n < 10 else 3) + ["ok"]
                         for n in range(24)},
        "quota window, Retry-After": {f"r{n:02d}": [limited(7.0)] * (4 if n < 14 else 1)
                                      + ["ok"] for n in range(20)},
        "spread refusals": {f"r{n:02d}": ([limited(5.0)] if n in (0, 1) else [])
                            + ([limited()] if n % 7 == 0 else []) + ["ok"]
                            for n in range(40)},
        "403 that says spam": {f"r{n}": [limited(None, 403, "Spam detected")] * 2 + ["ok"]
                               for n in range(10)},
    }
    for name, script in scripts.items():
        for rate, concurrency in ((None, 1), (None, 8), (10.0, 3), (5.0, 1), ("auto", 4)):
            dispatch(f"{name} @ {rate}/{concurrency}",
                     lambda loop, s=script: Scripted(loop, s), rate,  # type: ignore[misc]
                     concurrency=concurrency, jobs=list(script))
    forever = {f"r{n}": [limited()] * 10_000 for n in range(6)}
    calm = {f"r{n:02d}": ["ok"] for n in range(30)}
    # Failed once (it may have reached the API), then throttled until the stop.
    mixed = {"a": [lost] + [limited()] * 10_000, "b": [busy] + [limited()] * 10_000,
             "c": [limited()] * 10_000, "d": ["ok"]}
    for rate in (None, 10.0, "auto"):
        dispatch(f"throttle budget @ {rate}", lambda loop: Scripted(loop, forever), rate,
                 concurrency=3, jobs=list(forever), budget=20.0)
        dispatch(f"stopped while throttled @ {rate}", lambda loop: Scripted(loop, forever),
                 rate, concurrency=3, jobs=list(forever), seconds=6.0)
        dispatch(f"failed, then throttled when stopped @ {rate}",
                 lambda loop: Scripted(loop, mixed), rate, concurrency=3, jobs=list(mixed),
                 seconds=4.0)
        dispatch(f"a full journal @ {rate}", lambda loop: Scripted(loop, calm), rate,
                 concurrency=4, jobs=list(calm), failing_journal_at=5)
    tight = RetryPolicy(max_attempts=3, base_delay=1.0, max_delay=2.0, max_elapsed=4.0)
    dispatch("a tight retry policy", lambda loop: Scripted(loop, scripts["retries"]), 10.0,
             concurrency=2, jobs=list(scripts["retries"]), policy=tight)

    # --- the decisions other modules call directly --------------------------------------
    for text in ("auto", " Auto ", "AUTO", "10", "0", "2.5", "-1", "1e3", "nan", "inf",
                 "", "ten", True, None, 7, 7.5, float("nan")):
        try:
            note("parse_rate", repr(text), parse_rate(text))
        except Exception as error:
            note("parse_rate", repr(text), type(error).__name__, str(error))
    edges: list[dict[str, Any]] = [
        {}, {"rate": "auto"}, {"rate": " Auto "}, {"rate": 0}, {"rate": -1},
        {"rate": True}, {"rate": float("inf")}, {"max_rate": 0}, {"max_rate": 0.5},
        {"backoff": 0}, {"backoff": -0.1}, {"concurrency": 0}, {"concurrency": 1},
        {"concurrency": 2.5}, {"max_attempts": 0}, {"batch_size": 0}, {"timeout": 0},
        {"timeout": 0.1}, {"rate": "fast", "timeout": -1}, {"concurrency": False}]
    for given in edges:
        try:
            limits = ApiLimits(**given)
            note("limits", given, limits, limits.adaptive, limits.fixed_rate)
        except Exception as error:
            note("limits", given, type(error).__name__, str(error))
    policies = (RetryPolicy(), RetryPolicy(max_attempts=3, base_delay=1.0, max_delay=4.0,
                                           max_elapsed=10.0, max_throttle_delay=3.0))
    failures = (busy, lost, missing, token, limited(), limited(3.0), limited(0.2),
                limited(None, 403, "Spam"))
    for policy in policies:
        for error in failures:
            for attempt in range(1, 9):
                for elapsed in (0.0, 9.0, 299.0):
                    for draw in (0.0, 0.3, 0.999):
                        note("delay", repr(error), attempt, elapsed, draw,
                             policy.delay(error, attempt, elapsed, draw))
        for throttles in range(1, 9):
            for retry_after in (None, 0.5, 6.0, 60.0):
                for draw in (0.0, 0.3, 0.999):
                    note("throttle_delay", throttles, retry_after, draw,
                         policy.throttle_delay(throttles, retry_after, draw))
    return digest.hexdigest(), count
