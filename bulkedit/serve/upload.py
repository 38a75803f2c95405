"""An uploaded sheet, streamed to the state folder under a byte cap.

The bytes are counted as they arrive, whatever Content-Length says (a chunked body has
none, and a declared one is only a claim); past the cap the partial file is removed and
the answer is 413. The file is named by the SHA-256 of its bytes, never by the name the
browser sent, which is kept only as a label to show (escaped).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bulkedit.core.charclasses import visible
from bulkedit.core.display import clipped

CHUNK = 64 * 1024


class TooLarge(Exception):
    """The upload went past the cap; nothing of it is kept."""


class Chunks(Protocol):
    async def read_chunk(self, size: int = ...) -> bytes: ...


@dataclass(frozen=True)
class Received:
    digest: str
    size: int
    path: Path


async def receive(part: Chunks, folder: Path, cap: int) -> Received:
    """Stream `part` into `folder` (private, bulkedit's own) as `<sha256>`; TooLarge past
    `cap` bytes."""
    temporary = folder / f".upload.{os.getpid()}.{secrets.token_hex(8)}.part"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                         0o600)
    hashed = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(descriptor, "wb") as handle:
            while chunk := await part.read_chunk(CHUNK):
                size += len(chunk)
                if size > cap:
                    raise TooLarge
                hashed.update(chunk)
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        path = folder / hashed.hexdigest()
        os.replace(temporary, path)  # the same bytes again: the same name, the same file
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise
    return Received(hashed.hexdigest(), size, path)


def shown_name(filename: str | None) -> str:
    """The browser's file name as a label: its last part only, controls shown escaped,
    clipped; never used to name anything on disk."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return clipped(visible(name), 120) or "sheet"
