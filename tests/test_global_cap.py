"""A global rate over several accounts (issue 30, point 3): each account's dispatcher keeps
its own rate, and one shared cap, which every request also takes, is never exceeded in any
second, against the sandbox's own count of what it received."""

from __future__ import annotations

import asyncio

import pytest

from bulkedit.client.connect import connect, shared_cap
from bulkedit.client.dispatch import Job
from bulkedit.client.transport import Credentials
from bulkedit.core.policy import ApiLimits
from bulkedit.core.protocol import HttpRequest
from bulkedit.sandbox import Sandbox, SandboxConfig
from bulkedit.sandbox.config import accounts

BRANDS = accounts(2, 4)
PER_ACCOUNT = 30  # requests each account sends


async def _two_accounts(cap_rate: float | None) -> Sandbox:
    async with Sandbox(SandboxConfig(videos=8, owners=4, keys=BRANDS)) as sandbox:
        cap = shared_cap(cap_rate) if cap_rate is not None else None
        limits = ApiLimits(rate=15.0, concurrency=4)  # each account: 15/s of its own

        async def account(brand) -> list:
            results = []
            async with connect(Credentials(brand.key, brand.secret), sandbox.base_url,
                               limits, cap=cap) as dispatcher:
                jobs = [Job(n, HttpRequest("GET", "/rest/video/x800000",
                                           (("fields", "id"),)))
                        for n in range(PER_ACCOUNT)]
                await dispatcher.run(jobs, results.append)
            return results

        done = await asyncio.gather(*(account(brand) for brand in BRANDS))
        assert all(r.ok for results in done for r in results)
        return sandbox


@pytest.mark.parametrize(("cap", "most"), [(10.0, 10), (None, 30)])
def test_a_global_cap_below_the_accounts_sum_is_never_exceeded(cap, most):
    sandbox = asyncio.run(_two_accounts(cap))
    counters = sandbox.counters
    for brand in BRANDS:  # every request went out through its own account's key
        assert counters.requests_by_key[brand.key] == PER_ACCOUNT
        assert counters.max_per_second_of_key(brand.key) <= 15
    assert counters.max_per_second <= most
    if cap is None:  # without the cap, the two accounts together go past it
        assert counters.max_per_second > 10


class _SlowCap:
    """A shared cap whose every slot takes a second of the test's clock."""

    def __init__(self, clock: list[float]):
        self.clock = clock
        self.taken = 0

    async def acquire(self) -> None:
        self.clock[0] += 1.0
        self.taken += 1


class _Instant:
    async def send(self, request: HttpRequest) -> dict:
        return {"id": "x800000"}


def test_the_wait_for_the_global_cap_is_not_read_as_the_api_s_latency():
    """--rate auto finds its rate from how long the API takes to answer: a request held
    back by the global cap left when the cap let it go, not before."""
    now = [100.0]
    cap = _SlowCap(now)
    latencies: list[float] = []

    async def scenario() -> None:
        async with connect(Credentials("k", "s"), "http://127.0.0.1:1",
                           ApiLimits(rate="auto", concurrency=1), sender=_Instant(),
                           clock=lambda: now[0], cap=cap) as dispatcher:  # type: ignore[arg-type]
            finder = dispatcher.finder
            heard = finder.answered

            def answered(at: float, sent_at: float, rate: float, latency: float) -> None:
                latencies.append(latency)
                heard(at, sent_at, rate, latency)

            finder.answered = answered
            jobs = [Job(n, HttpRequest("GET", "/rest/video/x800000", ())) for n in range(5)]
            await dispatcher.run(jobs, lambda result: None)

    asyncio.run(scenario())
    assert cap.taken == 5  # every request took the cap...
    assert latencies == [0.0] * 5  # ... and none of its wait counts as the API's
