"""The progress lines of a run whose output is not a terminal (a nightly job's log): one
line per phase every few seconds and one at its end, never the same end twice."""

from __future__ import annotations

import io

from bulkedit.cli.console import LOG_EVERY_SECONDS, ProgressReporter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _reporter() -> tuple[ProgressReporter, io.StringIO, Clock]:
    stream, clock = io.StringIO(), Clock()
    return ProgressReporter(stream, interactive=False, clock=clock), stream, clock


def test_a_phase_told_its_end_twice_writes_its_last_line_once():
    progress, stream, clock = _reporter()
    progress("read back", 0, 60, 0)
    clock.now += 2
    progress("read back", 60, 60, 0)
    progress("read back", 60, 60, 0)  # the run's own final count, after the callback's
    assert stream.getvalue().splitlines() == [
        "read back: 0/60 (0%), 0 failed",
        "read back: 60/60 (100%), 0 failed, 30.0/s, ETA 0 s"]


def test_lines_come_every_few_seconds_and_at_the_end_of_each_phase():
    progress, stream, clock = _reporter()
    progress("write", 0, 100, 0)
    clock.now += 1
    progress("write", 10, 100, 0)  # too soon after the first line
    clock.now += LOG_EVERY_SECONDS
    progress("write", 50, 100, 1)
    progress("write", 100, 100, 1)
    progress("read back", 100, 100, 0)  # a new phase ends at once: its line too
    lines = stream.getvalue().splitlines()
    assert [line.split(",")[0] for line in lines] == [
        "write: 0/100 (0%)", "write: 50/100 (50%)", "write: 100/100 (100%)",
        "read back: 100/100 (100%)"]


def test_an_end_told_again_with_other_failures_is_written():
    progress, stream, _ = _reporter()
    progress("read back", 60, 60, 0)
    progress("read back", 60, 60, 2)  # two rows found unread when the phase was summed up
    assert [line.split(",")[1] for line in stream.getvalue().splitlines()] == [
        " 0 failed", " 2 failed"]
