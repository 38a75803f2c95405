"""What an apply of a planned sheet would cost, each account at its own rate (issue 30):
the rows of each account estimated at that account's rate, batch size, canary and
read-back, the owner lookup's reads its reader's; core/account_estimate.py puts them
together (the accounts run at the same time: the slowest one's time)."""

from __future__ import annotations

from bulkedit.core.account_estimate import SheetEstimate, sheet_estimate, with_reads
from bulkedit.core.outcomes import Estimate, RunResult
from bulkedit.run.options import RunOptions


def _of(result: RunResult, options: RunOptions, positions: frozenset[int] | None
        ) -> Estimate:
    return result.estimate(options.batch_size, options.limits().fixed_rate, options.verify,
                           options.apply_canary_size, positions)


def plan_estimate(result: RunResult, options: RunOptions) -> SheetEstimate:
    """The estimate of the sheet, and of each account when its rows go to several."""
    routes = result.validation.routes
    if len(result.accounts) < 2 or routes is None:
        one = options.for_account(result.account) if result.account else options
        total = with_reads(_of(result, one, None), result.lookup_reads)
        return SheetEstimate(total, {})
    positions = routes.positions()
    parts: dict[str, Estimate] = {}
    for name in result.accounts:
        part = _of(result, options.for_account(name), frozenset(positions.get(name, ())))
        parts[name] = with_reads(part, result.lookup_reads) \
            if name == result.lookup_account else part
    return sheet_estimate(parts, options.global_rate)
