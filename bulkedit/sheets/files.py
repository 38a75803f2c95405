"""Every file bulkedit writes, written so that nothing is ever half there.

* `atomic_path` / `atomic_text`: the new content goes to a temporary file in the target's
  folder, is flushed to disk, then renamed over the target. A kill, a full disk or an
  exception leaves either the previous file or the complete new one, never a truncated
  sheet that a later `validate` would take for a whole one.
* `preflight`: every output a command will write is checked before anything is sent, so
  a wrong folder is one line and exit 2, not an edit sent and its record lost.
* `keep_earlier`: an output that already exists (an earlier run's undo) is moved aside,
  named by the run that wrote it (sheets/kept_aside.py), instead of being overwritten.
* `disk_problem`: a full disk or an I/O error as one line naming the path (exit 3).
* `pin_sheet`: the sheet a run works from, read once and hashed as it is read.
* `own_folder`: a folder bulkedit writes in is never a link nor another user's.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import functools
import hashlib
import io
import os
import re
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

from bulkedit.core.errors import DiskProblem, LoadError, UsageError

# Errors of the machine rather than of the user's input or of bulkedit.
_ENVIRONMENT = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.EFBIG}


@functools.cache
def _umask_mode() -> int:
    """The mode a new file gets under the user's umask. Reading the umask means setting
    it for an instant (process-wide), so it is read once."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a folder be opened
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


# The temporaries bulkedit keeps beside an output while it writes it, named for the output
# and the process: `.NAME.PID.XXXXXXXX.part` (the new content), `.spool` (openpyxl's
# worksheet XML while an XLSX is written: the rows themselves, so never in $TMPDIR) and
# `.check` (preflight's probe). A killed process leaves them; the next bulkedit that
# writes that output, or checks it, removes those whose process is gone.
_TEMPORARY_KINDS = (".part", ".spool", ".check")
_TEMPORARY = re.compile(r"(?:(\d+)\.)?[a-z0-9_]{8}")  # "PID.random", or an older "random"
_OLDER_KEPT = 86400  # an older temporary (no PID in its name) is removed after a day


def _temporary(target: Path, suffix: str) -> tuple[int, str]:
    return tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=suffix,
                            dir=target.parent)


def _gone(pid: int) -> bool:
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # another user's process: alive
        return False
    return False


def sweep_leftovers(target: Path, *, own: bool = False) -> list[Path]:
    """Remove the temporaries of `target` that a killed bulkedit left beside it (`own`:
    this process's, once the output is written or given up). Returns what went."""
    target = Path(target)
    prefix = f".{target.name}."
    removed: list[Path] = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not name.startswith(prefix) or not name.endswith(_TEMPORARY_KINDS):
            continue
        kind = name[name.rindex("."):]
        found = _TEMPORARY.fullmatch(name[len(prefix):-len(kind)])
        try:
            status = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if found is None or not stat.S_ISREG(status.st_mode) or status.st_uid != os.geteuid():
            continue
        pid = found.group(1)
        if own:
            stale = pid is not None and int(pid) == os.getpid() and kind == ".spool"
        elif pid is not None:
            stale = _gone(int(pid))
        else:
            stale = time.time() - status.st_mtime > _OLDER_KEPT
        if stale:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


# A dry run (plan, apply --dry-run) reads its sheet from a private copy in a scratch folder
# of the system's temporary folder, `bulkedit-PID-XXXXXXXX`, removed as soon as the sheet is
# read; one a killed run left is removed by the next run that makes one.
_SCRATCH = re.compile(r"bulkedit-(\d+)-[a-z0-9_]{8}")


@contextlib.contextmanager
def scratch_folder() -> Iterator[Path]:
    """A private folder for a dry run's copy of its sheet, gone when the block ends; the
    folders killed runs left are swept first."""
    sweep_scratch()
    with tempfile.TemporaryDirectory(prefix=f"bulkedit-{os.getpid()}-") as folder:
        yield Path(folder)


def sweep_scratch(parent: Path | None = None) -> list[Path]:
    """Remove the scratch folders (this user's) whose process is gone. Returns what went."""
    parent = Path(parent or tempfile.gettempdir())
    removed: list[Path] = []
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return removed
    for entry in entries:
        found = _SCRATCH.fullmatch(entry.name)
        if found is None or not _gone(int(found.group(1))):
            continue
        try:
            status = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISDIR(status.st_mode) and status.st_uid == os.geteuid():
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
    return removed


# Where openpyxl spools a worksheet being written: beside the output (see `spooled_beside`).
_SPOOL_BESIDE: contextvars.ContextVar[Path | None] = contextvars.ContextVar(
    "bulkedit_spool_beside", default=None)


@contextlib.contextmanager
def spooled_beside(target: Path) -> Iterator[None]:
    """While an XLSX for `target` is being filled: openpyxl spools each worksheet's XML
    to a temporary file, by default in $TMPDIR (shared, and left there by a kill). Within
    this block it goes beside `target` instead, 0600 and named for the sweep."""
    _spool_in_place()
    token = _SPOOL_BESIDE.set(Path(target))
    try:
        yield
    finally:
        _SPOOL_BESIDE.reset(token)


@functools.cache
def _spool_in_place() -> None:
    from openpyxl.worksheet import _writer

    default = _writer.create_temporary_file

    def create_temporary_file(suffix: str = "") -> str:
        target = _SPOOL_BESIDE.get()
        if target is None:
            return str(default(suffix))
        try:
            handle, name = _temporary(target, ".spool")
        except OSError as exc:
            raise disk_problem(exc, target.parent / f".{target.name}.spool") or exc from None
        os.close(handle)
        _writer.ALL_TEMP_FILES.append(name)  # openpyxl removes it once saved, or at exit
        return name

    _writer.create_temporary_file = create_temporary_file


class AtomicFile:
    """A temporary file beside `target`, for the caller to write (by `path`: openpyxl
    saves to a path); `commit` replaces `target` with it in one rename, `discard` removes
    it and leaves `target` as it was. `mode`: the user's umask unless given (0o600 for
    files that hold private values). What a killed run left beside `target` goes first."""

    def __init__(self, target: Path, mode: int | None = None):
        self.target = Path(target)
        self.mode = mode
        sweep_leftovers(self.target)
        try:
            handle, name = _temporary(self.target, ".part")
        except OSError as exc:
            raise disk_problem(exc, self.target) or exc from None
        os.close(handle)
        self.path = Path(name)

    def commit(self) -> None:
        try:
            os.chmod(self.path, _umask_mode() if self.mode is None else self.mode)
            with open(self.path, "rb+") as written:
                os.fsync(written.fileno())
            os.replace(self.path, self.target)
        except OSError as exc:
            self.discard()
            raise disk_problem(exc, self.target) or exc from None
        sweep_leftovers(self.target, own=True)
        _fsync_folder(self.target.parent)

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)
        sweep_leftovers(self.target, own=True)


@contextlib.contextmanager
def atomic_path(target: Path, mode: int | None = None) -> Iterator[Path]:
    """An `AtomicFile`'s path to write; committed on a clean exit, discarded otherwise.
    An XLSX written there spools beside `target` (`spooled_beside`)."""
    atomic = AtomicFile(target, mode)
    try:
        with spooled_beside(target) if Path(target).suffix.lower() in (".xlsx", ".xlsm") \
                else contextlib.nullcontext():
            yield atomic.path
    except OSError as exc:
        atomic.discard()
        raise disk_problem(exc, target) or exc from None
    except BaseException:
        atomic.discard()
        raise
    atomic.commit()


@contextlib.contextmanager
def atomic_text(target: Path, *, encoding: str = "utf-8", newline: str | None = None,
                mode: int | None = None) -> Iterator[TextIO]:
    """`atomic_path` as an open text file."""
    with atomic_path(target, mode) as temporary, temporary.open(
            "w", encoding=encoding, newline=newline) as handle:
        yield handle


def write_text(target: Path, text: str, *, mode: int | None = None) -> None:
    with atomic_text(target, mode=mode) as handle:
        handle.write(text)


def disk_problem(exc: OSError, path: Path, needed: int | None = None) -> DiskProblem | None:
    """A full disk, a quota, a read-only or failing disk: one line naming the path, the
    free space and what to do; None for other errors (a bug, or the user's to fix)."""
    if exc.errno not in _ENVIRONMENT:
        return None
    # The file that hit the disk's limit, when the error names it: it may be on another
    # disk than `path` (a temporary elsewhere), and that disk's free space is what counts.
    full = Path(os.fsdecode(exc.filename)) if exc.filename else Path(path)
    folder = next((p for p in (full, *full.parents) if p.exists() and p.is_dir()),
                  Path("."))
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        free = None
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        want = f"; it needs at least {_size(needed)} more" if needed else ""
        have = f" ({_size(free)} free)" if free is not None else ""
        where = "" if Path(path).parent == folder or Path(path) == folder else \
            f" in {folder}"
        return DiskProblem(f"cannot write {path}: the disk is full{where}{have}{want}. Free "
                           "some space and run the same command again (an apply continues "
                           "where it stopped)")
    return DiskProblem(f"cannot write {path}: {os.strerror(exc.errno or 0).lower()}. Check "
                       "the disk, then run the same command again (an apply continues "
                       "where it stopped)")


def _size(count: int | None) -> str:
    value = float(count or 0)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"  # pragma: no cover - the loop always returns


# What bulkedit may add to an output's name: a temporary ".NAME.XXXXXXXX.part" while it is
# written, or ".2026-11-29T203512Z-99" when an earlier one is kept beside.
_NAME_GROWTH = 24


def preflight(outputs: Iterable[tuple[str, Path | None]],
              inputs: Iterable[Path | str | None] = ()) -> None:
    """Check that every named output can be written, before anything is sent: its folder
    exists and takes a new file, the path is not a folder, its name leaves room for the
    temporary and kept-aside names, and no two outputs, or an output and an input sheet,
    are the same file. One line per command."""
    named = [(what, Path(path)) for what, path in outputs if path is not None]
    seen: dict[str, str] = {}
    for what, path in named:
        here = os.path.realpath(path)
        if here in seen:
            raise UsageError(f"the {seen[here]} and the {what} are the same file ({path}); "
                             "give each its own name")
        seen[here] = what
    for source in inputs:
        if source is None or str(source) == "-":
            continue
        for what, path in named:
            if os.path.realpath(path) == os.path.realpath(source) or _same_file(path, source):
                raise UsageError(f"the {what} {path} would overwrite the sheet itself; give "
                                 "it another name")
    for what, path in named:
        if path.is_dir():
            raise UsageError(f"{what} {path} is a folder; give a file name")
        try:
            limit = os.pathconf(path.parent if path.parent.is_dir() else ".", "PC_NAME_MAX")
        except (OSError, ValueError):
            limit = 255
        if len(path.name.encode()) + _NAME_GROWTH > limit:
            raise UsageError(f"the {what} name {path.name[:40]}… is too long: keep it under "
                             f"{limit - _NAME_GROWTH} bytes")
        folder = path.parent
        if not folder.is_dir():
            hint = "is a file" if folder.exists() else "does not exist"
            raise UsageError(f"cannot write the {what} {path}: the folder {folder} {hint}; "
                             "create it or choose another path")
        sweep_leftovers(path)  # what a killed run left while writing it
        try:
            handle, name = _temporary(path, ".check")
        except OSError as exc:
            reason = (exc.strerror or str(exc)).lower()
            raise UsageError(f"cannot write the {what} {path}: {reason} in {folder}; choose "
                             "a folder you can write to") from None
        os.close(handle)
        os.unlink(name)


def _same_file(one: Path | str, other: Path | str) -> bool:
    try:
        return os.path.samefile(one, other)
    except OSError:
        return False


def keep_earlier(target: Path, tag: str | None = None, *, rollback: bool = False
                 ) -> Path | None:
    """Move an existing `target` aside, never overwriting anything: named by `tag` (the
    run that wrote it) put before its kind (`undo.rollback.csv` ->
    `undo.RUN.rollback.csv`), or by the time it was last written when no run is known;
    a `rollback` kept first beside its sheet as `undo.first.rollback.csv`
    (sheets/kept_aside.py). Returns where it went."""
    from bulkedit.sheets import kept_aside

    target = Path(target)
    try:
        written = target.stat().st_mtime
    except FileNotFoundError:
        return None
    if rollback and not kept_aside.kept_before(target):
        tag = kept_aside.FIRST
    for aside in kept_aside.candidates(target, tag or kept_aside.time_tag(written)):
        try:
            os.link(target, aside)  # never replaces an existing file, unlike a rename
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno in (errno.EPERM, errno.ENOTSUP, errno.EXDEV) and not aside.exists():
                os.rename(target, aside)  # a file system without hard links
                return aside
            raise disk_problem(exc, aside) or UsageError(
                f"cannot keep the earlier {target} as {aside.name} "
                f"({(exc.strerror or str(exc)).lower()})") from None
        target.unlink()
        return aside
    raise UsageError(f"too many earlier copies of {target}; move some away")


def own_folder(folder: Path, what: str, *, private: bool = True) -> Path:
    """A folder bulkedit writes in, made if need be and checked: never a symbolic link or
    another user's (a shared inbox could hold either, to read or swap what is written
    there). A `private` one (state, work, pinned sheets) is set to 0700; any other must at
    least not be writable by every user."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        status = os.lstat(folder)
    except OSError as exc:
        hint = "is a file" if folder.is_file() else (exc.strerror or str(exc)).lower()
        raise UsageError(f"cannot use {folder} as the {what}: {hint}; give a folder you "
                         "can write to") from None
    if stat.S_ISLNK(status.st_mode):
        raise UsageError(f"the {what} {folder} is a symbolic link; bulkedit writes only in "
                         "folders of its own: remove the link, or give the real folder")
    if not stat.S_ISDIR(status.st_mode):
        raise UsageError(f"cannot use {folder} as the {what}: it is a file")
    if status.st_uid != os.geteuid():
        raise UsageError(f"the {what} {folder} belongs to another user (uid {status.st_uid}),"
                         " who could read or replace what bulkedit writes there; use a "
                         "folder of your own")
    if private and stat.S_IMODE(status.st_mode) & 0o077:
        folder.chmod(0o700)  # it keeps values from before each run, private ones too
    elif not private and status.st_mode & 0o002 and not status.st_mode & stat.S_ISVTX:
        raise UsageError(f"the {what} {folder} may be written by every user, who could "
                         "replace what bulkedit files there; chmod o-w it")
    return folder


@dataclass(frozen=True)
class PinnedSheet:
    """The exact bytes a run works from: read once, hashed as they were read, kept in a
    copy that nothing else writes, so a sheet saved again mid-run cannot reach the run."""

    label: str  # how messages name the sheet: the path the user gave, or "stdin"
    key: str  # what the journal knows the sheet by: its absolute path, or "-"
    path: Path  # the copy the run reads
    digest: str  # SHA-256 of exactly those bytes


# The refusals --trust-inbox never lifts (their text starts so): a link or a special file
# is not the sheet a user put there, whoever owns it.
NEVER_TRUSTED = ("a symbolic", "a hard link", "not a")


def foreign_file(status: os.stat_result) -> str | None:
    """Why a file in a shared folder must not be applied, or None: not a regular file, a
    symbolic link, another user's, or writable by others (who could change it first)."""
    if stat.S_ISLNK(status.st_mode):
        return "a symbolic link, which bulkedit never follows in an inbox"
    if not stat.S_ISREG(status.st_mode):
        return "not a regular file (a pipe, a device or a socket)"
    if status.st_nlink > 1:
        return ("a hard link (the file has other names, perhaps another user's), which "
                "bulkedit never applies from an inbox")
    if status.st_uid != os.geteuid():
        return f"owned by another user (uid {status.st_uid})"
    if status.st_mode & 0o022:
        return "writable by other users, who could change it before it is applied"
    return None


def foreign_folder(status: os.stat_result) -> str | None:
    """Why a folder in a shared inbox must not be read, or None: a symbolic link, not a
    folder, another user's, or writable by others (who could put a sheet in it)."""
    if stat.S_ISLNK(status.st_mode):
        return "a symbolic link, which bulkedit never follows in an inbox"
    if not stat.S_ISDIR(status.st_mode):
        return "not a folder"
    if status.st_uid != os.geteuid():
        return f"owned by another user (uid {status.st_uid})"
    if status.st_mode & 0o022:
        return "writable by other users, who could put a sheet in it"
    return None


def _identity(reader: BinaryIO) -> tuple[int, int] | None:
    """Size and modification time of a regular file (None for a pipe): a writer still at
    work on the file changes them while it is read."""
    try:
        status = os.fstat(reader.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        return None
    return (status.st_size, status.st_mtime_ns) if stat.S_ISREG(status.st_mode) else None


# Called with an inbox sheet's path just before it is opened: the moment another user
# would swap it for a link or a pipe. Tests swap it there (tests/test_inbox_swaps.py).
BEFORE_INBOX_OPEN: list[Callable[[str], None]] = []


def world_writable(folder: Path) -> str | None:
    """A warning for a folder every user may write that lacks the sticky bit (any of them
    may then rename or delete what others put there), else None."""
    try:
        mode = os.stat(folder).st_mode
    except OSError:
        return None
    if mode & stat.S_IWOTH and not mode & stat.S_ISVTX:
        return (f"the inbox {folder} may be written by every user and has no sticky bit: "
                "anyone may rename, replace or remove the sheets in it; chmod o-w it (or "
                "+t, so that only a file's owner may move it)")
    return None


def pin_sheet(source: str | os.PathLike[str], folder: Path, *, from_inbox: bool = False,
               trust: bool = False) -> PinnedSheet:
    """Copy the sheet (a path, "-" for standard input, a pipe) into `folder` as
    `<sha256><suffix>`, hashing it on the way: one read of the source, whatever it is.
    `from_inbox` (shared ground): never through a symlink, never a pipe or a device, and
    (unless `trust`) only a file of the user's that no one else may write; checked on the
    open file, so nothing can be swapped in between the check and the read."""
    name = os.fspath(source)
    label, key = ("stdin", "-") if name == "-" else (name, str(Path(name).resolve()))
    own_folder(folder, "folder of pinned sheets")
    digest = hashlib.sha256()
    copy = AtomicFile(folder / "sheet", mode=0o600)
    try:
        with contextlib.ExitStack() as stack:
            if name == "-":
                reader: BinaryIO = sys.stdin.buffer
            else:
                try:
                    if from_inbox:
                        for hook in BEFORE_INBOX_OPEN:
                            hook(name)
                    flags = os.O_RDONLY | (os.O_NOFOLLOW | os.O_NONBLOCK if from_inbox else 0)
                    reader = stack.enter_context(os.fdopen(os.open(name, flags), "rb"))
                    if from_inbox:
                        refused = foreign_file(os.fstat(reader.fileno()))
                        if refused and (not trust or not refused.startswith(("owned",
                                                                            "writable"))):
                            raise LoadError(label, refused, "Copy the sheet itself in, as "
                                            "the user bulkedit runs as, or pass "
                                            "--trust-inbox")
                except FileNotFoundError:
                    raise LoadError(label, "no such file",
                                    "Check the path and the file name") from None
                except IsADirectoryError:
                    raise LoadError(label, "this is a folder, not a file",
                                    "Give the path of a .xlsx or .csv file") from None
                except OSError as exc:
                    if exc.errno == errno.ELOOP:
                        raise LoadError(label, "a symbolic link, which bulkedit never "
                                        "follows in an inbox", "Copy the sheet itself "
                                        "in") from None
                    raise LoadError(label, f"cannot be read ({exc.strerror})", "Check that "
                                    "the file exists and that you may read it") from None
            before = _identity(reader)
            writer = stack.enter_context(open(copy.path, "wb"))
            for block in iter(lambda: reader.read(1 << 20), b""):
                digest.update(block)
                writer.write(block)
            if before is not None and _identity(reader) != before:
                raise LoadError(label, "the file changed while it was being read (still "
                                "being saved or copied?)", "Wait until it is complete, then "
                                "run again")
    except OSError as exc:
        copy.discard()
        raise disk_problem(exc, copy.target) or LoadError(
            label, f"cannot be read ({(exc.strerror or str(exc)).lower()})",
            "Check that the file exists and that you may read it") from None
    except BaseException:
        copy.discard()
        raise
    suffix = Path(name).suffix.lower() if name != "-" else ""
    copy.target = folder / f"{digest.hexdigest()}{suffix if len(suffix) <= 6 else ''}"
    copy.commit()
    if name == "-":  # standard input has no name: each content is a sheet of its own
        key = f"-:{digest.hexdigest()}"
    return PinnedSheet(label, key, copy.target, digest.hexdigest())
