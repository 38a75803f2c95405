"""How much a run tells, beside what it does: one small frozen choice, part of a run's
options (run/options.py) and built from the flags in one place (cli/options.py).

  * quiet: only errors; the data asked for on stdout is never dropped;
  * verbose: more detail, such as each retry and each throttled answer;
  * progress: a bar or periodic progress lines (on stderr), or none.
"""

from __future__ import annotations

from dataclasses import dataclass

from bulkedit.core.errors import UsageError


@dataclass(frozen=True)
class Verbosity:
    quiet: bool = False
    verbose: bool = False
    progress: bool = True

    def __post_init__(self) -> None:
        if self.quiet and self.verbose:
            raise UsageError("--quiet and --verbose say opposite things; give one")

    @property
    def shows_progress(self) -> bool:
        """A bar or progress lines: not asked away, and never when quiet."""
        return self.progress and not self.quiet

    @property
    def tells(self) -> bool:
        """Notices and the human summary (everything but errors and the data)."""
        return not self.quiet
