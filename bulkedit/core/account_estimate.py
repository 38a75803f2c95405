"""The time an apply of a sheet of several accounts takes (issue 30): the accounts run at
the same time, each at its own rate, so the sheet takes as long as its slowest account
(its calls at its rate), and no less than every account's calls at the global rate when
one caps them. Pure: plain estimates in, one estimate out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bulkedit.core.outcomes import Estimate

MARGIN = 0.95  # the limiter's margin, as RunResult.estimate counts it


@dataclass(frozen=True)
class SheetEstimate:
    """The sheet's estimate (calls summed, time the slowest account's) and each
    account's; `slowest`: the account the time is (None: no fixed rate, or the global
    rate is what holds the sheet back)."""

    total: Estimate
    accounts: dict[str, Estimate]
    slowest: str | None = None
    capped: bool = False  # the global rate, not an account's, sets the time


def with_reads(estimate: Estimate, reads: int) -> Estimate:
    """`estimate` with `reads` more reads before the others (the owner lookup's), at
    its rate."""
    if not reads:
        return estimate
    calls = estimate.calls + reads
    seconds = round(calls / (estimate.rate * MARGIN), 1) if estimate.rate else None
    return Estimate(estimate.reads + reads, estimate.writes, seconds, estimate.read_backs,
                    estimate.rate)


def sheet_estimate(accounts: Mapping[str, Estimate], global_rate: float | None = None
                   ) -> SheetEstimate:
    """The estimate of the accounts' parts running at the same time."""
    parts = dict(accounts)
    reads = sum(e.reads for e in parts.values())
    writes = sum(e.writes for e in parts.values())
    backs = sum(e.read_backs for e in parts.values())
    timed = [e.seconds for e in parts.values()]
    if not parts or any(seconds is None for seconds in timed):
        return SheetEstimate(Estimate(reads, writes, None, backs, None), parts)
    slowest = max(parts, key=lambda name: parts[name].seconds or 0.0)
    seconds = parts[slowest].seconds or 0.0
    rate = sum(e.rate or 0.0 for e in parts.values())
    capped = False
    if global_rate:
        floor = round((reads + writes + backs) / (global_rate * MARGIN), 1)
        if floor > seconds:
            seconds, capped, rate = floor, True, global_rate
    return SheetEstimate(Estimate(reads, writes, seconds, backs, rate), parts,
                         None if capped else slowest, capped)
