"""One run at a time: an exclusive lock on a file, released by the OS when its holder dies.

The lock is an `fcntl.flock` on a file, so a lock whose process is gone (killed, crashed,
rebooted) is simply free again: there is no stale lock to clean up and no race in taking
one over. The file says who holds it (pid, host, start time) so that a refused run can
name the holder.

A sheet's lock lives in one folder every state folder shares (`lock_folder`), keyed by the
sheet itself: its resolved path, and its device and inode (the same file by another name),
so the same sheet never runs twice at once whichever `--state-dir` each run uses. Standard
input has no name: its sheet is locked by its content's hash. The folder is the user's own
under the system temp (`/tmp/bulkedit-UID/locks`, 0700), not `$XDG_RUNTIME_DIR`, which a
cron job or a systemd timer usually lacks while the user's shell has it: two runs must
agree on the place whatever environment they start in. `BULKEDIT_LOCK_DIR` moves it (for
every run of the user's, or for a test); a temp folder another user took first is never
used: the locks then go to `~/.cache/bulkedit/locks`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO

from bulkedit.core.errors import RunAborted, UsageError
from bulkedit.sheets.files import own_folder

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


LOCK_DIR_ENV = "BULKEDIT_LOCK_DIR"


def lock_folder(environ: Mapping[str, str] | None = None) -> Path:
    """The one folder of sheet locks, whatever the state folder: made private (0700) and
    checked (never a symbolic link, never another user's)."""
    env = os.environ if environ is None else environ
    if env.get(LOCK_DIR_ENV):
        return own_folder(Path(env[LOCK_DIR_ENV]), "folder of locks")
    temp = Path("/tmp") if Path("/tmp").is_dir() else Path(tempfile.gettempdir())
    try:
        own_folder(temp / f"bulkedit-{os.geteuid()}", "folder of locks")
        return own_folder(temp / f"bulkedit-{os.geteuid()}" / "locks", "folder of locks")
    except UsageError:  # another user's, or a link someone left there: never used
        return own_folder(Path.home() / ".cache" / "bulkedit" / "locks", "folder of locks")


def sheet_lock_path(key: str, folder: Path | None = None) -> Path:
    """The lock of the sheet the journal knows as `key` (a resolved path, or `-:SHA256`
    for a sheet read from standard input)."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    return (folder or lock_folder()) / f"sheet-{digest}.lock"


def sheet_is_held(key: str, account: str = "default") -> bool:
    """Whether a live process runs the sheet the journal knows as `key` (for `account`)."""
    return is_held(sheet_lock_path(key if account == "default"
                                   else f"{key}\0account={account}"))


def run_is_held(key: str, account: str = "default") -> bool:
    """Whether a live process runs the sheet for `account`: under the sheet's lock (a run
    of one account), or under the account's own (one account of a sheet routed to
    several, which holds only its own once its rows are read)."""
    return sheet_is_held(key) or (account != "default" and sheet_is_held(key, account))


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


class SheetLock:
    """The locks of one sheet: by its key (the resolved path, or the content hash of a
    sheet from standard input) and, for a file, by its device and inode. Both are taken or
    neither; the second run of a sheet is refused (exit 3) naming the first."""

    def __init__(self, key: str, what: str, file: Path | None = None,
                 account: str = "default"):
        """`account`: one sheet runs once at a time per account (issue 30), so two
        accounts' runs of one sheet may go side by side; the account `default` keeps the
        lock files every earlier bulkedit used, so an older process is still excluded."""
        folder = lock_folder()
        suffix = "" if account == "default" else f"-{account}"
        self.paths = [sheet_lock_path(key if account == "default"
                                      else f"{key}\0account={account}", folder)]
        if file is not None:
            with contextlib.suppress(OSError):  # gone: pin_sheet says so, in its words
                status = os.stat(file)
                self.paths.append(
                    folder / f"inode-{status.st_dev}-{status.st_ino}{suffix}.lock")
        self.what = what
        self._held: list[RunLock] = []

    def acquire(self) -> SheetLock:
        try:
            for path in self.paths:
                self._held.append(RunLock(path, self.what).acquire())
        except BaseException:
            self.release()
            raise
        return self

    def release(self) -> None:
        while self._held:
            self._held.pop().release()

    def __enter__(self) -> SheetLock:
        return self.acquire()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.release()


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
