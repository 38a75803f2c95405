"""`bulkedit serve` on aiohttp's test client: a real server on 127.0.0.1, the guard and all,
and the requests a browser (or an attacker's page) would send."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from bulkedit.client.transport import Credentials
from bulkedit.run.config import Settings
from bulkedit.run.journal import Journal
from bulkedit.serve.app import build_app
from bulkedit.serve.guard import cookie_name
from bulkedit.serve.state import ServeState
from bulkedit.serve.users import Keys, users_from
from bulkedit.sheets.files import own_folder

BOUNDARY = "----bulkeditformboundary7MA4YWxkTrZu0gW"
EDITOR_AND_APPROVER = [{"name": "ana", "roles": ["editor"]},
                       {"name": "ben", "roles": ["approver"]}]


@dataclass
class Served:
    client: TestClient  # type: ignore[type-arg]
    state: ServeState
    tokens: dict[str, str]  # user -> the token of their link

    @property
    def port(self) -> int:
        return self.state.listening.port

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stored(self) -> list[str]:
        """Every file in the folder of uploads (temporaries too)."""
        folder = self.state.folder / "sheets"
        return sorted(p.name for p in folder.iterdir()) if folder.exists() else []

    def session(self) -> str | None:
        for cookie in self.client.session.cookie_jar:
            if cookie.key == cookie_name(self.port):
                return cookie.value
        return None

    async def sign_in(self, user: str = "ana") -> None:
        answer = await self.client.get(f"/?token={self.tokens[user]}", allow_redirects=False)
        assert answer.status == 303, await answer.text()

    def page_headers(self, **extra: str) -> dict[str, str]:
        """What a browser sends with a form posted from the page itself."""
        return {"Origin": self.origin, "Sec-Fetch-Site": "same-origin", **extra}

    async def post_form(self, path: str, form: Mapping[str, str] | None = None) -> Any:
        """A button of the page: a form posted from the page itself."""
        return await self.client.post(path, data=dict(form or {}), allow_redirects=False,
                                      headers=self.page_headers())

    async def upload(self, name: str, data: bytes, headers: Mapping[str, str] | None = None
                     ) -> Any:
        """The form as a browser posts it: the file name raw (a quote as %22), not
        percent-encoded as aiohttp's FormData would."""
        quoted = name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
        body = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="sheet"; '
                f'filename="{quoted}"\r\nContent-Type: application/octet-stream\r\n\r\n'
                ).encode() + data + f"\r\n--{BOUNDARY}--\r\n".encode()
        sent = dict(self.page_headers() if headers is None else headers)
        sent.setdefault("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
        return await self.client.post("/uploads", data=body, allow_redirects=False,
                                      headers=sent)


@contextlib.asynccontextmanager
async def serving(folder: Path, users: Sequence[Mapping[str, Any]] | None = EDITOR_AND_APPROVER,
                  *,
                  max_upload: int = 1 << 20, settings: Settings | None = None,
                  sandbox: Any = None, second_person: bool = False
                  ) -> AsyncIterator[Served]:
    """`sandbox`: a running sandbox the plans read (with its first key)."""
    keys = Keys(users_from(users))
    tokens = {link.user.name: link.token for link in keys.links}
    keys.forget_links()
    journal = Journal(own_folder(folder / "state", "state folder"))
    given = Credentials(*sandbox.key) if sandbox is not None else None
    state = ServeState(keys, own_folder(folder / "serve", "serve folder"),
                       max_upload=max_upload, settings=settings or Settings(),
                       journal=journal, second_person=second_person,
                       api_base=sandbox.base_url if sandbox is not None else None)
    if given is not None:
        state.credentials = lambda: given
    server = TestServer(build_app(state), host="127.0.0.1", port=0)
    client = TestClient(server)
    await client.start_server()
    state.listening.port = server.port  # type: ignore[assignment]
    try:
        yield Served(client, state, tokens)
    finally:
        await client.close()
        journal.close()


def run(folder: Path, test: Callable[[Served], Awaitable[None]], **options: Any) -> None:
    async def main() -> None:
        async with serving(folder, **options) as served:
            await test(served)

    asyncio.run(main())
