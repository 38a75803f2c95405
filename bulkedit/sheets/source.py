"""Where a sheet's bytes come from: a path (read lazily, never copied for Arrow), a pipe,
stdin or a file-like object."""

from __future__ import annotations

import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa

from bulkedit.core.errors import LoadError

Source = str | os.PathLike[str] | BinaryIO


@dataclass(frozen=True)
class SheetInput:
    """Where the bytes come from: a path (read lazily) or a file-like object's content."""

    label: str
    path: Path | None
    data: bytes | None

    def head(self, size: int = 65536) -> bytes:
        if self.data is not None:
            return self.data[:size]
        with self.path.open("rb") as handle:  # type: ignore[union-attr]
            return handle.read(size)

    def all(self) -> bytes:
        return self.data if self.data is not None else self.path.read_bytes()  # type: ignore[union-attr]

    def stream(self) -> str | pa.BufferReader:
        """What Arrow reads: the path itself, so a big file is never copied into Python."""
        return str(self.path) if self.data is None else pa.BufferReader(self.data)

    def binary(self) -> BinaryIO:
        return self.path.open("rb") if self.data is None else io.BytesIO(self.data)  # type: ignore[union-attr]


def open_source(source: Source, name: str | None) -> SheetInput:
    if isinstance(source, str | os.PathLike) and os.fspath(source) == "-":
        return SheetInput(name or "stdin", None, sys.stdin.buffer.read())
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        label = name or str(path)
        try:
            with path.open("rb") as handle:
                if not path.is_file():
                    # A pipe (<(...), /dev/stdin, a FIFO) can be read only once: read it now.
                    return SheetInput(label, None, handle.read())
        except FileNotFoundError:
            raise LoadError(label, "no such file", "Check the path and the file name") from None
        except IsADirectoryError:
            raise LoadError(label, "this is a folder, not a file",
                            "Give the path of a .xlsx or .csv file") from None
        except OSError as exc:
            raise LoadError(label, f"cannot be read ({exc.strerror})",
                            "Check that the file exists and that you may read it") from None
        return SheetInput(label, path, None)
    label = name or getattr(source, "name", None) or "<sheet>"
    data = source.read()
    if isinstance(data, str):
        data = data.encode("utf-8")
    return SheetInput(str(label), None, data)

