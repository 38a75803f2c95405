"""bulkedit: change the metadata of thousands of Dailymotion videos from one spreadsheet.

The Python front door (see bulkedit/api.py): `validate`, `plan`, `apply`, `read` and
`local_sandbox`, their results (`Validation`, `Plan`, `Applied`), `ApiLimits` and the errors.
They are loaded on first use, so `import bulkedit` (and the command line) stays light.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_API = ("validate", "plan", "apply", "read", "local_sandbox", "Validation", "Plan", "Applied")
_ERRORS = ("BulkEditError", "UsageError", "LoadError", "RunAborted", "ApiError", "ExitCode")
__all__ = ["ApiLimits", "__version__", *_API, *_ERRORS]


def __dir__() -> list[str]:
    """The public names, for completion in a notebook or a REPL (they are not loaded yet,
    so the module's own namespace does not hold them)."""
    return sorted(__all__)


def __getattr__(name: str) -> Any:
    if name in _API:
        from bulkedit import api

        return getattr(api, name)
    if name in _ERRORS:
        from bulkedit.core import errors

        return getattr(errors, name)
    if name == "ApiLimits":
        from bulkedit.core.policy import ApiLimits

        return ApiLimits
    raise AttributeError(f"module 'bulkedit' has no attribute {name!r}")
