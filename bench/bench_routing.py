"""What routing rows to accounts costs validation (issue 30, point 2), side by side in one
run: the same sheet validated without routing, with routing and no #account column (every
row the default account's), and with an #account column naming two accounts and blanks.

    python bench/bench_routing.py [ROWS]     # default 1,000,000

Each case is timed three times in turn (best kept); the ratios are against the case
without routing, from this one run. Target: routing adds under 10 %.
"""

from __future__ import annotations

import sys
import time

import pyarrow as pa

from bulkedit.core.routing import Routing
from bulkedit.core.sheet import Column, Sheet
from bulkedit.core.validation import ValidationOptions, validate
from bulkedit.sandbox.store import video_id


def main(rows: int) -> None:
    ids = pa.chunked_array([pa.array([video_id(i) for i in range(rows)])])
    titles = pa.chunked_array([pa.array([f"Title {i}" for i in range(rows)])])
    cells = pa.chunked_array([pa.array([("brand_fr", "brand_de", "")[i % 3]
                                        for i in range(rows)])])
    numbers = tuple(range(2, rows + 2))

    def sheet(column: bool) -> Sheet:
        columns = [Column("video_id", "video_id", "A", ids),
                   Column("title", "title", "B", titles)]
        if column:
            columns.append(Column("#account", "#", "C", cells))
        return Sheet("bench.csv", "csv", tuple(columns), numbers)

    routing = Routing(("brand_fr", "brand_de"), "brand_fr")
    cases = {"no routing": (sheet(True), ValidationOptions()),
             "routing, no #account column": (sheet(False), ValidationOptions(routing=routing)),
             "routing, #account column": (sheet(True), ValidationOptions(routing=routing))}
    best = dict.fromkeys(cases, float("inf"))
    for _ in range(3):
        for name, (table, options) in cases.items():
            started = time.perf_counter()
            result = validate(table, options)
            result.accounts()
            best[name] = min(best[name], time.perf_counter() - started)
    base = best["no routing"]
    print(f"validate {rows:,} rows (best of 3)")
    for name, seconds in best.items():
        print(f"  {name:<30} {seconds:6.2f} s   ratio {seconds / base:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
