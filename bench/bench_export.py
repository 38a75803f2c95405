"""Export throughput: videos/s of `bulkedit export` at a rate limit, against the ideal.

    python bench/bench_export.py [VIDEOS] [RATE]

A sandbox with one channel of VIDEOS videos (default 20,000) and a limit of RATE
requests/s (default 10) runs in its own process. At 100 videos a page, the ideal is
RATE x 100 videos/s; the figure is a ratio from this one run. RATE 0 means no limit
(for a memory run: `python bench/bench_export.py 100000 0`).
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_apply import KEY, SECRET, SandboxProcess, pinned

from bulkedit.sandbox.store import owner_id


def main() -> None:
    videos = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    rate = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
    out = Path(tempfile.mkdtemp(prefix="bulkedit-export-")) / "videos.xlsx"
    env = {**os.environ, "DAILYMOTION_API_KEY": KEY, "DAILYMOTION_API_SECRET": SECRET}
    with SandboxProcess("--rate", str(rate), "--owners", "1", videos=videos) as sandbox:
        started = time.perf_counter()
        done = subprocess.run(pinned([sys.executable, "-m", "bulkedit", "export", "--owner",
                                      owner_id(0), "-o", str(out), "--api-base", sandbox.base,
                                      "--rate", str(rate)], 1),
                              capture_output=True, text=True, env=env, check=True)
        wall = time.perf_counter() - started
        # Before the sandbox is stopped and waited for, only the export counts here.
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    calls = int(re.search(r"\((\d+) API calls", done.stdout).group(1))
    line = (f"export of {videos:,} videos at {rate:g} req/s: {wall:.1f} s, "
            f"{videos / wall:,.0f} videos/s ({calls} calls)")
    if rate:
        ideal = rate * 100
        line += f"; ideal {ideal:,.0f} videos/s -> {videos / wall / ideal:.2f} of ideal"
    print(f"{line}; {out.stat().st_size / 1e6:.1f} MB XLSX; export's peak RSS "
          f"{peak:.0f} MB")


if __name__ == "__main__":
    main()
