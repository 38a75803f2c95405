"""What one `bulkedit serve` holds while it runs: who may sign in, where it listens, where
uploads go, and the sheet versions uploaded so far (each examined once)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from bulkedit.run.config import Settings
from bulkedit.serve.examine import Examined
from bulkedit.serve.users import Keys, User
from bulkedit.sheets.files import own_folder

DEFAULT_MAX_UPLOAD = 100 * 1024 * 1024  # bytes; [serve] max_upload_mb says otherwise


@dataclass
class Listening:
    """The port, known once the socket is bound (`--port 0` picks one)."""

    port: int = 0


@dataclass(frozen=True)
class Upload:
    """One uploaded version of a sheet: its bytes are `folder/sheets/<digest>`."""

    number: int
    digest: str  # SHA-256 of the bytes received
    label: str  # the file name the browser gave, for people only: never a path
    by: str  # who uploaded it
    at: float  # when (seconds since the epoch)
    size: int


@dataclass
class ServeState:
    keys: Keys
    folder: Path  # <state folder>/serve: 0700, bulkedit's own
    listening: Listening = field(default_factory=Listening)
    max_upload: int = DEFAULT_MAX_UPLOAD
    settings: Settings = field(default_factory=Settings)  # [run]: how sheets are read
    api: str = "the Dailymotion API"  # where a later apply would send (shown, never secret)
    uploads: list[Upload] = field(default_factory=list)
    examined: dict[str, Examined] = field(default_factory=dict)  # by digest

    @property
    def sheets(self) -> Path:
        return own_folder(self.folder / "sheets", "folder of uploaded sheets")

    def upload(self, number: int) -> Upload | None:
        return self.uploads[number - 1] if 0 < number <= len(self.uploads) else None


STATE = web.AppKey("state", ServeState)
USER = web.RequestKey("user", User)
