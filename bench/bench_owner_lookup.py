"""What routing rows by their video's owner costs in API reads (issue 30, point 2, third
rule): `bulkedit plan` of ROWS rows with no #account against a sandbox of three accounts,
each listing its channels, beside the plan of the same rows with each one's #account
written (no lookup): the difference in API reads (the sandbox's counts, per key) is the
lookup's, given per 1,000 rows.

    python bench/bench_owner_lookup.py [ROWS]     # default 1,000

Expected: ceil(ROWS / 100) reads (100 ids a call, as the planner reads), all through one
key (default_account's, else the first account's).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bulkedit.sandbox.config import SandboxConfig, accounts
from bulkedit.sandbox.server import running_sandbox
from bulkedit.sandbox.store import video_id

NAMES = ("brand1", "brand2", "brand3")


def main(rows: int) -> None:
    brands = accounts(3, 3)
    with tempfile.TemporaryDirectory() as scratch, running_sandbox(
            SandboxConfig(videos=rows, owners=3, keys=brands)) as sandbox:
        folder = Path(scratch)
        config = folder / "bulkedit.toml"
        config.write_text("[api]\nrate = 0\n" + "".join(
            f'[accounts.{name}]\nkey_env = "{name.upper()}_KEY"\n'
            f'secret_env = "{name.upper()}_SECRET"\nchannels = {json.dumps(list(b.owners))}\n'
            for name, b in zip(NAMES, brands, strict=True)), encoding="utf-8")
        config.chmod(0o600)
        pairs = list(zip(NAMES, brands, strict=True))
        env = {**os.environ, **{f"{n.upper()}_KEY": b.key for n, b in pairs},
               **{f"{n.upper()}_SECRET": b.secret for n, b in pairs}}
        reads = {}
        for named in (False, True):
            path = folder / f"edits{int(named)}.csv"
            with path.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(["video_id", "title", "#account"])
                writer.writerows([video_id(i), f"Owned {i}", NAMES[i % 3] if named else ""]
                                 for i in range(rows))
            before = dict(sandbox.counters.requests_by_key)
            done = subprocess.run([sys.executable, "-m", "bulkedit", "plan", str(path),
                                   "--config", str(config), "--api-base", sandbox.base_url,
                                   "--report", str(folder / "p.xlsx"), "--html",
                                   str(folder / "p.html")], capture_output=True, text=True,
                                  env=env, check=False)
            if done.returncode != 0:
                sys.exit(f"plan failed ({done.returncode}): {done.stdout}{done.stderr}")
            reads[named] = {b.key: sandbox.counters.requests_by_key[b.key] - before.get(b.key, 0)
                            for b in brands}
        lookup = {key: reads[False][key] - reads[True][key] for key in reads[True]}
        total = sum(lookup.values())
        by = ", ".join(f"{name} {lookup[b.key]}" for name, b in zip(NAMES, brands, strict=True))
        print(f"{rows:,} rows routed by owner: {total} lookup reads ({by}) "
              f"= {total * 1000 / rows:.1f} per 1,000 rows; plan reads with #account "
              f"written: {sum(reads[True].values())}")

if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000)
