"""The time estimate of a sheet of several accounts, from plain estimates
(core/account_estimate.py): the accounts run at the same time, so the slowest one's."""

from __future__ import annotations

from bulkedit.core.account_estimate import sheet_estimate, with_reads
from bulkedit.core.outcomes import Estimate


def at(rate: float, reads: int, writes: int) -> Estimate:
    return Estimate(reads, writes, round((reads + writes) / (rate * 0.95), 1), 0, rate)


def test_the_sheet_takes_as_long_as_its_slowest_account():
    fast, slow = at(20, 5, 495), at(5, 2, 148)  # 500 calls at 20/s, 150 at 5/s
    found = sheet_estimate({"fast": fast, "slow": slow})
    assert found.slowest == "slow" and found.total.seconds == slow.seconds == 31.6
    assert (found.total.reads, found.total.writes, found.total.calls) == (7, 643, 650)
    assert found.accounts == {"fast": fast, "slow": slow}
    # One after the other it would be the sum: the estimate is not that.
    assert found.total.seconds < (fast.seconds or 0) + (slow.seconds or 0)


def test_a_global_rate_below_the_accounts_sum_sets_the_time():
    parts = {"a": at(20, 1, 99), "b": at(20, 1, 99), "c": at(20, 1, 99)}
    assert sheet_estimate(parts).total.seconds == 5.3
    capped = sheet_estimate(parts, global_rate=30)
    assert capped.capped and capped.slowest is None
    assert capped.total.seconds == round(300 / (30 * 0.95), 1)
    assert not sheet_estimate(parts, global_rate=100).capped


def test_an_account_without_a_fixed_rate_leaves_the_sheet_without_a_time():
    found = sheet_estimate({"a": at(20, 1, 9), "b": Estimate(1, 9, None)})
    assert found.total.seconds is None and found.total.calls == 20


def test_the_owner_lookup_s_reads_are_its_reader_s():
    grown = with_reads(at(10, 1, 94), 10)
    assert (grown.reads, grown.calls, grown.seconds) == (11, 105, round(105 / 9.5, 1))
