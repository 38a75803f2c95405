"""One run at a time: an exclusive lock on a file, released by the OS when its holder dies.

The lock is an `fcntl.flock` on a file in the state folder, so a lock whose process
is gone (killed, crashed, rebooted) is simply free again: there is no stale lock to
clean up and no race in taking one over. The file says who holds it (pid, host,
start time) so that a refused run can name the holder.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from pathlib import Path
from types import TracebackType
from typing import IO

from bulkedit.core.errors import RunAborted, UsageError
from bulkedit.sheets.files import own_folder

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


def lock_path(state_dir: Path, name: str) -> Path:
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    return state_dir / "locks" / f"{digest}.lock"


def is_held(path: Path) -> bool:
    """Whether a live process holds the lock (a run whose process died holds nothing)."""
    if fcntl is None or not path.exists():  # pragma: no cover - Windows
        return False
    with path.open("a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        return False


class RunLock:
    def __init__(self, path: Path, what: str):
        self.path = path
        self.what = what
        self._handle: IO[str] | None = None

    def acquire(self) -> RunLock:
        own_folder(self.path.parent, "folder of locks")
        try:  # never through a symlink someone left in its place
            descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        except OSError as exc:
            raise UsageError(f"cannot take the lock {self.path}: "
                             f"{(exc.strerror or str(exc)).lower()}") from None
        handle = os.fdopen(descriptor, "a+", encoding="utf-8")
        if fcntl is not None:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _holder(handle)
                handle.close()
                raise RunAborted(f"{self.what} is already being processed by {holder}; "
                                 "wait for it to finish") from None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                 "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                                 "what": self.what}))
        handle.flush()
        self._handle = handle
        return self

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing the file releases the flock
            self._handle = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.release()


# The holder takes the lock, then writes who it is: a run refused in between reads an
# empty file. It reads again for a moment rather than say "another process".
_HOLDER_READ_FOR = 1.0


def _holder(handle: IO[str]) -> str:
    deadline = time.monotonic() + _HOLDER_READ_FOR
    while True:
        handle.seek(0)
        described = _describe(handle.read())
        if described != "another process" or time.monotonic() >= deadline:
            return described
        time.sleep(0.01)


def _describe(text: str) -> str:
    try:
        holder = json.loads(text)
        return (f"process {holder['pid']} on {holder['host']} (started "
                f"{holder['started']})")
    except (ValueError, KeyError, TypeError):
        return "another process"
