"""Hostile sheets (issue 26): the peak memory and time of refusing each one, and the cost
of reading workbooks in a child process.

    python bench/bench_hostile.py              # both parts
    python bench/bench_hostile.py hostile      # the hostile files only
    python bench/bench_hostile.py child        # in-process against child reads only

Part 1 makes every file of tests/hostile_sheets.py at full size (the 300 MB CSVs, the
1 GB shared-strings bomb) in a temporary folder and runs `bulkedit validate` on each in a
fresh process: exit code, seconds, and peak RSS of that process and the reader child it
forks (RUSAGE_CHILDREN: the largest of them). Target: exit 2 and at most 300 MB each.

Part 2 reads the same XLSX (10,000 and 100,000 rows of bench/gen.py) with calamine in the
process and in the child, alternately, in one warm process, and gives the medians and
their ratio (child / in-process).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))

TARGET_MB = 300


PROBE = r"""
import json, resource, subprocess, sys, time
t = time.perf_counter()
done = subprocess.run([sys.executable, "-m", "bulkedit", "validate", sys.argv[1]],
                      capture_output=True, text=True)
print(json.dumps({"code": done.returncode, "seconds": time.perf_counter() - t,
                  "peak_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                  "stderr": done.stderr[-400:]}))
"""


def hostile() -> None:
    """Each file in a fresh probe process, whose RUSAGE_CHILDREN peak is that of the
    validate process and of the reader child it forks, the larger."""
    import hostile_sheets

    print(f"{'file':<26} {'size MB':>8} {'exit':>5} {'seconds':>8} {'peak MB':>8}  problem")
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as folder:
        for name, make in hostile_sheets.MAKERS.items():
            path = make(Path(folder))
            out = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True,
                                 text=True, cwd=ROOT, check=True)
            found = json.loads(out.stdout)
            peak = found["peak_kb"] / 1024
            problem = found["stderr"].rpartition("(problem ")[2].partition(")")[0] or "-"
            mark = "ok" if found["code"] == 2 and peak <= TARGET_MB else "MISS"
            print(f"{name:<26} {path.stat().st_size / 1e6:>8.1f} {found['code']:>5} "
                  f"{found['seconds']:>8.2f} {peak:>8.0f}  {problem} {mark}")
            path.unlink()


CHILD = r"""
import json, statistics, sys, time
from bulkedit.sheets.source import open_source
from bulkedit.sheets.workbook import read_workbook_sheet
path, rounds = sys.argv[1], int(sys.argv[2])
times = {"in-process": [], "child": []}
read_workbook_sheet(open_source(path, None), None, in_process=True)  # warm
read_workbook_sheet(open_source(path, None), None)
for _ in range(rounds):
    for way in times:
        t = time.perf_counter()
        sheet = read_workbook_sheet(open_source(path, None), None,
                                    in_process=way == "in-process")
        times[way].append(time.perf_counter() - t)
print(json.dumps({way: statistics.median(ts) for way, ts in times.items()}))
"""


def child() -> None:
    data = HERE / "data"
    data.mkdir(exist_ok=True)
    print(f"{'sheet':<22} {'in-process s':>13} {'child s':>9} {'ratio':>7}")
    for rows in (10_000, 100_000):
        path = data / f"in_{rows}.xlsx"
        if not path.exists():
            subprocess.run([sys.executable, str(HERE / "gen.py"), "xlsx", str(rows), str(path)],
                           check=True)
        rounds = 7 if rows <= 10_000 else 3
        out = subprocess.run([sys.executable, "-c", CHILD, str(path), str(rounds)],
                             capture_output=True, text=True, check=True, cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
        medians = json.loads(out.stdout)
        print(f"{path.name:<22} {medians['in-process']:>13.3f} {medians['child']:>9.3f} "
              f"{medians['child'] / medians['in-process']:>7.3f}")


if __name__ == "__main__":
    parts = sys.argv[1:] or ["hostile", "child"]
    if "hostile" in parts:
        hostile()
    if "child" in parts:
        child()
