"""Whether a sheet in the inbox has stopped changing: the nightly job takes only those.

A sheet copied in by cp, scp or an SMB client arrives in pieces: a first block is flushed,
the writer pauses, more follows into the same file. A sheet is taken only when

* its size, modification and change times have not moved for the settle interval (the
  change time is the kernel's: no writer can set it back, so a file untouched for longer
  than the interval is taken at once; a younger one is looked at again after it), and
* no process holds it open for writing, where the system can tell (Linux: every
  `/proc/PID/fd` the user may read; best effort, other users' processes are not seen).

Pure decisions (`unsettled`) over observations (`observe`, `writers`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class Seen:
    """A file as it was when looked at."""

    device: int
    inode: int
    size: int
    mtime_ns: int
    ctime_ns: int

    @property
    def last_change(self) -> float:
        """When it last changed, in seconds since the epoch (data or metadata)."""
        return max(self.mtime_ns, self.ctime_ns) / 1e9


def observe(path: Path) -> Seen | None:
    """The file as it is now (never through a link), or None when it is gone."""
    try:
        status = os.lstat(path)
    except OSError:
        return None
    return Seen(status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns,
                status.st_ctime_ns)


def writers(files: Iterable[Seen], proc: Path = PROC) -> dict[tuple[int, int], list[int]]:
    """For each (device, inode) among `files`, the pids holding it open for writing that
    this process may see (an empty answer where there is no /proc)."""
    wanted = {(seen.device, seen.inode) for seen in files}
    found: dict[tuple[int, int], list[int]] = {}
    if not wanted:
        return found
    try:
        pids = [entry.name for entry in os.scandir(proc) if entry.name.isdigit()]
    except OSError:
        return found
    for pid in pids:
        try:
            descriptors = os.listdir(proc / pid / "fd")
        except OSError:  # gone, or another user's
            continue
        for fd in descriptors:
            try:
                status = os.stat(proc / pid / "fd" / fd)
            except OSError:
                continue
            identity = (status.st_dev, status.st_ino)
            if identity in wanted and _open_for_writing(proc / pid / "fdinfo" / fd):
                found.setdefault(identity, []).append(int(pid))
    return found


def _open_for_writing(fdinfo: Path) -> bool:
    try:
        text = fdinfo.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return True  # it has the file open and says no more: better taken later
    for line in text.splitlines():
        if line.startswith("flags:"):
            return (int(line.split()[1], 8) & os.O_ACCMODE) in (os.O_WRONLY, os.O_RDWR)
    return True


def unsettled(earlier: Seen | None, now_seen: Seen | None, holders: list[int], now: float,
              interval: float) -> str | None:
    """Why a sheet must be left for later, or None when it may be taken. `earlier`: how it
    was at the previous look, at least `interval` seconds ago (None: this is the first
    look, and only a file that has not changed for `interval` seconds may be taken)."""
    if now_seen is None:
        return "it is gone"
    if holders:
        return f"process {', '.join(map(str, holders))} still has it open for writing"
    if earlier is not None and earlier != now_seen:
        return "it is still being written (its size or time changed)"
    if earlier is None and now - now_seen.last_change < interval:
        return "it changed a moment ago"
    return None
