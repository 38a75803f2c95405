"""What a person sees in a terminal: tables, progress, the confirmation prompt.

A progress bar (tqdm) when the output is a terminal; plain periodic log lines
otherwise, so that a nightly job's log stays readable.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from bulkedit.core.charclasses import UNSAFE, UNSAFE_BUT_CR, escape_match, visible
from bulkedit.core.types import Issue
from bulkedit.core.verbosity import Verbosity

LOG_EVERY_SECONDS = 5.0


class TerminalSafe:
    """A text stream that shows unsafe characters escaped (see `visible`), whatever writes
    to it. `progress=True` lets carriage returns through, for a progress bar."""

    def __init__(self, stream: TextIO, progress: bool = False):
        self._stream = stream
        self._unsafe = UNSAFE_BUT_CR if progress else UNSAFE
        # Why the stream stopped taking text (a closed pipe, a full disk), if it did: the
        # command goes on (a plan is still saved, a run still ends) and keeps its exit code.
        self.lost: OSError | None = None

    def write(self, text: str) -> int:
        if self.lost is None:
            try:
                self._stream.write(self._unsafe.sub(escape_match, text))
            except OSError as exc:  # BrokenPipeError, ENOSPC on /dev/full…
                self._lose(exc)
        return len(text)

    def flush(self) -> None:
        if self.lost is None:
            try:
                self._stream.flush()
            except OSError as exc:
                self._lose(exc)

    def write_bytes(self, data: bytes) -> None:
        """Data as it is (a CSV, a workbook), past the escaping: for a pipe or a file,
        never a terminal (cli/stdout.py sees to that). A stream without bytes (a test's
        StringIO) takes the text."""
        if self.lost is not None:
            return
        try:
            self._stream.flush()
            buffer = getattr(self._stream, "buffer", None)
            if buffer is None:
                self._stream.write(data.decode("utf-8"))
            else:
                buffer.write(data)
                buffer.flush()
        except OSError as exc:
            self._lose(exc)

    def takes_bytes(self) -> bool:
        return getattr(self._stream, "buffer", None) is not None

    def _lose(self, exc: OSError) -> None:
        self.lost = exc
        # What is still buffered goes nowhere, instead of failing again at exit.
        with contextlib.suppress(OSError, AttributeError, ValueError, io.UnsupportedOperation):
            target = self._stream.fileno()
            nowhere = os.open(os.devnull, os.O_WRONLY)
            os.dup2(nowhere, target)
            os.close(nowhere)

    def __getattr__(self, name: str) -> Any:  # flush, isatty, fileno, encoding…
        return getattr(self._stream, name)


def clip(text: str, width: int) -> str:
    text = visible(text.replace("\n", " "))
    return text if len(text) <= width else text[: width - 1] + "…"


def print_table(out: TextIO, headers: Sequence[str], rows: Sequence[Sequence[str]],
                widths: dict[str, int] | None = None) -> None:
    widths = widths or {}
    limit = [widths.get(h, 40) for h in headers]
    cells = [[clip(str(c), w) for c, w in zip(row, limit, strict=True)] for row in rows]
    size = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(size[i]) for i, h in enumerate(headers)).rstrip()
    out.write(line + "\n" + "  ".join("-" * s for s in size) + "\n")
    for row in cells:
        out.write("  ".join(c.ljust(size[i]) for i, c in enumerate(row)).rstrip() + "\n")


def print_issues(out: TextIO, issues: Sequence[Issue], max_shown: int,
                 report_hint: bool = True) -> None:
    shown = issues[:max_shown]
    if shown:
        out.write("\n")
        print_table(out, ["row", "column", "value", "problem"],
                    [[str(i.row), i.column, i.value,
                      ("warning: " if not i.is_error else "") + i.message] for i in shown],
                    widths={"column": 24, "value": 30, "problem": 200})
    if len(issues) > len(shown):
        hint = " (write them all with --report problems.xlsx)" if report_hint else ""
        out.write(f"… and {len(issues) - len(shown)} more problems{hint}\n")


class Silent:
    """A stream that takes text and shows none of it: the human summary under --quiet."""

    lost: OSError | None = None

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


class Console:
    """Where a command's words go (docs: "Pipes and verbosity").

    stdout carries either the data asked for (--json, a `-` for an output file) or the
    human summary; when it carries data the summary goes to stderr, so a pipe stays
    clean. Progress, notices and the --verbose detail are on stderr only; --quiet keeps
    errors, the data and the exit code, and drops the rest."""

    def __init__(self, out: TextIO, err: TextIO, verbosity: Verbosity, data: bool):
        self.out = out  # the data, when there is data
        self.err = err
        self.verbosity = verbosity
        self.data = data
        self.human: TextIO = (Silent() if verbosity.quiet  # type: ignore[assignment]
                              else err if data else out)

    @classmethod
    def of(cls, args: Any, out: TextIO, err: TextIO) -> Console:
        from bulkedit.cli.options import data_on_stdout, verbosity_of

        return cls(out, err, verbosity_of(args), data_on_stdout(args))

    @property
    def notices(self) -> TextIO:
        """Where notices go: stderr, unless --quiet."""
        return self.err if self.verbosity.tells else Silent()  # type: ignore[return-value]

    @property
    def problems(self) -> TextIO:
        """Where what went wrong is told (invalid or failed rows, a stop): with the human
        summary, or on stderr alone under --quiet."""
        return self.err if self.verbosity.quiet else self.human

    def notice(self, text: str) -> None:
        self.notices.write(text + "\n")

    def detail(self, text: str) -> None:
        """What only --verbose says (a retry, a throttled answer), as it happens."""
        if self.verbosity.verbose:
            self.err.write(f"bulkedit: {text}\n")
            self.err.flush()

    def progress(self) -> ProgressReporter:
        return ProgressReporter(self.err, shown=self.verbosity.shows_progress)


class ProgressReporter:
    """Receives (phase, done, total, failures) from a run and shows it (on stderr), unless
    `shown` is False (--no-progress, --quiet)."""

    def __init__(self, stream: TextIO | None = None, interactive: bool | None = None,
                 clock: Callable[[], float] = time.monotonic, shown: bool = True):
        self.shown = shown
        self.stream = stream or sys.stderr
        self.interactive = (self.stream.isatty() if interactive is None else interactive)
        self.clock = clock
        self._bar: Any = None
        self._phase = ""
        self._started = 0.0
        self._last_log = 0.0
        # The phase's last line (done == total), by its failures: an end told again with
        # the same figures is not written twice; with other failures it is.
        self._finished: int | None = None
        # With --rate auto: the rate requests go out at now, shown while sending.
        self.rate: Callable[[], float | None] | None = None

    def _current_rate(self) -> float | None:
        return self.rate() if self.rate is not None else None

    def __call__(self, phase: str, done: int, total: int, failures: int) -> None:
        if not self.shown:
            return
        if phase != self._phase:
            self.close()
            self._phase, self._started, self._last_log = phase, self.clock(), 0.0
            self._finished = None
            if self.interactive:
                from tqdm import tqdm

                label = {"read": "reading", "write": "sending", "verify": "verifying",
                         "export": "exporting"}.get(phase, phase)
                self._bar = tqdm(total=total or None, desc=label, unit="video",
                                 file=self.stream, dynamic_ncols=True, leave=True)
        rate = self._current_rate() if phase == "write" else None
        if self._bar is not None:
            self._bar.n = done
            if rate is not None:
                self._bar.set_postfix(failed=failures, rate=f"{rate:.1f}/s auto",
                                      refresh=False)
            else:
                self._bar.set_postfix(failed=failures, refresh=False)
            self._bar.refresh()
            return
        now = self.clock()
        if not total:  # an open-ended count (export): no percentage, no ETA
            if now - self._last_log >= LOG_EVERY_SECONDS:
                self._last_log = now
                self.stream.write(f"{phase}: {done} videos\n")
                self.stream.flush()
            return
        if done == total and self._finished == failures:
            return  # told again at the end of the phase: the line is already written
        if done == total or now - self._last_log >= LOG_EVERY_SECONDS:
            self._last_log = now
            self._finished = failures if done == total else None
            elapsed = now - self._started
            speed = ""
            if elapsed >= 1 and done:  # a rate over less than a second means nothing
                speed = f", {done / elapsed:.1f}/s, ETA {(total - done) * elapsed / done:.0f} s"
            if rate is not None:
                speed += f", sending at {rate:.1f}/s (--rate auto)"
            self.stream.write(f"{phase}: {done}/{total} ({done * 100 // max(total, 1)}%), "
                              f"{failures} failed{speed}\n")
            self.stream.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def change_summary(plans: Sequence[Any]) -> str:
    from bulkedit.core.planning import not_restorable

    fields: Counter[str] = Counter()
    for plan in plans:
        fields.update(plan.changed_fields)
    detail = ", ".join(f"{name} {count}" for name, count in fields.most_common())
    text = f"{len(plans)} videos will change ({detail})"
    lost = not_restorable(list(plans))
    if lost:
        names = ", ".join(sorted({name for _, name in lost}))
        text += (f". {len(lost)} of these changes cannot be undone by the rollback sheet "
                 f"({names})")
    return text


def ask_to_confirm(plans: Sequence[Any], stdin: TextIO, stdout: TextIO) -> bool:
    stdout.write(change_summary(plans) + ". Send these changes? [y/N] ")
    stdout.flush()
    answer = stdin.readline().strip().lower()
    return answer in ("y", "yes")
