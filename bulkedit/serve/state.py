"""What one `bulkedit serve` holds while it runs: who may sign in, where it listens, where
uploads go, the sheet versions uploaded so far (each examined once), where each stands in
its review, how to reach the API for a plan, and the journal its audit trail goes to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from bulkedit.core.errors import UsageError
from bulkedit.run.config import Settings
from bulkedit.run.journal import Event, Journal
from bulkedit.serve.examine import Examined
from bulkedit.serve.review import Reviews
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
    journal: Journal | None = None  # the state folder's: the audit trail's events
    # The key a plan reads the live values with (a Credentials, or one per account);
    # asked for when a plan is made, so a server without one still checks sheets.
    credentials: Callable[[], Any] = field(default=lambda: _no_credentials())
    api_base: str | None = None  # None: as `bulkedit plan` finds it (environment, file)
    second_person: bool = False  # [serve] require_second_person
    reviews: Reviews = field(default_factory=Reviews)

    @property
    def sheets(self) -> Path:
        return own_folder(self.folder / "sheets", "folder of uploaded sheets")

    def upload(self, number: int) -> Upload | None:
        return self.uploads[number - 1] if 0 < number <= len(self.uploads) else None

    def replaced_by(self, upload: Upload) -> int | None:
        """The latest later version of the same sheet (by its name), if any."""
        later = [u.number for u in self.uploads
                 if u.number > upload.number and u.label == upload.label]
        return later[-1] if later else None

    def record(self, actor: str, action: str, upload: Upload | None = None, **said: Any
               ) -> Event:
        """One event of the audit trail, in the journal before the answer is sent."""
        if self.journal is None:
            raise UsageError("bulkedit serve has no journal to keep its audit trail in")
        if upload is not None:
            said = {"sheet": upload.label, "version": upload.number,
                    "sheet_sha256": upload.digest, **said}
        event: Event = self.journal.record_event(actor, action, **said)
        return event


def _no_credentials() -> Any:
    return Settings().credentials()  # the environment's DAILYMOTION_API_KEY and _SECRET


STATE = web.AppKey("state", ServeState)
USER = web.RequestKey("user", User)
