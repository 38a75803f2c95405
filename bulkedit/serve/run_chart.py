"""The run page's picture, drawn by the server as inline SVG (no script, no style): one bar
of the rows by status, and the rows answered per interval of the run, so a slow stretch (a
throttle waited out) shows as a dip. Pure geometry: no I/O, the journal's numbers in."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

WIDTH = 600
BAR = 24  # the status bar's height
RATE = 80  # the rate chart's height
BUCKETS = 30
# A colour per status (presentation attributes, which the page's CSP allows).
COLOURS = {"updated": "#2e7d32", "sent": "#66bb6a", "noop": "#9e9e9e", "conflict": "#f9a825",
           "failed": "#c62828", "skipped": "#bdbdbd", "pending": "#e0e0e0"}
OTHER = "#5c6bc0"


@dataclass(frozen=True)
class Segment:
    status: str
    count: int
    x: float
    width: float
    colour: str


@dataclass(frozen=True)
class Column:
    x: float
    width: float
    height: float
    count: int
    slow: bool  # under half the run's median: waited (throttled, or a quota window)


@dataclass(frozen=True)
class Chart:
    segments: tuple[Segment, ...]
    columns: tuple[Column, ...]
    seconds: float  # the interval each column stands for
    peak: int


def chart(by_status: Mapping[str, int], answered_at: Iterable[float]) -> Chart:
    total = sum(by_status.values())
    segments, x = [], 0.0
    for status, count in sorted(by_status.items()):
        width = WIDTH * count / total if total else 0.0
        segments.append(Segment(status, count, round(x, 1), round(width, 1),
                                COLOURS.get(status, OTHER)))
        x += width
    times = sorted(answered_at)
    if len(times) < 2 or times[-1] <= times[0]:
        return Chart(tuple(segments), (), 0.0, 0)
    span = (times[-1] - times[0]) / BUCKETS
    counts = [0] * BUCKETS
    for moment in times:
        counts[min(int((moment - times[0]) / span), BUCKETS - 1)] += 1
    peak = max(counts)
    median = sorted(counts)[BUCKETS // 2]
    step = WIDTH / BUCKETS
    columns = tuple(Column(round(i * step, 1), round(step - 1, 1),
                           round(RATE * n / peak, 1), n, n < median / 2)
                    for i, n in enumerate(counts))
    return Chart(tuple(segments), columns, span, peak)
