"""The fault soak: 10,000 edits through every fault at once (too long for CI).

    python bench/bench_soak.py [EDITS]

A sandbox in its own process, its state in SQLite, answers 10 % of requests with a 5xx,
5 % with a 429 (no Retry-After), holds 2 % past the client's timeout and drops 1 %,
with a 20-second token life. bulkedit applies EDITS title changes; the report says
whether every row ended `updated`, how many attempts that took, and whether the stored
videos all say what the sheet says.
"""

from __future__ import annotations

import collections
import csv
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_apply import KEY, SECRET, SandboxProcess, make_sheet, pinned


def main() -> None:
    edits = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    folder = Path(tempfile.mkdtemp(prefix="bulkedit-soak-"))
    state = folder / "sandbox.sqlite"
    sheet = make_sheet(folder, edits, "soak")
    env = {**os.environ, "DAILYMOTION_API_KEY": KEY, "DAILYMOTION_API_SECRET": SECRET}
    with SandboxProcess("--fail-rate", "0.10", "--throttle-rate", "0.05", "--timeout-rate",
                        "0.02", "--hold", "5", "--drop-rate", "0.01", "--token-lifetime", "20",
                        "--no-retry-after", "--state", str(state), videos=edits) as sandbox:
        started = time.perf_counter()
        done = subprocess.run(pinned(
            [sys.executable, "-m", "bulkedit", "apply", str(sheet), "--api-base", sandbox.base,
             "--yes", "--rate", "0", "--concurrency", "16", "--timeout", "1",
             "--max-attempts", "12", "--backoff", "0.1", "--summary-json",
             str(folder / "summary.json")], 1), capture_output=True, text=True, env=env,
            check=False)
        wall = time.perf_counter() - started
    summary = json.loads((folder / "summary.json").read_text())
    with (folder / f"{sheet.stem}.results.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    attempts = collections.Counter(int(r["#attempts"] or 0) for r in rows)
    statuses = collections.Counter(r["#status"] for r in rows)
    with sqlite3.connect(state) as db:
        stored = {vid: json.loads(data)["title"] for vid, data in
                  db.execute("SELECT id, data FROM videos")}
    wanted = {r["video_id"]: r["title"] for r in rows}
    wrong = sum(1 for vid, title in wanted.items() if stored.get(vid) != title)
    print(f"soak: {edits:,} edits in {wall:.0f} s, exit {done.returncode}; statuses "
          f"{dict(statuses)}; retries {summary['retries']}, rate-limited "
          f"{summary['rate_limited']}; API calls {summary['api_calls']}")
    print(f"attempts per row: {dict(sorted(attempts.items()))} (max {max(attempts)} of 12 "
          f"allowed); videos not as the sheet says: {wrong}")


if __name__ == "__main__":
    main()
