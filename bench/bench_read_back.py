"""The cost of the default read-back (issue 24): the 2,000-edit benchmark of bench_apply.py
(sandbox limited to 50 requests/s, 100 ms latency), applied with the default read-back and
with --no-verify, alternately, each on a fresh sandbox.

    python bench/bench_read_back.py [ROUNDS]     # default 2 rounds: 4 runs, about 3 minutes

Reported from this one run: the extra calls the read-back made, and the wall-time ratio
(median of the read-back runs / median of the --no-verify runs; target <= 1.03).
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_apply import SandboxProcess, bulkedit_apply, make_sheet

EDITS = 2_000


def one(folder: Path, tag: str, *options: str) -> tuple[float, dict]:
    with SandboxProcess("--rate", "50", "--latency", "0.1", videos=EDITS) as sandbox:
        return bulkedit_apply(make_sheet(folder, EDITS, tag), sandbox.base, "--rate", "50",
                              "--concurrency", "8", *options)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    folder = Path(tempfile.mkdtemp(prefix="bulkedit-bench-"))
    with_read_back: list[float] = []
    without: list[float] = []
    facts: dict = {}
    for number in range(rounds):
        wall, facts = one(folder, f"verify{number}")
        assert facts["counts"] == {"updated": EDITS}, facts["counts"]
        with_read_back.append(wall)
        wall, plain = one(folder, f"plain{number}", "--no-verify")
        assert plain["counts"] == {"sent": EDITS}, plain["counts"]
        without.append(wall)
        print(f"round {number + 1}: read-back {with_read_back[-1]:.2f} s, --no-verify "
              f"{without[-1]:.2f} s")
    calls = facts["read_back"]["calls"]
    ratio = statistics.median(with_read_back) / statistics.median(without)
    print(f"\n{EDITS} edits at 50 req/s, 100 ms latency: the read-back made {calls} extra calls "
          f"({facts['api_calls']['reads']} reads in all, {facts['api_calls']['writes']} "
          f"writes); wall time {statistics.median(with_read_back):.2f} s against "
          f"{statistics.median(without):.2f} s with --no-verify -> {ratio:.3f} x "
          "(target <= 1.03)")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
