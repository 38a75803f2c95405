"""The sandbox must never be the bottleneck: its CPU time per edit, against a bare handler.

    python bench/bench_sandbox.py [EDITS]

Starts `bulkedit sandbox` and a bare aiohttp server (the same form parsing and a small
JSON answer, nothing else) in their own processes, pinned to CPU 0 where taskset
exists, and sends the same edits to each from this process (pinned to CPU 1), 16 in
flight. The server's CPU time comes from /proc/PID/stat. Target: under 1 ms of sandbox
CPU per edit, so it serves well over 1,000 edits/s; reported as ratios from this run.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from bulkedit.sandbox.store import video_id

EDITS = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
CONCURRENCY = 16
FORM = {
    "title": "Tromsø: behind the scenes at the harbour, episode 12 — ☃ 🎬",
    "description": ("Filmed at dawn in the old harbour. " * 8).strip(),
    "tags": "travel, norway, harbour, winter series, behind the scenes",
    "private": "false",
    "channel": "travel",
}

BARE = r"""
import sys
from aiohttp import web
async def edit(request):
    form = await request.post()
    return web.json_response({"id": request.match_info["id"], "title": form.get("title")})
app = web.Application()
app.router.add_post("/rest/video/{id}", edit)
async def token(request):
    return web.json_response({"access_token": "bare", "expires_in": 36000})
app.router.add_post("/oauth/v1/token", token)
print("on http://127.0.0.1:%s " % sys.argv[1], flush=True)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pinned(command: list[str], cpu: int) -> list[str]:
    return ["taskset", "-c", str(cpu), *command] if shutil.which("taskset") else command


def start(command: list[str]) -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(pinned(command, 0), stdout=subprocess.PIPE, text=True)
    line = server.stdout.readline()  # type: ignore[union-attr]
    match = re.search(r"on (http://127\.0\.0\.1:\d+)", line)
    if not match:
        server.kill()
        raise SystemExit(f"server did not start: {line!r}")
    return server, match.group(1)


async def send(base: str, edits: int) -> float:
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as http:
        async with http.post(f"{base}/oauth/v1/token", data={
                "grant_type": "client_credentials", "client_id": "sandbox-api-key",
                "client_secret": "sandbox-api-secret", "scope": "manage_videos"}) as answer:
            token = (await answer.json())["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        ids = iter(range(edits))

        async def worker() -> None:
            for index in ids:
                video = video_id(index % 10_000)
                async with http.post(f"{base}/rest/video/{video}", data=FORM,
                                     headers=headers) as answer:
                    assert answer.status == 200, await answer.text()
                    await answer.read()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return time.perf_counter() - started


def measure(command: list[str]) -> tuple[float, float]:
    server, base = start(command)
    try:
        asyncio.run(send(base, 500))  # warm up
        before = cpu_seconds(server.pid)
        wall = asyncio.run(send(base, EDITS))
        return (cpu_seconds(server.pid) - before) / EDITS * 1000, EDITS / wall
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    if shutil.which("taskset"):
        os.sched_setaffinity(0, {1})
    sandbox_ms, sandbox_rate = measure([sys.executable, "-m", "bulkedit", "sandbox", "--port",
                                        "0", "--videos", "10000"])
    free_port = "8655"
    bare_ms, bare_rate = measure([sys.executable, "-c", BARE, free_port])
    print(f"{EDITS:,} edits, {CONCURRENCY} in flight, server on CPU 0, client on CPU 1")
    print(f"{'server':<10}{'CPU ms/edit':>13}{'edits/s':>10}")
    print(f"{'sandbox':<10}{sandbox_ms:>13.3f}{sandbox_rate:>10,.0f}")
    print(f"{'bare':<10}{bare_ms:>13.3f}{bare_rate:>10,.0f}")
    print(f"sandbox CPU per edit / 1 ms target: {sandbox_ms / 1.0:.2f}")
    print(f"sandbox CPU per edit / bare handler: {sandbox_ms / bare_ms:.2f}")
    print(f"edits/s the sandbox's CPU allows: {1000 / sandbox_ms:,.0f}")


if __name__ == "__main__":
    main()
