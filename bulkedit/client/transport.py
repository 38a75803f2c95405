"""The aiohttp transport and the OAuth token provider (DESIGN.md §2, §10.2).

The caller owns the `aiohttp.ClientSession`. One call is one HTTP request, with
the bearer token, no redirects followed (so the Authorization header can never
reach another host), TLS verified by aiohttp's defaults, and the answer read by
core/protocol.py. Credentials come from the environment or a private config file,
never from the command line, and never appear in a repr, a log or an error.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import stat
import time
import tomllib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from yarl import URL

from bulkedit.core import protocol
from bulkedit.core.apibase import not_an_api_answer, wrong_base_message
from bulkedit.core.errors import (
    CertificateRefused,
    NetworkError,
    PermanentError,
    TokenRejected,
    UsageError,
    WrongApiBase,
)
from bulkedit.core.protocol import AccessToken, HttpRequest

ENV_KEY = "DAILYMOTION_API_KEY"
ENV_SECRET = "DAILYMOTION_API_SECRET"
ENV_BASE = "DAILYMOTION_API_BASE"
# Renew when 85 % of the lifetime has passed, as the official Python SDK does.
RENEW_AT = 0.85


@dataclass(frozen=True)
class Credentials:
    api_key: str
    api_secret: str = field(repr=False)

    def __repr__(self) -> str:
        return f"Credentials(api_key={self.api_key!r}, api_secret='***')"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Credentials:
        env = os.environ if environ is None else environ
        key, secret = env.get(ENV_KEY, "").strip(), env.get(ENV_SECRET, "").strip()
        if not key or not secret:
            raise UsageError(f"no API credentials: set {ENV_KEY} and {ENV_SECRET} (or use "
                             "--credentials FILE, or --sandbox to try bulkedit locally)")
        return cls(key, secret)

    @classmethod
    def from_file(cls, path: Path) -> Credentials:
        """A TOML file with api_key and api_secret, readable by its owner only."""
        try:
            mode = path.stat().st_mode
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UsageError(f"{path}: no such credentials file") from None
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise UsageError(f"{path}: cannot read the credentials file "
                             f"({type(exc).__name__})") from None
        if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise UsageError(f"{path}: the credentials file is readable by others; run "
                             f"chmod 600 {path}")
        key, secret = str(data.get("api_key", "")).strip(), str(data.get("api_secret", ""))
        if not key or not secret.strip():
            raise UsageError(f"{path}: the credentials file needs api_key and api_secret")
        return cls(key, secret.strip())


class TokenProvider:
    """A token fetched lazily, renewed before it expires, and renewed once when refused.

    Concurrent requests share one renewal: whoever comes second finds the token
    already replaced and uses the new one.
    """

    def __init__(self, fetch: Callable[[], Awaitable[AccessToken]],
                 clock: Callable[[], float] = time.monotonic):
        self._fetch = fetch
        self._clock = clock
        self._token: AccessToken | None = None
        self._renew_after = 0.0
        self._lock = asyncio.Lock()
        self.fetched = 0

    def _fresh(self) -> bool:
        return self._token is not None and self._clock() < self._renew_after

    async def granted(self) -> AccessToken:
        """The current token with what the API granted (its scope): for `doctor`."""
        await self.get()
        assert self._token is not None
        return self._token

    async def get(self) -> str:
        if not self._fresh():
            async with self._lock:
                if not self._fresh():
                    await self._renew()
        assert self._token is not None
        return self._token.value

    async def refused(self, stale: str) -> str:
        """The API refused `stale`: renew it unless another request already did."""
        async with self._lock:
            if self._token is None or self._token.value == stale:
                await self._renew()
        assert self._token is not None
        return self._token.value

    async def _renew(self) -> None:
        started = self._clock()
        token = await self._fetch()
        self._token = token
        self._renew_after = started + token.expires_in * RENEW_AT
        self.fetched += 1


class DailymotionClient:
    """Calls to the partner REST API through a session the caller owns."""

    def __init__(self, session: aiohttp.ClientSession, credentials: Credentials,
                 base_url: str = protocol.PARTNER_API, timeout: float = 30.0,
                 clock: Callable[[], float] = time.monotonic):
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._credentials = credentials
        self.tokens = TokenProvider(self._fetch_token, clock)
        self.calls = 0
        self._base_answered = False

    def __repr__(self) -> str:
        return f"DailymotionClient(base_url={self.base_url!r})"

    async def _fetch_token(self) -> AccessToken:
        request = protocol.token_request(self._credentials.api_key,
                                         self._credentials.api_secret)
        status, headers, body = await self._exchange(request, None)
        if not self._base_answered:  # the run's first answer: is this the API at all?
            seen = not_an_api_answer(status, headers, body)
            if seen is not None:
                raise WrongApiBase(wrong_base_message(self.base_url, seen))
        token = protocol.parse_token_response(status, headers, body)
        self._base_answered = True
        return token

    async def _exchange(self, request: HttpRequest, token: str | None
                        ) -> tuple[int, Mapping[str, str], bytes]:
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if request.content_type:
            headers["Content-Type"] = request.content_type
        self.calls += 1
        try:
            # The target is encoded already: yarl need not parse and re-encode it.
            url = URL(self.base_url + request.target, encoded=True)
            async with self.session.request(
                    request.method, url, data=request.body, headers=headers,
                    allow_redirects=False, timeout=self.timeout) as response:
                body = await response.read()
                status, answer_headers = response.status, response.headers
        except TimeoutError:
            raise NetworkError(f"no answer within {self.timeout.total:g} s") from None
        except (aiohttp.ClientConnectorCertificateError, ssl.SSLCertVerificationError):
            raise CertificateRefused(
                f"the TLS certificate of {URL(self.base_url).host} was refused: no authority "
                "this machine trusts signed it, or it is for another host. Nothing was sent "
                "to it; check the API base URL (bulkedit never turns certificate checks "
                "off)") from None
        except aiohttp.ClientError as exc:
            # Only the class name: some aiohttp errors carry the request's headers.
            raise NetworkError(f"connection to the API failed ({type(exc).__name__})"
                               ) from None
        if 300 <= status < 400:
            raise PermanentError(f"the API answered with a redirect (HTTP {status}); "
                                 "check the API base URL", status=status)
        return status, answer_headers, body

    async def send(self, request: HttpRequest) -> Any:
        """One call; a refused token is renewed (once, shared) and the call made again."""
        token = await self.tokens.get() if request.authenticated else None
        status, headers, body = await self._exchange(request, token)
        try:
            return protocol.parse_response(status, headers, body)
        except TokenRejected:
            if token is None:
                raise
            token = await self.tokens.refused(token)
        status, headers, body = await self._exchange(request, token)
        return protocol.parse_response(status, headers, body)

    async def read_videos(self, ids: Iterable[str], fields: Iterable[str]
                          ) -> dict[str, dict[str, Any]]:
        payload = await self.send(protocol.read_videos_request(ids, fields))
        found = payload.get("list", []) if isinstance(payload, dict) else []
        return {item["id"]: item for item in found if isinstance(item, dict) and "id" in item}

    async def edit_video(self, video_id: str, form: Mapping[str, str],
                         fields: Iterable[str] = ()) -> dict[str, Any]:
        return await self.send(protocol.edit_request(video_id, form, fields))
