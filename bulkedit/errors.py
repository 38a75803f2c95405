"""Every exception bulkedit raises on purpose descends from one root.

    BulkEditError                 anything bulkedit raises deliberately
    ├── UsageError                bad options or configuration        (exit 2)
    ├── LoadError                 a sheet that cannot be read          (exit 2)
    ├── TemplateError             a template that cannot be written    (exit 2)
    ├── RunAborted                the run stopped early                (exit 3)
    └── ApiError                  one API call failed: status, type, message, param
        ├── TransientError        worth retrying
        │   ├── RateLimited       429, or a 403 that says "rate" or "spam" (retry_after)
        │   ├── ServerError       5xx, or an answer that is not the API's JSON
        │   └── NetworkError      timeout, refused or dropped connection
        ├── PermanentError        the API refused the request (400, 403, 404…)
        └── AuthError             the token was refused (401)
            ├── TokenRejected     expired or unknown token: renew it once and retry
            └── CredentialsRejected  the token endpoint refused the key: stop the run

Retrying is an `except TransientError` clause, never a string match. No error
carries a secret: messages come from the API's error body, never from headers.

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


class RunAborted(BulkEditError):
    """The run stopped before the end: credentials refused, circuit breaker, lock held."""

    exit_code = 3


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
    def error_class(self) -> str:
        """How the results sheet names it: transient, permanent or auth."""
        return "permanent"


class TransientError(ApiError):
    @property
    def error_class(self) -> str:
        return "transient"


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
    def error_class(self) -> str:
        return "auth"


class TokenRejected(AuthError):
    pass


class CredentialsRejected(AuthError):
    pass
