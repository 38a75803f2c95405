"""`--rate auto` against the sandbox (issue 16): what it finds, and what it gains.

    python bench/bench_rate.py                 # every scenario, every contender (~25 min)
    python bench/bench_rate.py hidden auto     # one scenario, one contender

Three sandboxes, each in its own process on CPU 0 (the client on CPU 1, where taskset
exists), 50 ms latency (+ up to 10 ms) unless said otherwise:
  hidden    a limit of 37 requests/s the client is not told; 3,000 edits
  schedule  the limit 40/s, 15/s from 60 s, 40/s again from 120 s; the first 180 s
  latency   no refusals: the sandbox serves 30 requests/s and queues the rest
            (--slow-above 30), 100 ms latency; 2,400 edits
Four contenders, each through bulkedit's real client and dispatcher (the HTTP client,
token, retries, limiter; no sheet or journal): `auto` (--rate auto, its defaults),
`fixed10` (a careful user's --rate 10), `fixed100` (an overeager one's --rate 100) and
`botocore` (botocore's own adaptive limiter classes, bench/botocore_limiter.py; skipped
with a line saying so when botocore is not importable). For every shape of limit side by
side, see bench/bench_rate_matrix.py. A run stops
at 3,000 edits (2,400 for latency) or at 100 s (180 s for schedule), whichever is first.

Every figure is a ratio from one run:
  hidden    successful edits/s after the first 15 s / 37 (target >= 0.90), throttled
            answers / requests (<= 2 %)
  schedule  seconds after each change until a 3 s window is within 10 % of the new limit
            (<= 10 s), throttled answers / requests (<= 3 %)
  latency   successful edits/s after the first 15 s / 30 (>= 0.80), p95 latency after
            the first 15 s / the unloaded latency (<= 2), measured first with 30 requests
            one at a time
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
import botocore_limiter
from bench_apply import KEY, SECRET, SandboxProcess

from bulkedit.client.dispatch import Dispatcher, Job, JobResult
from bulkedit.client.transport import Credentials, DailymotionClient
from bulkedit.core.errors import ApiError, RateLimited
from bulkedit.core.policy import RetryPolicy
from bulkedit.core.protocol import HttpRequest, edit_request
from bulkedit.sandbox.store import video_id

VIDEOS = 2000


@dataclass
class Scenario:
    name: str
    options: tuple[str, ...]
    edits: int
    seconds: float
    limit_at: Any  # the limit (requests/s) at a moment of the run

    def changes(self) -> list[tuple[float, float]]:
        return [(60.0, 15.0), (120.0, 40.0)] if self.name == "schedule" else []


SCENARIOS = {
    "hidden": Scenario("hidden", ("--rate", "37", "--latency", "0.05", "--jitter", "0.01"),
                       3000, 100.0, lambda t: 37.0),
    "schedule": Scenario("schedule", ("--rate-schedule", "0:40,60:15,120:40", "--latency",
                                      "0.05", "--jitter", "0.01"), 8000, 180.0,
                         lambda t: 40.0 if t < 60 or t >= 120 else 15.0),
    "latency": Scenario("latency", ("--slow-above", "30", "--latency", "0.1", "--jitter",
                                    "0.01"), 2400, 100.0, lambda t: 30.0),
}
CONTENDERS = ("auto", "fixed10", "fixed100", "botocore")


@dataclass
class Attempt:
    sent: float
    answered: float
    throttled: bool
    ok: bool


@dataclass
class Recorder:
    """The real client, with every attempt noted (times from the run's start)."""

    client: DailymotionClient
    start: float = 0.0
    attempts: list[Attempt] = field(default_factory=list)

    async def send(self, request: HttpRequest) -> Any:
        sent = time.monotonic() - self.start
        try:
            value = await self.client.send(request)
        except ApiError as error:
            throttled = isinstance(error, RateLimited) or error.status == 403
            self.attempts.append(Attempt(sent, time.monotonic() - self.start, throttled, False))
            raise
        self.attempts.append(Attempt(sent, time.monotonic() - self.start, False, True))
        return value


def dispatcher_for(contender: str, client: Recorder) -> Dispatcher:
    policy = RetryPolicy(max_attempts=20, max_elapsed=600)
    if contender == "auto":
        return Dispatcher(client, rate="auto", concurrency=8, policy=policy)
    if contender == "botocore":  # botocore's own limiter in front of the client
        return Dispatcher(botocore_limiter.BotocoreSender(client, time.monotonic), rate=None,
                          concurrency=8, policy=policy)
    return Dispatcher(client, rate=float(contender.removeprefix("fixed")), concurrency=8,
                      policy=policy)


async def unloaded_latency(base: str, credentials: Credentials) -> float:
    async with aiohttp.ClientSession() as session:
        client = DailymotionClient(session, credentials, base, 30.0)
        times = []
        for i in range(30):
            started = time.monotonic()
            await client.send(edit_request(video_id(i), {"title": f"unloaded {i}"}))
            times.append(time.monotonic() - started)
    return statistics.median(times)


async def one_run(scenario: Scenario, contender: str, base: str) -> dict[str, Any]:
    credentials = Credentials(KEY, SECRET)
    unloaded = (await unloaded_latency(base, credentials) if scenario.name == "latency"
                else None)
    connector = aiohttp.TCPConnector(limit=8)
    async with aiohttp.ClientSession(connector=connector) as session:
        recorder = Recorder(DailymotionClient(session, credentials, base, 30.0))
        dispatcher = dispatcher_for(contender, recorder)
        jobs = (Job(i, edit_request(video_id(i % VIDEOS), {"title": f"{contender} edit {i}"}))
                for i in range(scenario.edits))
        results: list[JobResult] = []
        recorder.start = time.monotonic()
        stopper = asyncio.get_running_loop().call_later(scenario.seconds, dispatcher.stop)
        await dispatcher.run(jobs, results.append)
        stopper.cancel()
        end = time.monotonic() - recorder.start
    return measure(scenario, contender, recorder.attempts, end, unloaded,
                   dispatcher.rate_report())


def measure(scenario: Scenario, contender: str, attempts: list[Attempt], end: float,
            unloaded: float | None, rate: dict[str, Any]) -> dict[str, Any]:
    def throughput(begin: float, until: float) -> float:
        return sum(1 for a in attempts if a.ok and begin <= a.answered < until) / (until - begin)

    throttled = sum(a.throttled for a in attempts) / max(1, len(attempts))
    row: dict[str, Any] = {"scenario": scenario.name, "contender": contender,
                           "seconds": round(end, 1), "requests": len(attempts),
                           "edits": sum(a.ok for a in attempts),
                           "throttled_share": round(throttled, 4), "rate": rate}
    if scenario.name in ("hidden", "latency"):
        limit = scenario.limit_at(0.0)
        row["throughput_after_15s"] = round(throughput(15.0, end - 0.5), 2)
        row["ratio_to_limit"] = round(row["throughput_after_15s"] / limit, 3)
    if scenario.name == "latency" and unloaded:
        latencies = [a.answered - a.sent for a in attempts if a.ok and a.sent >= 15.0]
        p95 = statistics.quantiles(latencies, n=20)[-1]
        row["unloaded_latency"] = round(unloaded, 4)
        row["p95_latency"] = round(p95, 4)
        row["p95_to_unloaded"] = round(p95 / unloaded, 2)
    for moment, limit in scenario.changes():
        reached = next((step / 10 for step in range(0, 300)
                        if moment + step / 10 + 3 <= end and abs(
                            throughput(moment + step / 10, moment + step / 10 + 3) / limit
                            - 1) <= 0.10), None)
        row[f"within_10pct_after_{moment:g}s"] = reached
    if scenario.name == "schedule":
        row["throughput_by_5s"] = [round(throughput(t, t + 5), 1)
                                   for t in range(0, int(end) - 4, 5)]
    return row


def main(argv: list[str]) -> None:
    import os

    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})  # the sandbox has CPU 0
    names = [a for a in argv if a in SCENARIOS] or list(SCENARIOS)
    contenders = [a for a in argv if a in CONTENDERS] or list(CONTENDERS)
    missing = botocore_limiter.available()
    if missing and "botocore" in contenders:
        print(missing, flush=True)
        contenders.remove("botocore")
    rows = []
    for name in names:
        scenario = SCENARIOS[name]
        for contender in contenders:
            with SandboxProcess(*scenario.options, videos=VIDEOS) as sandbox:
                row = asyncio.run(one_run(scenario, contender, sandbox.base))
            rows.append(row)
            print(json.dumps(row), flush=True)
    out = Path(__file__).resolve().parent / "data" / "bench_rate.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(rows, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
