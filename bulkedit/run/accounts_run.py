"""One sheet, several accounts, one run (issue 30, points 3 to 5): the pieces the runner
puts around each account's own engine context.

Each account's rows run in their own `SheetRun` (its options, key, limiter, retries,
breaker, concurrency, journal run and lock), all at the same time in one event loop.
What the accounts share is decided here, once for all of them:

  * `Together`: every account reads and plans first; then one decision for the whole
    sheet (rows refused against the live values stop every account, as they stop a
    sheet of one; one confirmation; one rollback sheet before the first write of any);
  * `ProgressSum`: one progress for the sheet, the sum of the accounts';
  * `merge`: one result for the sheet, each row its account's outcome, a block per
    account in the summary, and the rows an account could not send after it stopped
    marked `failed` with why.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bulkedit.client.transport import ENV_KEY, ENV_SECRET
from bulkedit.core.errors import ErrorClass
from bulkedit.core.outcomes import MIN_RATE_SECONDS, RunResult, Status
from bulkedit.core.planning import RowPlan
from bulkedit.core.validation import ValidationResult
from bulkedit.run.accounts import Account

T = TypeVar("T")
Progress = Callable[[str, int, int, int], None]


def owners(validation: ValidationResult, names: Sequence[str]) -> dict[str, frozenset[int]]:
    """Each account's row positions; rows that reach no account (invalid) go with the
    first account's run, which journals them."""
    found: dict[str | None, list[int]] = (validation.routes.positions()
                                          if validation.routes is not None else {})
    mine = {name: set(found.get(name, ())) for name in names}
    for account, positions in found.items():
        if account not in mine:
            mine[names[0]].update(positions)
    return {name: frozenset(positions) for name, positions in mine.items()}


@dataclass
class _Arrival:
    changes: list[RowPlan]
    result: RunResult
    ready: bool  # read and planned in full, and sending


@dataclass
class Together:
    """Where every account waits once its rows are planned, until one decision for the
    sheet: `decide` hears each account's changes (an account that ended before, say its
    reads failed, is not among them) and says which may send (False: none)."""

    names: tuple[str, ...]
    decide: Callable[[dict[str, _Arrival]], bool]
    arrived: dict[str, _Arrival] = field(default_factory=dict)
    ended: set[str] = field(default_factory=set)
    _event: asyncio.Event = field(default_factory=asyncio.Event)
    _go: bool = False
    _error: BaseException | None = None

    async def wait(self, name: str, changes: list[RowPlan], result: RunResult,
                   ready: bool) -> bool:
        """The account `name` has planned; True when it may send `changes`."""
        self.arrived[name] = _Arrival(changes, result, ready)
        self._check()
        await self._event.wait()
        if self._error is not None:
            raise self._error
        return self._go and ready

    async def running(self, name: str, work: Awaitable[T]) -> T:
        """An account's run, which counts as arrived once it ends however it ends."""
        try:
            return await work
        finally:
            self.ended.add(name)
            self._check()

    def _check(self) -> None:
        if self._event.is_set() or len(self.arrived.keys() | self.ended) < len(self.names):
            return
        try:
            self._go = self.decide(self.arrived)
        except BaseException as error:  # a rollback sheet that cannot be written: no write
            self._error = error
        self._event.set()


class ProgressSum:
    """One progress over several accounts: each phase's counts summed over the accounts
    in it."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self._phases: dict[str, dict[str, tuple[int, int, int]]] = {}

    def of(self, name: str) -> Progress:
        def told(phase: str, done: int, total: int, failures: int) -> None:
            counts = self._phases.setdefault(phase, {})
            counts[name] = (done, total, failures)
            self.progress(phase, *(sum(c[i] for c in counts.values()) for i in range(3)))
        return told


_DEFAULT_KEY_WORDS = f"{ENV_KEY} and {ENV_SECRET}"


def name_own_key(result: RunResult, account: Account) -> None:
    """A refused key, said of a configured account: where its own key is (the variables
    its section names, or its file), never the default variables it does not read."""
    words = f"the key of the account {account.name} ({account.key_source})"
    for outcome in result.own():
        if _DEFAULT_KEY_WORDS in outcome.error:
            outcome.error = outcome.error.replace(_DEFAULT_KEY_WORDS, words)
    if result.aborted and _DEFAULT_KEY_WORDS in result.aborted:
        result.aborted = result.aborted.replace(_DEFAULT_KEY_WORDS, words)


def mark_stopped(result: RunResult, name: str, duplicates: frozenset[int]) -> None:
    """An account that stopped early (a revoked key, its breaker, a throttle budget
    spent): each of its rows it did not send is `failed`, saying why; the next apply of
    the sheet sends them."""
    if not result.aborted or result.interrupted or result.cancelled or result.blocked:
        return
    assert result.positions is not None
    own = [result.outcomes[p] for p in sorted(result.positions)]
    failed = [o for o in own if o.status == Status.FAILED and o.error_class]
    kind = failed[-1].error_class if failed else ErrorClass.TRANSIENT
    for position in sorted(result.positions - duplicates):
        outcome = result.outcomes[position]
        if outcome.status == Status.SKIPPED:
            outcome.status, outcome.error_class = Status.FAILED, kind
            outcome.error = (f"not sent: the account {name} stopped ({result.aborted}); "
                             "apply the sheet again once it is fixed: this row is sent then")


def account_block(result: RunResult, settled: str | None = None) -> dict[str, Any]:
    """What one account did, for the summary's `accounts` block."""
    duration = max(result.finished - result.started, 0.0)
    calls = result.reads + result.writes
    rate = round(calls / duration, 2) if duration >= MIN_RATE_SECONDS else None
    stopped = (f"finished before, in run {settled}" if settled else
               "interrupted" if result.interrupted else
               "cancelled at the confirmation" if result.cancelled else
               f"nothing sent: {result.blocked} rows of the sheet are refused against "
               "the live values" if result.blocked else result.aborted)
    return {"run": result.run_id, "rows": len(result.own()), "counts": result.counts(),
            "reads": result.reads, "writes": result.writes,
            "achieved_rate_per_second": rate, "rate_limited": result.rate_limited,
            "retries": result.retries, "rate": result.rate,
            "stopped": stopped, "exit_code": int(result.exit_code)}


def merge(base: RunResult, parts: Mapping[str, RunResult],
          settled: Mapping[str, str]) -> RunResult:
    """One result for the sheet: each row its account's outcome (`parts`' own rows), the
    counts summed, a block per account; `settled`: the accounts whose finished runs were
    only read back from the journal (run ids). The worst account's stop is the sheet's."""
    for part in parts.values():
        assert part.positions is not None
        for position in part.positions:
            base.outcomes[position] = part.outcomes[position]
        base.plans.update({p: plan for p, plan in part.plans.items()
                           if p in part.positions})
        base.live.update(part.live)
        base.reads += part.reads
        base.writes += part.writes
        base.retries += part.retries
        base.rate_limited += part.rate_limited
        base.rate_cuts += part.rate_cuts
        base.read_back_calls += part.read_back_calls
        base.read_seconds = max(base.read_seconds, part.read_seconds)
        base.write_seconds = max(base.write_seconds, part.write_seconds)
        base.interrupted = base.interrupted or part.interrupted
        base.cancelled = base.cancelled or part.cancelled
        base.blocked = max(base.blocked, part.blocked)
        base.canary_stop = base.canary_stop or part.canary_stop
    stops = [f"account {name}: {part.aborted}" for name, part in parts.items()
             if part.aborted and not part.blocked]
    base.aborted = "; ".join(stops) or None
    base.rate = {"mode": "per account",
                 "accounts": {name: part.rate for name, part in parts.items()}}
    base.accounts = {name: account_block(part, settled.get(name))
                     for name, part in parts.items()}
    return base
