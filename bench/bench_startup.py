"""Start-up cost of `bulkedit --version`, `--help`, `help apply` and `completion bash`
(issue 29) against `python -c pass`.

Each case runs N times in a fresh interpreter, interleaved, and the medians are compared:
wall time (target <= 3x python -c pass) and peak RSS (target <= 40 MB). Run:

    python bench/bench_startup.py        # or: bench_startup.py 20 (runs per case)
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

CASES = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "bulkedit --version": [sys.executable, "-m", "bulkedit", "--version"],
    "bulkedit --help": [sys.executable, "-m", "bulkedit", "--help"],
    "bulkedit apply --help": [sys.executable, "-m", "bulkedit", "apply", "--help"],
    "bulkedit help apply": [sys.executable, "-m", "bulkedit", "help", "apply"],
    "bulkedit completion bash": [sys.executable, "-m", "bulkedit", "completion", "bash"],
}


def _wall(argv: list[str]) -> float:
    """Wall seconds of one fresh process."""
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def _peak(argv: list[str]) -> float:
    """Peak RSS (MB) of one fresh process, as GNU time reports it."""
    done = subprocess.run(["/usr/bin/time", "-f", "%M", *argv], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, check=True)
    return int(done.stderr.strip().splitlines()[-1]) / 1024


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    walls: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(runs):
        for name, argv in CASES.items():
            walls[name].append(_wall(argv))
    base = statistics.median(walls["python -c pass"])
    print(f"{'case':26} {'median s':>9} {'x pass':>7} {'peak MB':>8}")
    for name, argv in CASES.items():
        wall = statistics.median(walls[name])
        print(f"{name:26} {wall:9.3f} {wall / base:7.2f} {_peak(argv):8.1f}")


if __name__ == "__main__":
    main()
