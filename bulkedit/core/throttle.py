"""Throttling is never failure (issues 26, 27): telling a quota window from a rate limit,
and what bounds the waiting.

A throttled request (429, or a 403 that says "rate"/"spam", or one known to be throttling)
was not applied: it waits and is sent again, and never uses up one of its row's attempts.
What stops a run from waiting forever is one budget per run: the seconds every worker may
spend held because the API refuses everything (`budget`, one hour by default; the time a
partner's hourly quota may take to come back). Past it the run stops and the rows left are
`not sent`, with a reason that says throttling; none is `failed`.

A quota window (N requests per W seconds, spent) refuses every request whatever the rate,
often without Retry-After. It shows as `streak` throttled answers in a row, with no other
answer between them, over at least `span` seconds (under a per-second limit, successes
keep arriving between the refusals). Then every worker is held, and one request at a time
probes at growing intervals (`first_wait`, doubled up to `max_wait`: a window that
reopens is used within a second; never less than the API's Retry-After); the first
answer that is not a throttle ends the window. With `--rate auto` the rate finder paces a
spent window itself, so the dispatcher holds only a fixed rate (or none) this way; under
the finder the window is still told (`paced`), when it is met and when it ends, and as
soon as the finder has seen the API take nothing through its own cut (`spent`: it then
sends too little for the refusals to span a second).

Pure: the time (monotonic, and the wall clock for the notices) comes in as arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

THROTTLE_BUDGET = 3600.0  # seconds a run may spend held by throttling, in all


def _clock_time(wall: float) -> str:
    return datetime.fromtimestamp(wall).strftime("%H:%M:%S")


def _duration(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


@dataclass(frozen=True)
class Hold:
    """What the dispatcher does about a throttle: hold every worker for `wait` seconds and
    then send one probe ("hold"), or stop the run ("exhausted"), or only tell the window
    to the user while the rate finder paces it ("paced")."""

    kind: Literal["hold", "exhausted", "paced"]
    wait: float
    notice: str  # what the user is told: the console, the log, the run's notices


class QuotaWatch:
    """Sees every answer; says when the API is in a quota window and how long to wait."""

    paced_streak = 4  # throttles in a row that make a window under the rate finder

    def __init__(self, *, streak: int = 10, span: float = 1.0, first_wait: float = 0.5,
                 max_wait: float = 1.0, growth: float = 2.0,
                 budget: float = THROTTLE_BUDGET):
        self.streak = streak
        self.span = span
        self.first_wait = first_wait
        self.max_wait = max_wait
        self.growth = growth
        self.budget = budget
        self.holding = False  # in a quota window: every worker waits, one probe at a time
        self.windows = 0  # quota windows met
        self.held = 0.0  # seconds of the budget used
        self.reason: str | None = None  # why the run stopped, when the budget ran out
        self._consecutive = 0
        self._since: float | None = None  # the first throttle of the streak (monotonic)
        self._since_wall = 0.0
        self._wait = 0.0

    @property
    def exhausted(self) -> bool:
        return self.reason is not None

    def throttled(self, now: float, wall: float, retry_after: float | None,
                  probe: bool = False, *, paced: bool = False,
                  spent: bool = False) -> Hold | None:
        """A throttled answer, at `now` (monotonic) and `wall` (unix time). While holding,
        only the probe's answer counts (the others left before the window was seen).
        `paced`: the rate finder slows down itself; a window met is only told, once.
        `spent`: the finder has seen the API take nothing through its own cut (a quota
        spent): the refusals in a row need not span `span`, it sends too little for that."""
        if self._since is None:
            self._since, self._since_wall = now, wall
        self._consecutive += 1
        after = float(retry_after) if retry_after is not None else 0.0
        since = _clock_time(self._since_wall)
        if not self.holding:
            # The finder sends little into a spent window, so fewer refusals in a row
            # (still over `span`, with no answer between them) already say it is one.
            streak = min(self.streak, self.paced_streak) if paced else self.streak
            span = 0.0 if paced and spent else self.span
            if self._consecutive < streak or now - self._since < span:
                return None
            self.holding = True
            self.windows += 1
            if paced:
                return Hold("paced", 0.0, (
                    f"the API refuses every request since {since} ({self._consecutive} "
                    "throttled answers in a row, whatever the rate) — a quota window; "
                    "--rate auto sends little until the API takes requests again"
                    + (f" (it says in {_duration(after)})" if retry_after is not None else "")))
            wait = max(self.first_wait, after)
            told = (f"the API refuses every request since {since} ({self._consecutive} "
                    "throttled answers in a row, whatever the rate) — a quota window; "
                    f"waiting {_duration(wait)} before trying again with one request")
        elif probe:
            wait = max(min(self.max_wait, self._wait * self.growth), after)
            told = (f"the API still refuses every request (since {since}, "
                    f"{_duration(now - self._since)}); waiting {_duration(wait)} before "
                    "trying again")
        else:
            return None
        if self.held + wait > self.budget:
            self.reason = (
                f"the API refused every request for {_duration(now - self._since)} (since "
                f"{since}: throttling, a quota window), and waiting {_duration(wait)} more "
                f"would pass the run's throttle budget of {_duration(self.budget)}; "
                "nothing failed: run the same command again later to send the rest")
            return Hold("exhausted", 0.0, self.reason)
        self._wait = wait
        self.held += wait
        return Hold("hold", wait, told)

    def probe_lost(self) -> float:
        """The probe got no answer that says anything (a 5xx, a timeout): the next one
        after the same wait. The seconds to wait."""
        return self._wait

    def answered(self, now: float) -> str | None:
        """An answer that is not a throttle: the API takes requests. A notice when that
        ends a quota window."""
        since = self._since
        self._consecutive, self._since = 0, None
        if not self.holding:
            return None
        self.holding = False
        lasted = _duration(now - since) if since is not None else "a while"
        return f"the API takes requests again after {lasted} of refusals; sending resumes"

    def report(self) -> dict[str, float | int]:
        """For the summary: quota windows met, seconds held by them."""
        return {"quota_windows": self.windows, "held_seconds": round(self.held, 1)}
