"""Every exception bulkedit raises on purpose descends from one root.

    BulkEditError                 anything bulkedit raises deliberately
    ├── UsageError                bad options or configuration        (exit 2)
    ├── LoadError                 a sheet that cannot be read          (exit 2)
    └── TemplateError             a template that cannot be written    (exit 2)

Problems inside a readable sheet are not exceptions: they are `Issue` values
(see validate.py), so that every problem can be reported at once.
"""

from __future__ import annotations


class BulkEditError(Exception):
    """Root of every error bulkedit raises deliberately."""

    exit_code: int = 1


class UsageError(BulkEditError):
    """The command line or the configuration asks for something impossible."""

    exit_code = 2


class LoadError(BulkEditError):
    """A sheet file cannot be read. The message names the file and the fix."""

    exit_code = 2

    def __init__(self, source: str, problem: str, fix: str) -> None:
        self.source = source
        self.problem = problem
        self.fix = fix
        super().__init__(f"{source}: {problem}. {fix}")


class TemplateError(BulkEditError):
    """A template cannot be generated (unknown field, unwritable path)."""

    exit_code = 2
