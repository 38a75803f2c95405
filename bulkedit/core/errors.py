"""Every exception bulkedit raises on purpose descends from one root.

    BulkEditError                 anything bulkedit raises deliberately
    ├── UsageError                bad options or configuration        (exit 2)
    ├── LoadError                 a sheet that cannot be read          (exit 2)
    ├── InvalidSheet              (run/runner.py) a sheet with problems: nothing sent (exit 2)
    ├── TemplateError             a template that cannot be written    (exit 2)
    ├── RunAborted                the run stopped early                (exit 3)
    ├── DiskProblem               a full, read-only or failing disk    (exit 3)
    └── ApiError                  one API call failed: status, type, message, param
        ├── TransientError        worth retrying
        │   ├── RateLimited       429, or a 403 that says "rate" or "spam" (retry_after)
        │   ├── ServerError       5xx, or an answer that is not the API's JSON
        │   └── NetworkError      timeout, refused or dropped connection
        ├── PermanentError        the API refused the request (400, 403, 404…)
        └── AuthError             the token was refused (401)
            ├── TokenRejected     expired or unknown token: renew it once and retry
            ├── CredentialsRejected  the token endpoint refused the key: stop the run
            └── CertificateRefused   the server's TLS certificate failed verification:
                                     never retried, stop the run

Retrying is an `except TransientError` clause, never a string match. No error
carries a secret: messages come from the API's error body, never from headers.

Problems inside a readable sheet are not exceptions: they are `Issue` values
(see validation.py), so that every problem can be reported at once.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class ExitCode(IntEnum):
    """What a command's exit status says (README "Exit codes")."""

    OK = 0  # every row done
    PROBLEMS = 1  # finished, with failed, invalid or conflicting rows
    BAD_INPUT = 2  # bad sheet, options or configuration: nothing sent
    ABORTED = 3  # the run stopped early: credentials, circuit breaker, lock held, disk
    INTERNAL = 70  # EX_SOFTWARE: a bug in bulkedit, not in the user's input
    INTERRUPTED = 130  # Ctrl-C or SIGTERM: resumable


class ErrorClass(StrEnum):
    """How the results sheet's #error_class names why a row did not go through."""

    NONE = ""
    VALIDATION = "validation"  # the sheet's cell, or the change against the live value
    PERMANENT = "permanent"  # the API refused it
    TRANSIENT = "transient"  # retried until the attempts ran out
    AUTH = "auth"  # the credentials were refused
    DRIFT = "drift"  # the video changed since the plan was reviewed
    IGNORED = "ignored"  # accepted by the API, but not applied (read back)
    UNREADABLE = "unreadable"  # sent, and a field cannot be read back (status sent)


class BulkEditError(Exception):
    """Root of every error bulkedit raises deliberately."""

    exit_code: ExitCode = ExitCode.PROBLEMS


class UsageError(BulkEditError):
    """The command line or the configuration asks for something impossible."""

    exit_code = ExitCode.BAD_INPUT


class WrongApiBase(UsageError):
    """The API base answers like something else than the Dailymotion API: no sheet can be
    sent there, and none is at fault (the nightly job stops at the first, files none)."""


class AccountKeyMissing(UsageError):
    """A configured account's key is not where bulkedit.toml says (a variable not set):
    the configuration's fault, not the sheet's (the nightly job leaves the sheet in the
    inbox instead of filing it in failed/)."""


class LoadError(BulkEditError):
    """A sheet file cannot be read. The message names the file and the fix."""

    exit_code = ExitCode.BAD_INPUT

    def __init__(self, source: str, problem: str, fix: str) -> None:
        self.source = source
        self.problem = problem
        self.fix = fix
        super().__init__(f"{source}: {problem}. {fix}")


class TemplateError(BulkEditError):
    """A template cannot be generated (unknown field, unwritable path)."""

    exit_code = ExitCode.BAD_INPUT


class RunAborted(BulkEditError):
    """The run stopped before the end: credentials refused, circuit breaker, lock held."""

    exit_code = ExitCode.ABORTED


class DiskProblem(BulkEditError):
    """The machine, not the input: a full disk, a quota, a read-only or failing disk. The
    message names the path; what was done is journaled, so the same command continues."""

    exit_code = ExitCode.ABORTED


class ApiError(BulkEditError):
    """One API call failed."""

    def __init__(self, message: str, *, status: int | None = None, type: str = "",
                 param: str | None = None) -> None:
        self.status = status
        self.type = type
        self.param = param
        self.message = message
        super().__init__(message)

    @property
    def error_class(self) -> ErrorClass:
        """How the results sheet names it: transient, permanent or auth."""
        return ErrorClass.PERMANENT


class TransientError(ApiError):
    @property
    def error_class(self) -> ErrorClass:
        return ErrorClass.TRANSIENT


class RateLimited(TransientError):
    def __init__(self, message: str, *, retry_after: float | None, status: int = 429,
                 type: str = "rate_limit_exceeded") -> None:
        super().__init__(message, status=status, type=type)
        self.retry_after = retry_after


class ServerError(TransientError):
    pass


class NetworkError(TransientError):
    pass


class PermanentError(ApiError):
    pass


class AuthError(ApiError):
    @property
    def error_class(self) -> ErrorClass:
        return ErrorClass.AUTH


class TokenRejected(AuthError):
    pass


class CredentialsRejected(AuthError):
    pass


class CertificateRefused(AuthError):
    """The server's TLS certificate was refused (no authority this machine trusts signed
    it, or it is for another host): the server is not who it says it is. Nothing was sent
    to it; retrying cannot help, so the run stops."""

    @property
    def error_class(self) -> ErrorClass:
        return ErrorClass.PERMANENT
