"""bulkedit apply against the sandbox: the three speed targets of issue #4, from one run.

    python bench/bench_apply.py            # needs `pip install -e ".[bench]"` for requests

The sandbox runs in its own process on CPU 0, the client on CPU 1 (where taskset
exists). Every figure is a ratio from this one run:
  1. sandbox limited to 50 requests/s with 100 ms latency: 2,000 edits within
     1.05 x the ideal 40 s (the sending phase; the whole run is reported too),
     and zero 429s served;
  2. unlimited sandbox, no latency: bulkedit's end-to-end edits/s at least 60 % of
     a bare aiohttp loop (same session settings; no limiter, journal or sheet);
  3. the same 100 ms sandbox: at least 5x faster than a sequential requests.post
     loop (the seed page's approach).
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from bulkedit.sandbox.store import video_id

KEY, SECRET = "sandbox-api-key", "sandbox-api-secret"
FORM = {"title": "Tromsø: behind the scenes at the harbour — ☃ 🎬",
        "description": ("Filmed at dawn in the old harbour. " * 8).strip(),
        "tags": "travel, norway, harbour, winter series"}


def pinned(command: list[str], cpu: int) -> list[str]:
    return ["taskset", "-c", str(cpu), *command] if shutil.which("taskset") else command


class SandboxProcess:
    def __init__(self, *options: str, videos: int = 20_000):
        command = [sys.executable, "-m", "bulkedit", "sandbox", "--port", "0", "--videos",
                   str(videos), *options]
        self.process = subprocess.Popen(pinned(command, 0), stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()  # type: ignore[union-attr]
        match = re.search(r"on (http://127\.0\.0\.1:\d+)", line)
        if not match:
            self.process.kill()
            raise SystemExit(f"sandbox did not start: {line!r}")
        self.base = match.group(1)

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait()


def make_sheet(folder: Path, count: int, tag: str) -> Path:
    path = folder / f"edits-{tag}-{count}.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["video_id", "title", "description", "tags"])
        for i in range(count):
            writer.writerow([video_id(i), f"{FORM['title']} {tag} {i}", FORM["description"],
                             FORM["tags"]])
    return path


def bulkedit_apply(sheet: Path, base: str, *options: str) -> tuple[float, dict]:
    summary = sheet.with_suffix(".summary.json")
    env = {**os.environ, "DAILYMOTION_API_KEY": KEY, "DAILYMOTION_API_SECRET": SECRET}
    command = [sys.executable, "-m", "bulkedit", "apply", str(sheet), "--api-base", base,
               "--yes", "--summary-json", str(summary), *options]
    started = time.perf_counter()
    done = subprocess.run(pinned(command, 1), capture_output=True, text=True, env=env,
                          check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"apply failed ({done.returncode}): {done.stdout}{done.stderr}")
    return wall, json.loads(summary.read_text())


async def bare_loop(base: str, count: int, concurrency: int) -> float:
    """The floor: the same requests from one session, nothing else."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        async with http.post(f"{base}/oauth/v1/token", data={
                "grant_type": "client_credentials", "client_id": KEY, "client_secret": SECRET,
                "scope": "manage_videos"}) as answer:
            token = (await answer.json())["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        pending = iter(range(count))

        async def worker() -> None:
            for i in pending:
                form = {**FORM, "title": f"{FORM['title']} bare {i}"}
                async with http.post(f"{base}/rest/video/{video_id(i)}", data=form,
                                     headers=headers, params={"fields": "id"}) as answer:
                    await answer.read()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started


def requests_loop(base: str, count: int) -> float:
    import requests

    token = requests.post(f"{base}/oauth/v1/token", data={
        "grant_type": "client_credentials", "client_id": KEY, "client_secret": SECRET,
        "scope": "manage_videos"}, timeout=30).json()["access_token"]
    started = time.perf_counter()
    for i in range(count):
        requests.post(f"{base}/rest/video/{video_id(i)}", timeout=30,
                      data={**FORM, "title": f"{FORM['title']} seq {i}"},
                      headers={"Authorization": f"Bearer {token}"})
    return time.perf_counter() - started


def main() -> None:
    if shutil.which("taskset"):
        os.sched_setaffinity(0, {1})
    folder = Path(tempfile.mkdtemp(prefix="bulkedit-bench-"))
    print("bulkedit apply against the sandbox (sandbox on CPU 0, client on CPU 1)\n")

    # 1. Rate-limited API with latency.
    with SandboxProcess("--rate", "50", "--latency", "0.1", videos=2_000) as sandbox:
        wall, summary = bulkedit_apply(make_sheet(folder, 2_000, "rated"), sandbox.base,
                                       "--rate", "50", "--concurrency", "8")
    ideal = 2_000 / 50
    sending = summary["phase_seconds"]["write"]
    print(f"1. 50 req/s, 100 ms: the 2,000 edits took {sending:.1f} s (ideal {ideal:.0f} s) -> "
          f"{sending / ideal:.3f} x ideal (target <= 1.05); 429s: {summary['rate_limited']} "
          f"(target 0). The whole run, with start-up and the "
          f"{summary['api_calls']['reads']} batched reads at the same rate: {wall:.1f} s -> "
          f"{wall / ideal:.3f} x")

    # 2. Unlimited API: bulkedit end to end against a bare aiohttp loop.
    count = 20_000
    with SandboxProcess(videos=count) as sandbox:
        bare = asyncio.run(bare_loop(sandbox.base, count, 8))
        wall, summary = bulkedit_apply(make_sheet(folder, count, "fast"), sandbox.base,
                                       "--rate", "0", "--concurrency", "8")
    print(f"2. unlimited: bare aiohttp loop {count / bare:,.0f} edits/s; bulkedit end to end "
          f"{count / wall:,.0f} edits/s ({wall:.1f} s incl. start-up, load, reads, results) "
          f"-> {bare / wall:.2f} of the bare loop (target >= 0.60)")

    # 3. Against the seed page's sequential requests.post loop, 100 ms latency.
    count = 200
    with SandboxProcess("--latency", "0.1", videos=count) as sandbox:
        sequential = requests_loop(sandbox.base, count)
        wall, _ = bulkedit_apply(make_sheet(folder, count, "vs"), sandbox.base, "--rate", "0",
                                 "--concurrency", "16")
    print(f"3. 100 ms latency, {count} edits: requests.post loop {sequential:.1f} s, bulkedit "
          f"{wall:.1f} s -> {sequential / wall:.1f} x faster (target >= 5)")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
