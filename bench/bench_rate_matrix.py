"""`--rate auto` against every shape of limit (issue 27), side by side.

    python bench/bench_rate_matrix.py                  # every shape, the virtual clock
    python bench/bench_rate_matrix.py bucket latency300    # some shapes
    python bench/bench_rate_matrix.py --real           # the shapes the sandbox can express
    python bench/bench_rate_matrix.py random3 --seeds 16   # 16 runs each, seeds 1-16


Each shape is run with three contenders through bulkedit's real dispatcher (retries,
Retry-After pauses, the disguised-403 check, aiolimiter):
  auto      --rate auto with its defaults
  fixed     --rate N at the shape's true sustainable rate
  botocore  no bulkedit rate: botocore's own ClientRateLimiter, TokenBucket, CubicCalculator
            and RateClocker (bench/botocore_limiter.py) gate every request
On the virtual clock (tests/simulated.py, tests/limit_shapes.py) a run of minutes takes
seconds and comes out the same every time. Figures, each from one run:
  ratio       successful answers/s after the first 15 s ÷ the sustainable rate (for a
              fixed window: the answers of the whole windows after the first ÷ their quota)
  throttled   refused answers ÷ all answers (in brackets: after the first 15 s, once the
              limit has been met)
Aim (issue 27): ratio ≥ 0.95, throttled ≤ 1 %, ahead of botocore on both.

A virtual run is the same every time for one seed (the API's jitter and random refusals,
the dispatcher's retry jitter); `--seeds N` runs seeds 1 to N and shows each cell as the
mean ratio (the lowest in brackets) and the mean share throttled (the highest): a shape
whose result hangs on luck, like random refusals, shows it.
"""

from __future__ import annotations

import dataclasses
import json
import random
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
import botocore_limiter  # noqa: E402
from limit_shapes import Bucket, FixedWindow, ShapedApi, Sliding  # noqa: E402
from simulated import VirtualTimeLoop, run_virtual, schedule  # noqa: E402

from bulkedit.client.dispatch import Dispatcher, Job, JobResult  # noqa: E402
from bulkedit.core.errors import RunAborted  # noqa: E402
from bulkedit.core.policy import RetryPolicy  # noqa: E402
from bulkedit.core.protocol import HttpRequest  # noqa: E402


@dataclass(frozen=True)
class Shape:
    name: str
    title: str
    api: Callable[[VirtualTimeLoop], ShapedApi]
    sustainable: float  # requests/s the API takes for good (the fixed contender's rate)
    seconds: float = 90.0
    concurrency: int = 8
    window: float | None = None  # a fixed window's length: judged window by window
    mean_limit: Callable[[float, float], float] | None = None  # the limit's mean over a span


def _sliding_mean(begin: float, end: float) -> float:
    """40/s, 15/s from 60 s, 40/s from 120 s: the mean limit over [begin, end)."""
    total, step = 0.0, 0.01
    moment = begin
    while moment < end:
        total += (15.0 if 60 <= moment < 120 else 40.0) * step
        moment += step
    return total / (end - begin)


def _loaded(now: float) -> float:
    """A busy client machine: 0-150 ms more on every answer, in waves, whatever the rate."""
    phase = now % 20.0
    return 0.15 * (phase - 10.0) / 5.0 if 10.0 <= phase < 15.0 else 0.0


SHAPES: dict[str, Shape] = {s.name: s for s in (
    Shape("bucket", "token bucket, burst 100, refill 25/s",
          lambda loop: ShapedApi(loop, Bucket(100, 25.0)), 25.0),
    Shape("window", "fixed 60 s window of 1,500 (429 + Retry-After)",
          lambda loop: ShapedApi(loop, FixedWindow(1500, 60.0)), 25.0, seconds=180.0,
          window=60.0),
    Shape("window-no-ra", "the same window, 429 without Retry-After",
          lambda loop: ShapedApi(loop, FixedWindow(1500, 60.0), "429-no-retry-after"), 25.0,
          seconds=180.0, window=60.0),
    Shape("sliding", "sliding 1 s window 40/s → 15/s for 60 s → 40/s",
          lambda loop: ShapedApi(loop, Sliding(schedule("0:40,60:15,120:40"))), 40.0,
          seconds=180.0, mean_limit=_sliding_mean),
    Shape("403-spam", "37/s, refused with 403 \"spam\", no Retry-After",
          lambda loop: ShapedApi(loop, Sliding(schedule("0:37")), "403-spam"), 37.0),
    Shape("429-html", "37/s, refused with 429 and an HTML page, no Retry-After",
          lambda loop: ShapedApi(loop, Sliding(schedule("0:37")), "429-html"), 37.0),
    Shape("403-plain", "37/s, refused with a plain 403",
          lambda loop: ShapedApi(loop, Sliding(schedule("0:37")), "403-plain"), 37.0),
    Shape("latency300", "60/s at 300 ms latency, concurrency 32",
          lambda loop: ShapedApi(loop, Sliding(schedule("0:60")), latency=0.3, jitter=0.03),
          60.0, concurrency=32),
    Shape("fast200", "200/s at 50 ms latency, concurrency 32",
          lambda loop: ShapedApi(loop, Sliding(schedule("0:200"))), 200.0, concurrency=32),
    Shape("loaded", "200/s, 50 ms + up to 150 ms of client load in waves, concurrency 32",
          lambda loop: ShapedApi(loop, Sliding(schedule("0:200")), extra_latency=_loaded),
          200.0, concurrency=32),
    Shape("random3", "100/s, and 3 % refused at random whatever the rate",
          lambda loop: ShapedApi(loop, Sliding(schedule("0:100")), throttle_share=0.03),
          100.0, concurrency=16),
    Shape("random05", "150/s, and 0.5 % refused at random whatever the rate",
          lambda loop: ShapedApi(loop, Sliding(schedule("0:150")), throttle_share=0.005),
          150.0, concurrency=16),
)}
CONTENDERS = ("auto", "fixed", "botocore")


def virtual_run(shape: Shape, contender: str, seed: int = 1) -> dict[str, Any]:
    async def main(loop: VirtualTimeLoop) -> dict[str, Any]:
        api = dataclasses.replace(shape.api(loop), seed=seed)
        policy = RetryPolicy(max_attempts=50, max_elapsed=1e9)
        sender: Any = api
        options: dict[str, Any] = {}
        if contender == "auto":
            rate: Any = "auto"
        elif contender == "fixed":
            rate = shape.sustainable
        else:
            rate = None
            sender = botocore_limiter.BotocoreSender(api, loop.time)
        dispatcher = Dispatcher(sender, rate=rate, concurrency=shape.concurrency,
                                clock=loop.time, policy=policy,
                                draw=random.Random(seed).random, **options)
        results: list[JobResult] = []

        def done(result: JobResult) -> None:
            if not dispatcher.stopping:  # a retry cut short by the stop is not a failure
                results.append(result)

        jobs = (Job(i, HttpRequest("POST", f"/video/x{i}")) for i in range(10**9))
        loop.call_later(shape.seconds, dispatcher.stop)
        try:
            await dispatcher.run(jobs, done)
        except RunAborted:
            if not dispatcher.stopping or (results and not results[-1].ok):
                raise
        return measure(shape, contender, api, dispatcher, results)

    return run_virtual(main)


def seeded_runs(shape: Shape, contender: str, seeds: int) -> dict[str, Any]:
    """The runs of seeds 1 to `seeds`: the mean and the worst of each figure."""
    runs = [virtual_run(shape, contender, seed) for seed in range(1, seeds + 1)]
    ratios = [r["ratio"] for r in runs]
    throttled = [r["throttled"] for r in runs]
    return {"shape": shape.name, "contender": contender, "seeds": seeds,
            "ratio": round(statistics.mean(ratios), 3), "ratio_min": min(ratios),
            "throttled": round(statistics.mean(throttled), 4),
            "throttled_max": max(throttled),
            "failed_rows": sum(r["failed_rows"] for r in runs),
            "ratios": ratios}


def measure(shape: Shape, contender: str, api: ShapedApi, dispatcher: Dispatcher,
            results: list[JobResult]) -> dict[str, Any]:
    end = shape.seconds
    if shape.window:
        windows = int(end // shape.window)
        quota = shape.sustainable * shape.window
        ratio = api.ok(shape.window, windows * shape.window) / (quota * (windows - 1))
    else:
        mean = shape.mean_limit(15.0, end) if shape.mean_limit else shape.sustainable
        ratio = api.throughput(15.0, end) / mean
    failed = sum(not r.ok for r in results)
    row: dict[str, Any] = {"shape": shape.name, "contender": contender,
                           "ratio": round(ratio, 3),
                           "throttled": round(api.refused_share, 4),
                           "throttled_after_15s": round(api.refused_share_after(15.0), 4),
                           "answers": len(api.answers), "failed_rows": failed}
    if contender == "auto" and dispatcher.finder is not None:
        row["found"] = dispatcher.rate_report().get("found_per_second")
        row["cuts"] = dispatcher.finder.cuts
    return row


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| shape | auto | fixed at the limit | botocore |", "|---|---|---|---|"]
    by = {(r["shape"], r["contender"]): r for r in rows}
    for name, shape in SHAPES.items():
        if not any(s == name for s, _ in by):
            continue
        cells = []
        for contender in CONTENDERS:
            row = by.get((name, contender))
            cells.append("—" if row is None else row.get("skipped") or _cell(row))
        lines.append(f"| {shape.title} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(row: dict[str, Any]) -> str:
    failed = f", {row['failed_rows']} rows failed" if row["failed_rows"] else ""
    if "seeds" in row:
        return (f"{row['ratio']:.3f} ({row['ratio_min']:.3f}), "
                f"{100 * row['throttled']:.2f} % ({100 * row['throttled_max']:.2f} %)"
                + failed)
    return (f"{row['ratio']:.3f}, {100 * row['throttled']:.2f} % "
            f"({100 * row['throttled_after_15s']:.2f} %)" + failed)


# The shapes the sandbox can express today (bulkedit sandbox options), run for real:
# the real HTTP client and dispatcher on loopback, the sandbox in its own process.
REAL: dict[str, tuple[tuple[str, ...], float]] = {
    "sliding": (("--rate-schedule", "0:40,60:15,120:40", "--latency", "0.05", "--jitter",
                 "0.01"), 180.0),
    "403-spam": (("--rate", "37", "--rate-limit-status", "403", "--no-retry-after",
                  "--latency", "0.05", "--jitter", "0.01"), 60.0),
    "429-html": (("--rate", "37", "--no-retry-after", "--latency", "0.05", "--jitter",
                  "0.01"), 60.0),
    "latency300": (("--rate", "60", "--latency", "0.3", "--jitter", "0.03"), 60.0),
    "fast200": (("--rate", "200", "--latency", "0.05", "--jitter", "0.01"), 60.0),
    "window-no-ra": (("--window-quota", "1500/60", "--no-retry-after", "--latency", "0.05",
                      "--jitter", "0.01"), 180.0),
    "random3": (("--rate", "100", "--throttle-rate", "0.03", "--latency", "0.05",
                 "--jitter", "0.01"), 90.0),
    "random05": (("--rate", "150", "--throttle-rate", "0.005", "--latency", "0.05",
                  "--jitter", "0.01"), 90.0),
}


def real_run(shape: Shape, contender: str) -> dict[str, Any]:
    import time

    import aiohttp
    from bench_apply import KEY, SECRET, SandboxProcess
    from bench_rate import Recorder

    from bulkedit.client.transport import Credentials, DailymotionClient
    from bulkedit.core.protocol import edit_request
    from bulkedit.sandbox.store import video_id

    options, seconds = REAL[shape.name]

    async def main(base: str) -> dict[str, Any]:
        connector = aiohttp.TCPConnector(limit=shape.concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            recorder = Recorder(DailymotionClient(session, Credentials(KEY, SECRET), base,
                                                  30.0))
            sender: Any = recorder
            rate: Any = "auto" if contender == "auto" else shape.sustainable
            if contender == "botocore":
                rate, sender = None, botocore_limiter.BotocoreSender(recorder, time.monotonic)
            dispatcher = Dispatcher(sender, rate=rate, concurrency=shape.concurrency,
                                    policy=RetryPolicy(max_attempts=50, max_elapsed=1e9))
            results: list[JobResult] = []
            jobs = (Job(i, edit_request(video_id(i % 2000), {"title": f"{contender} {i}"}))
                    for i in range(10**9))
            recorder.start = time.monotonic()
            stopper = asyncio.get_running_loop().call_later(seconds, dispatcher.stop)
            try:
                await dispatcher.run(jobs, lambda r: None if dispatcher.stopping
                                     else results.append(r))
            except RunAborted:
                if not dispatcher.stopping:
                    raise
            stopper.cancel()
        attempts = recorder.attempts
        mean = shape.mean_limit(15.0, seconds) if shape.mean_limit else shape.sustainable
        ok = sum(1 for a in attempts if a.ok and 15.0 <= a.answered < seconds)
        if shape.window:  # the sandbox's windows start at the first request: whole ones
            windows = int(seconds // shape.window)
            taken = sum(1 for a in attempts if a.ok and shape.window <= a.answered
                        < windows * shape.window)
            ok, mean = taken, shape.sustainable * shape.window * (windows - 1) / (
                seconds - 15.0)
        throttled = [a for a in attempts if a.throttled]
        later = [a for a in attempts if a.answered >= 15.0]
        return {"shape": shape.name, "contender": contender, "real": True,
                "ratio": round(ok / (seconds - 15.0) / mean, 3),
                "throttled": round(len(throttled) / max(1, len(attempts)), 4),
                "throttled_after_15s": round(sum(a.throttled for a in later)
                                             / max(1, len(later)), 4),
                "answers": len(attempts), "failed_rows": sum(not r.ok for r in results)}

    import asyncio

    with SandboxProcess(*options, videos=2000) as sandbox:
        return asyncio.run(main(sandbox.base))


def main(argv: list[str]) -> None:
    real = "--real" in argv
    seeds = 1
    if "--seeds" in argv:
        at = argv.index("--seeds")
        seeds = int(argv[at + 1])
        argv = argv[:at] + argv[at + 2:]
    if real:
        import os

        if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
            os.sched_setaffinity(0, {1})  # the sandbox has CPU 0
    names = [a for a in argv if a in (REAL if real else SHAPES)] or list(
        REAL if real else SHAPES)
    contenders = [a for a in argv if a in CONTENDERS] or list(CONTENDERS)
    missing = botocore_limiter.available()
    if missing and "botocore" in contenders:
        print(missing, flush=True)
    rows = []
    for name in names:
        for contender in contenders:
            if contender == "botocore" and missing:
                rows.append({"shape": name, "contender": contender, "skipped": "skipped"})
                continue
            if real:
                row = real_run(SHAPES[name], contender)
            elif seeds > 1:
                row = seeded_runs(SHAPES[name], contender, seeds)
            else:
                row = virtual_run(SHAPES[name], contender)
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(table(rows))
    out = HERE / "data" / ("bench_rate_matrix_real.json" if real else
                           "bench_rate_matrix_seeds.json" if seeds > 1 else
                           "bench_rate_matrix.json")
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
