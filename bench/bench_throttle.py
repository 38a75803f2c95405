"""Random throttles at a fixed rate (issue 26 point 3): what they cost.

    python bench/bench_throttle.py            # 3,000 edits each (~1 min)
    python bench/bench_throttle.py 30000      # the audit's size

Two sandboxes side by side, each in its own process, 20 ms latency: one that answers 3 %
of requests 429 at random, whatever the rate (`--throttle-rate 0.03`, Retry-After: 1), and
one that never does. The same `--rate 150` client (bulkedit's real HTTP client and
dispatcher, 32 requests in flight) sends N edits to each. The figure is a ratio from one
run: successful edits/s with 3 % throttles / edits/s without (target >= 0.90: random
throttles cost about their share, not most of the throughput; before the fix, 9-11/s of
150, a ratio near 0.07).
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_apply import KEY, SECRET, SandboxProcess

from bulkedit.client.dispatch import Dispatcher, Job, JobResult
from bulkedit.client.transport import Credentials, DailymotionClient
from bulkedit.core.protocol import edit_request
from bulkedit.sandbox.store import video_id

RATE = 150.0


async def send(base: str, edits: int) -> tuple[float, int, int]:
    """Seconds, successful edits, requests."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=32)) as session:
        client = DailymotionClient(session, Credentials(KEY, SECRET), base, 30.0)
        dispatcher = Dispatcher(client, rate=RATE, concurrency=32)
        done: list[JobResult] = []
        jobs = (Job(i, edit_request(video_id(i % 2000), {"title": f"t {i}"}))
                for i in range(edits))
        started = time.perf_counter()
        await dispatcher.run(jobs, done.append)
        took = time.perf_counter() - started
        return took, sum(r.ok for r in done), dispatcher.stats.requests


def main() -> None:
    edits = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    figures = {}
    for name, options in (("none", ()), ("3 %", ("--throttle-rate", "0.03"))):
        with SandboxProcess("--latency", "0.02", *options, videos=2000) as sandbox:
            took, ok, requests = asyncio.run(send(sandbox.base, edits))
        figures[name] = ok / took
        print(f"throttles {name:>4}: {ok} edits in {took:.1f} s = {ok / took:.1f}/s "
              f"({requests} requests) at --rate {RATE:g}")
    print(f"ratio (3 % throttles / none): {figures['3 %'] / figures['none']:.2f} "
          "(target >= 0.90)")


if __name__ == "__main__":
    main()
