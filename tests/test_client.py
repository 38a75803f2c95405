"""The client on its own: redirects, credentials files, shared token renewal."""

from __future__ import annotations

import asyncio
import os

import aiohttp
import pytest
from aiohttp import web

from bulkedit.client.transport import Credentials, DailymotionClient, TokenProvider
from bulkedit.core import protocol
from bulkedit.core.errors import PermanentError, UsageError
from bulkedit.core.protocol import AccessToken


def test_the_authorization_header_never_follows_a_redirect():
    seen: list[dict] = []

    async def scenario() -> None:
        elsewhere = web.Application()

        async def record(request: web.Request) -> web.Response:
            seen.append(dict(request.headers))
            return web.json_response({})

        elsewhere.router.add_route("*", "/{tail:.*}", record)
        other = web.AppRunner(elsewhere)
        await other.setup()
        other_site = web.TCPSite(other, "127.0.0.1", 0)
        await other_site.start()
        other_port = other_site._server.sockets[0].getsockname()[1]

        api = web.Application()

        async def token(request: web.Request) -> web.Response:
            return web.json_response({"access_token": "tok", "expires_in": 3600})

        async def moved(request: web.Request) -> web.Response:
            raise web.HTTPFound(f"http://127.0.0.1:{other_port}/steal")

        api.router.add_post("/oauth/v1/token", token)
        api.router.add_post("/rest/video/{id}", moved)
        runner = web.AppRunner(api)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        try:
            async with aiohttp.ClientSession() as session:
                client = DailymotionClient(session, Credentials("k", "s"),
                                           f"http://127.0.0.1:{port}")
                with pytest.raises(PermanentError, match="redirect"):
                    await client.edit_video("x8abc12", {"title": "t"})
        finally:
            await runner.cleanup()
            await other.cleanup()

    asyncio.run(scenario())
    assert seen == []


def test_one_renewal_is_shared_by_concurrent_requests():
    fetched: list[str] = []

    async def fetch() -> AccessToken:
        await asyncio.sleep(0.01)
        fetched.append("x")
        return AccessToken(f"token-{len(fetched)}", 3600)

    async def scenario() -> set[str]:
        provider = TokenProvider(fetch)
        first = await provider.get()
        renewed = await asyncio.gather(*(provider.refused(first) for _ in range(10)))
        return {first, *renewed}

    assert asyncio.run(scenario()) == {"token-1", "token-2"} and len(fetched) == 2


def test_token_is_renewed_before_it_expires():
    now = [0.0]

    async def fetch() -> AccessToken:
        return AccessToken(f"token-{now[0]}", 100)

    async def scenario() -> list[str]:
        provider = TokenProvider(fetch, clock=lambda: now[0])
        tokens = [await provider.get()]
        now[0] = 84.0
        tokens.append(await provider.get())
        now[0] = 86.0  # past 85 % of the lifetime
        tokens.append(await provider.get())
        return tokens

    assert asyncio.run(scenario()) == ["token-0.0", "token-0.0", "token-86.0"]


def test_credentials_never_show_the_secret():
    credentials = Credentials("key", "very-secret")
    assert "very-secret" not in repr(credentials) and "very-secret" not in str(credentials)


def test_credentials_from_the_environment():
    assert Credentials.from_env({"DAILYMOTION_API_KEY": "k", "DAILYMOTION_API_SECRET": "s"}
                                ) == Credentials("k", "s")
    with pytest.raises(UsageError, match="set DAILYMOTION_API_KEY and DAILYMOTION_API_SECRET"):
        Credentials.from_env({"DAILYMOTION_API_KEY": "k"})


def test_credentials_file_must_be_private(tmp_path):
    path = tmp_path / "credentials.toml"
    path.write_text('api_key = "k"\napi_secret = "s"\n', encoding="utf-8")
    os.chmod(path, 0o644)
    with pytest.raises(UsageError, match="readable by others; run chmod 600"):
        Credentials.from_file(path)
    os.chmod(path, 0o600)
    assert Credentials.from_file(path) == Credentials("k", "s")
    path.write_text('api_key = "k"\n', encoding="utf-8")
    with pytest.raises(UsageError, match="needs api_key and api_secret"):
        Credentials.from_file(path)
    with pytest.raises(UsageError, match="no such credentials file"):
        Credentials.from_file(tmp_path / "missing.toml")


def test_requests_carry_an_encoded_target():
    request = protocol.read_videos_request(["x1a", "x2b"], ["title"])
    assert request.target == (
        "/rest/videos?ids=x1a%2Cx2b&fields=id%2Ctitle&limit=2&family_filter=false")
