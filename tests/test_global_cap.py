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
