"""Several accounts in one apply (issue 30): throughput grows with the accounts, since the
API's limit is per key. One sandbox process with three partner accounts, each key limited
to 20 requests/s (`--limit-per key`), 50 ms latency; bulkedit at 20/s per account:

  * one account: 500 rows of account 1;
  * three accounts: 1,500 rows, 500 of each, interleaved in one sheet (`#account`).

Alternately, each on a fresh sandbox, side by side in one run:

    python bench/bench_accounts.py [ROUNDS] [ROWS]     # default 2 rounds of 500 rows

Reported: each run's wall time, writes and 429s per account, and the ratio of throughput
(rows/s of the mixed sheet / rows/s of the one account's sheet; target about 3x).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_apply import SandboxProcess, pinned

from bulkedit.sandbox.store import video_id

ACCOUNTS = 3
RATE = 20  # per key: the sandbox's limit and bulkedit's rate
CONFIG = f"""\
[api]
rate = {RATE}
concurrency = 4
default_account = "brand1"
""" + "".join(f"""
[accounts.brand{n}]
key_env = "BRAND{n}_KEY"
secret_env = "BRAND{n}_SECRET"
""" for n in range(1, ACCOUNTS + 1))


def make_sheet(folder: Path, rows: int, accounts: int, tag: str) -> Path:
    """`rows` rows of each of the first `accounts` accounts, interleaved; with 3 owners
    video i is channel i % 3's, which is account (i % 3) + 1's."""
    path = folder / f"{tag}.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["video_id", "title", "#account"])
        for i in range(rows * ACCOUNTS):
            if i % ACCOUNTS < accounts:
                writer.writerow([video_id(i), f"Bench {tag} {i}", f"brand{i % ACCOUNTS + 1}"])
    return path


def apply(sheet: Path, base: str, config: Path) -> tuple[float, dict]:
    summary = sheet.with_suffix(".summary.json")
    env = {**os.environ, **{f"BRAND{n}_KEY": f"sandbox-key-{n}"
                            for n in range(1, ACCOUNTS + 1)},
           **{f"BRAND{n}_SECRET": f"sandbox-secret-{n}" for n in range(1, ACCOUNTS + 1)},
           "BULKEDIT_STATE_DIR": str(sheet.parent / "state"),
           "BULKEDIT_LOCK_DIR": str(sheet.parent / "locks")}
    command = [sys.executable, "-m", "bulkedit", "apply", str(sheet), "--config", str(config),
               "--api-base", base, "--yes", "--summary-json", str(summary)]
    started = time.perf_counter()
    done = subprocess.run(pinned(command, 1), capture_output=True, text=True, env=env,
                          check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"apply failed ({done.returncode}): {done.stdout}{done.stderr}")
    return wall, json.loads(summary.read_text())


def one(folder: Path, config: Path, rows: int, accounts: int, tag: str) -> tuple[float, dict]:
    with SandboxProcess("--accounts", str(ACCOUNTS), "--owners", str(ACCOUNTS),
                        "--limit-per", "key", "--rate", str(RATE), "--latency", "0.05",
                        videos=rows * ACCOUNTS) as sandbox:
        return apply(make_sheet(folder, rows, accounts, tag), sandbox.base, config)


def told(facts: dict) -> str:
    blocks = facts.get("accounts") or {"brand1": {
        "writes": facts["api_calls"]["writes"], "rate_limited": facts["rate_limited"]}}
    return ", ".join(f"{name} {block['writes']} writes / {block['rate_limited']} 429"
                     for name, block in blocks.items())


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    folder = Path(tempfile.mkdtemp(prefix="bulkedit-bench-accounts-"))
    config = folder / "bulkedit.toml"
    config.write_text(CONFIG, encoding="utf-8")
    config.chmod(0o600)
    single: list[float] = []
    mixed: list[float] = []
    for number in range(rounds):
        wall, facts = one(folder, config, rows, 1, f"one{number}")
        assert facts["counts"] == {"updated": rows}, facts["counts"]
        single.append(wall)
        print(f"round {number + 1}: one account, {rows} rows: {wall:.2f} s ({told(facts)})")
        wall, facts = one(folder, config, rows, ACCOUNTS, f"mixed{number}")
        assert facts["counts"] == {"updated": rows * ACCOUNTS}, facts["counts"]
        assert all(block["writes"] == rows for block in facts["accounts"].values())
        mixed.append(wall)
        print(f"round {number + 1}: {ACCOUNTS} accounts, {rows * ACCOUNTS} rows: "
              f"{wall:.2f} s ({told(facts)})")
    one_rate = rows / statistics.median(single)
    all_rate = rows * ACCOUNTS / statistics.median(mixed)
    print(f"\n{ACCOUNTS} accounts x {rows} rows at {RATE} writes/s each: "
          f"{statistics.median(mixed):.2f} s ({all_rate:.1f} rows/s) against one account's "
          f"{rows} rows in {statistics.median(single):.2f} s ({one_rate:.1f} rows/s) -> "
          f"throughput {all_rate / one_rate:.2f} x (target about {ACCOUNTS} x)")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
