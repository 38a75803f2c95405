"""The summary's `rate` block as the dispatcher reports it (runner → summary JSON, and
the console's "it ended at 12.35/s"): rates to the hundredth, whatever the finder holds.
Issue 28's seed-28 sample of client/dispatch.py rounded `final_per_second` to three
places and no test noticed."""

from __future__ import annotations

from typing import Any

from bulkedit.client.dispatch import Dispatcher


class HeldFinder:
    """A rate finder that holds what it is given (the dispatcher's RateControl)."""

    def __init__(self, current: float, found: float | None) -> None:
        self.cuts = 3
        self.ceiling = 100.0
        self.quota_spent = False
        self.current = current
        self.found = found

    def rate(self, now: float) -> float:
        return self.current

    def sent(self, now: float) -> float:
        return self.current

    def answered(self, now: float, sent_at: float, sent_rate: float,
                 latency: float) -> None: ...

    def refused(self, now: float, sent_at: float, sent_rate: float) -> bool:
        return False

    def lost(self, now: float, sent_at: float) -> None: ...


class NoApi:
    async def send(self, request: Any) -> Any:
        raise AssertionError("nothing is sent here")


def test_the_rate_block_of_an_auto_run_gives_rates_to_the_hundredth():
    dispatcher = Dispatcher(NoApi(), rate="auto", concurrency=4,
                            finder=HeldFinder(12.345678, 37.123456))
    assert dispatcher.rate_report() == {"mode": "auto", "max_per_second": 100.0,
                                        "found_per_second": 37.12,
                                        "final_per_second": 12.35, "cuts": 3}
    unheld = Dispatcher(NoApi(), rate="auto", concurrency=4,
                        finder=HeldFinder(7.0049, None))
    assert unheld.rate_report()["found_per_second"] is None
    assert unheld.rate_report()["final_per_second"] == 7.0
