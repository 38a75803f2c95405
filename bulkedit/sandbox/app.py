"""The sandbox web application: the partner REST API of dailymotion-api.md §1, §3, §4, §9.

Requests pass through three middlewares, outermost first: counting (what tests
read), faults (latency, 5xx, held and dropped requests) and authentication with
the per-token rate limit. Handlers then read or edit the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bulkedit.core.schema import FIELDS, READ_ONLY_FIELDS, Kind, is_read_only
from bulkedit.sandbox.config import (
    ALL_SCOPES,
    AccountTier,
    ApiKey,
    SandboxConfig,
    scheduled_rate,
)
from bulkedit.sandbox.limits import (
    Counters,
    FixedWindow,
    PeakPerWindow,
    TokenBucket,
    TokenLimits,
)
from bulkedit.sandbox.store import Video, VideoStore
from bulkedit.sandbox.wire import ApiError, invalid, read_edit

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

DEFAULT_FIELDS = ("id", "title", "channel", "owner")
_HIDDEN = {"password"}  # write-only: reading it "only returns NULL"
_READABLE = set(FIELDS) | set(READ_ONLY_FIELDS)


@dataclass
class Token:
    key: ApiKey
    scopes: frozenset[str]
    expires_at: float


TOKEN = web.RequestKey("token", Token)


def _pro(request: web.Request) -> bool:
    """The sandbox's videos belong to the key's account: `partner`/`verified` say its tier."""
    token = request.get(TOKEN)
    return token is None or token.key.tier is AccountTier.PRO


def _error_response(error: ApiError) -> web.Response:
    return web.json_response(error.body(), status=error.status, headers=error.headers)


def _oauth_error(status: int, error: str, description: str) -> web.Response:
    # With the WWW-Authenticate header RFC 6749 §5.2 asks for: the official Python SDK
    # reads the error from it; without it, it takes the body's "error" for the REST
    # envelope and crashes (AttributeError) instead of raising its auth error.
    header = f'Basic realm="api", error="{error}", error_description="{description}"'
    return web.json_response({"error": error, "error_description": description},
                             status=status, headers={"WWW-Authenticate": header})


class SandboxApp:
    def __init__(self, config: SandboxConfig, store: VideoStore,
                 clock: Callable[[], float] = time.monotonic):
        self.config = config
        self.store = store
        self.clock = clock
        self.counters = Counters()
        self.keys = config.all_keys()
        self.tokens: dict[str, Token] = {}
        self._limits: dict[str, TokenLimits] = {}  # by token, or by key (limit_scope)
        self._revoked: set[str] = set()  # keys that get no token (revoke_key)
        # Called with the video id after each applied edit, in the server's loop: lets a
        # test act at an exact point of a run (expire tokens after the 20th edit…).
        self.after_edit: list[Callable[[str], None]] = []
        self._faults = random.Random(config.fault_seed)
        self._latency = random.Random(config.fault_seed + 1)
        self._first_rest: float | None = None  # when the rate schedule's clock started
        self._queue_free_at = 0.0  # slow_above: when the server is next free

    # ------------------------------------------------------------------ app

    def build(self) -> web.Application:
        app = web.Application(middlewares=[self._count, self._inject_faults, self._authenticate])
        app.router.add_post("/oauth/v1/token", self.token, name="token")
        app.router.add_get("/rest/video/{id}", self.get_video, name="get_video")
        app.router.add_post("/rest/video/{id}", self.edit_video, name="edit_video")
        app.router.add_get("/rest/videos", self.list_videos, name="list_videos")
        app.router.add_get("/rest/user/{owner}/videos", self.owner_videos, name="owner_videos")
        app.router.add_get("/rest/me/videos", self.owner_videos, name="me_videos")
        return app

    def revoke_all_tokens(self) -> None:
        """What happens when a key is deleted in Studio: every token stops working."""
        self.tokens.clear()

    def revoke_key(self, key: str) -> None:
        """One account's key deleted in Studio: its tokens stop working and it gets no new
        one (invalid_client); every other key goes on."""
        self._revoked.add(key)
        for value in [v for v, t in self.tokens.items() if t.key.key == key]:
            del self.tokens[value]

    def restore_key(self, key: str) -> None:
        """The account's key put right again: it gets tokens again."""
        self._revoked.discard(key)

    def rate_now(self) -> float | None:
        """The per-token limit in force: the schedule's, else the fixed one."""
        schedule = self.config.rate_schedule
        if not schedule:
            return self.config.rate
        if self._first_rest is None:
            return schedule[0][1]
        return scheduled_rate(schedule, self.clock() - self._first_rest)

    def expire_all_tokens(self) -> None:
        for token in self.tokens.values():
            token.expires_at = self.clock() - 1

    # ------------------------------------------------------------------ middlewares

    @web.middleware
    async def _count(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        route = request.match_info.route.name or "unknown"
        counters = self.counters
        counters.requests[route] += 1
        if request.path.startswith("/rest/"):
            counters.peak.add(self.clock())
            if self._first_rest is None:
                self._first_rest = self.clock()
        counters.in_flight += 1
        counters.max_in_flight = max(counters.max_in_flight, counters.in_flight)
        try:
            response = await handler(request)
        except ApiError as error:
            response = _error_response(error)
        except web.HTTPException as error:  # unknown route or method: the JSON envelope too
            if error.status < 400:
                raise
            kind = {404: "not_found", 405: "method_not_allowed"}.get(error.status,
                                                                      "invalid_request")
            response = _error_response(ApiError(error.status, kind, error.reason or kind))
        except ConnectionResetError:  # the client went away mid-request: nothing to answer
            response = web.Response(status=499)
        finally:
            counters.in_flight -= 1
        counters.statuses[response.status] += 1
        return response

    @web.middleware
    async def _inject_faults(self, request: web.Request, handler: Handler
                             ) -> web.StreamResponse:
        config = self.config
        if not request.path.startswith("/rest/") and not config.faults_on_token_endpoint:
            return await handler(request)
        if config.latency or config.jitter:
            await asyncio.sleep(config.latency + self._latency.uniform(0, config.jitter))
        if config.slow_above:
            # One server, `slow_above` requests a second: a request waits for those before
            # it, so above the knee the latency grows with the load instead of a 429.
            now = self.clock()
            start = max(now, self._queue_free_at)
            self._queue_free_at = start + 1.0 / config.slow_above
            if start > now:
                await asyncio.sleep(start - now)
        draw = self._faults.random()
        if draw < config.fail_rate:
            self.counters.faults["fail"] += 1
            status = self._faults.choice((500, 502, 503))
            if status == 502:  # what a proxy in front of the API answers: not JSON
                return web.Response(status=502, text="<html><body>502 Bad Gateway</body></html>",
                                    content_type="text/html")
            raise ApiError(status, "server_error", "An internal error occurred")
        draw -= config.fail_rate
        if draw < config.throttle_rate:
            self.counters.faults["throttle"] += 1
            self.counters.rate_limited += 1
            headers = {"Retry-After": "1"} if config.retry_after_header else {}
            raise ApiError(429, "rate_limit_exceeded", "Too many requests", {}, headers)
        draw -= config.throttle_rate
        if draw < config.timeout_rate:
            self.counters.faults["timeout"] += 1
            # Read the whole request first, as a real server does, then answer late: the
            # edit is applied although the client gave up, and it cannot know.
            await request.read()
            await asyncio.sleep(config.hold_seconds)
            return await handler(request)
        draw -= config.timeout_rate
        if draw < config.drop_rate:
            self.counters.faults["drop"] += 1
            # Half the drops happen after the work is done, as when a proxy loses the
            # answer: the client cannot tell whether its edit was applied.
            if self._faults.random() < 0.5:
                with contextlib.suppress(ApiError):
                    await handler(request)
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError  # nothing more is written to a closed connection
        return await handler(request)

    @web.middleware
    async def _authenticate(self, request: web.Request, handler: Handler
                            ) -> web.StreamResponse:
        if not request.path.startswith("/rest/"):
            return await handler(request)
        header = request.headers.get("Authorization", "")
        if header and not header.lower().startswith("bearer "):
            raise invalid("Authorization", "Invalid `Authorization' header: expected Bearer")
        value = header[7:].strip() if header else ""
        value = value or request.query.get("access_token", "")
        if not value:
            raise ApiError(401, "invalid_request", "An access token is required",
                           headers={"WWW-Authenticate": 'Bearer realm="api"'})
        token = self.tokens.get(value)
        if token is None:
            raise ApiError(401, "invalid_token", "Invalid access token",
                           headers={"WWW-Authenticate": 'Bearer realm="api", '
                                    'error="invalid_token", '
                                    'error_description="Invalid access token"'})
        if token.expires_at <= self.clock():
            # The real signal (the official SDKs since 2020): invalid_token, "has expired".
            raise ApiError(401, "invalid_token", "The access token has expired.",
                           headers={"WWW-Authenticate": 'Bearer realm="api", '
                                    'error="invalid_token", '
                                    'error_description="The access token has expired."'})
        counters, key = self.counters, token.key
        counters.peak_per_token.setdefault(value, PeakPerWindow()).add(self.clock())
        counters.peak_per_key.setdefault(key.key, PeakPerWindow()).add(self.clock())
        counters.requests_by_key[key.key] += 1
        scope = key.key if self.config.limit_scope == "key" else value
        limits = self._limits.get(scope)
        if limits is None:
            config = self.config
            window = (FixedWindow(config.window_quota, config.window_seconds)
                      if config.window_quota else None)
            bucket = (TokenBucket(config.bucket_burst, config.bucket_refill)
                      if config.bucket_burst else None)
            rate = self.rate_now if key.rate is None else key.rate
            limits = self._limits[scope] = TokenLimits(rate, config.hourly_quota,
                                                       self.clock, window, bucket)
        wait = limits.admit()
        if wait > 0:
            counters.rate_limited += 1
            counters.rate_limited_by_key[key.key] += 1
            headers = ({"Retry-After": str(max(1, math.ceil(wait)))}
                       if self.config.retry_after_header else {})
            if self.config.throttle_as_plain_403:  # nothing says "rate" in it
                raise ApiError(403, "access_forbidden", "Access denied", {}, {})
            if self.config.rate_limit_status == 403:
                raise ApiError(403, "access_forbidden", "Request denied due to spam activity",
                               {"reason": "rate_limit_exceeded"}, headers)
            raise ApiError(429, "rate_limit_exceeded", "Too many requests", {}, headers)
        request[TOKEN] = token
        return await handler(request)

    # ------------------------------------------------------------------ token

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type",
                                "Only client_credentials is supported on this endpoint")
        key = self.keys.get(str(form.get("client_id", "")))
        if key is not None and key.key in self._revoked:
            key = None
        if key is None or not secrets.compare_digest(str(form.get("client_secret", "")),
                                                     key.secret):
            return _oauth_error(401, "invalid_client", "Invalid client credentials")
        asked = str(form.get("scope", "")).split()
        unknown = [s for s in asked if s not in ALL_SCOPES]
        if unknown:
            return _oauth_error(400, "invalid_scope", f"Unknown scope: {unknown[0]}")
        scopes = frozenset(s for s in asked if s in key.scopes) if asked else frozenset(
            key.scopes)
        value = secrets.token_urlsafe(32)
        lifetime = self.config.token_lifetime
        self.tokens[value] = Token(key, scopes, self.clock() + lifetime)
        self.counters.tokens_issued += 1
        return web.json_response({"access_token": value, "token_type": "Bearer",
                                  "expires_in": int(lifetime) if lifetime >= 1 else lifetime,
                                  "scope": " ".join(sorted(scopes))})

    # ------------------------------------------------------------------ videos

    def _fields(self, request: web.Request) -> tuple[str, ...]:
        given = request.query.getall("fields", [])
        if not given:
            return DEFAULT_FIELDS
        # `fields` given twice: every name counts (not just the first list).
        names = tuple(dict.fromkeys(f.strip() for raw in given for f in raw.split(",")
                                    if f.strip()))
        for name in names:
            base = name.split(".", 1)[0]
            if base not in _READABLE and not is_read_only(base):
                raise invalid("fields", f"Unknown field `{name}'")
            if base in self.config.unreadable_fields:
                raise ApiError(400, "invalid_parameter", f"Field `{name}' is not readable",
                               {"reason": "invalid_parameter", "param": "fields",
                                "field": name})
        return names

    @staticmethod
    def _render(video: Video, fields: tuple[str, ...], pro: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in fields:
            if name in _HIDDEN:
                out[name] = None
            elif name in ("partner", "verified"):  # of the owner: a verified partner (Pro)?
                out[name] = pro
            elif name.startswith("owner."):
                out[name] = video["owner"] if name in ("owner.id", "owner.xid") else None
            else:
                out[name] = video.get(name)
        return out

    def _video(self, video_id: str) -> Video:
        video = self.store.get(video_id)
        if video is None:
            raise ApiError(404, "not_found", "Can't find object video for `id' parameter",
                           {"reason": "object_not_found", "object_type": "video",
                            "object_id": video_id, "param": "id"})
        return video

    async def get_video(self, request: web.Request) -> web.Response:
        fields = self._fields(request)
        return web.json_response(self._render(self._video(request.match_info["id"]), fields,
                                              _pro(request)))

    async def edit_video(self, request: web.Request) -> web.Response:
        fields = self._fields(request)
        token: Token = request[TOKEN]
        if "manage_videos" not in token.scopes:
            raise ApiError(403, "access_forbidden", "Missing required scope `manage_videos'",
                           {"reason": "insufficient_scope", "scope": "manage_videos"})
        video = self._video(request.match_info["id"])
        if token.key.owners and video["owner"] not in token.key.owners:
            self.counters.not_owner_by_key[token.key.key] += 1
            raise ApiError(403, "access_forbidden", "You are not allowed to edit this video",
                           {"reason": "not_owner", "object_id": video["id"]})
        form = await request.post()
        # A key given several times (tags=a&tags=b, as the official Python SDK sends a
        # list) means all of its values, comma-joined as the PHP SDK sends them.
        edit = {k: ",".join(str(v) for v in form.getall(k)) for k in dict.fromkeys(form)}
        edit = self._wire_names(edit)
        changes = read_edit(edit, video, token.key, self.config.accept_doubtful_channels)
        if "source_url" in changes:
            self.counters.source_replacements += 1
        if changes:
            self.store.update(video["id"], changes)
            self.counters.writes[video["id"]] += 1
            self.counters.writes_by_key.setdefault(token.key.key, Counter())[video["id"]] += 1
            for hook in self.after_edit:
                hook(video["id"])
        return web.json_response(self._render(video, fields, _pro(request)))

    def _wire_names(self, edit: dict[str, str]) -> dict[str, str]:
        """allow_embed / allow_embedded: the seed page names the latter; which the API
        takes is a knob. A name it does not take is an unrecognized parameter."""
        accepted = {"both": ("allow_embed", "allow_embedded")}.get(
            self.config.embed_wire_name, (self.config.embed_wire_name,))
        for name in ("allow_embed", "allow_embedded"):
            if name in edit and name not in accepted:
                raise invalid(name, f"Unrecognized parameter `{name}'")
        if "allow_embedded" in edit:
            edit["allow_embed"] = edit.pop("allow_embedded")
        if self.config.refuse_empty_clears:
            for name, value in edit.items():
                spec = FIELDS.get(name)
                if value == "" and spec is not None and spec.kind is Kind.TEXT:
                    raise invalid(name, f"`{name}' must be at least 1 character long")
        return edit

    def _paging(self, request: web.Request) -> tuple[int, int]:
        try:
            limit = int(request.query.get("limit", "10"))
            page = int(request.query.get("page", "1"))
        except ValueError:
            raise invalid("limit", "`limit' and `page' must be integers") from None
        if not 1 <= limit <= self.config.max_limit:
            raise invalid("limit", f"`limit' must be between 1 and {self.config.max_limit}")
        if not 1 <= page <= self.config.max_page:
            raise invalid("page", f"`page' must be between 1 and {self.config.max_page}")
        if (page - 1) * limit >= self.config.result_cap:
            raise invalid("page", f"The API returns at most {self.config.result_cap} results; "
                                  "narrow the query with created_after/created_before")
        return limit, page

    def _envelope(self, ids: list[str], fields: tuple[str, ...], limit: int, page: int,
                  pro: bool = True) -> web.Response:
        reachable = ids[: self.config.result_cap]
        chunk = reachable[(page - 1) * limit: page * limit]
        videos = [self._render(self.store.get(i) or {}, fields, pro) for i in chunk]
        explicit = any((self.store.get(i) or {}).get("explicit") for i in chunk)
        return web.json_response({"page": page, "limit": limit, "explicit": explicit,
                                  "total": len(ids), "has_more": page * limit < len(reachable),
                                  "list": videos})

    async def list_videos(self, request: web.Request) -> web.Response:
        fields = self._fields(request)
        limit, page = self._paging(request)
        raw = request.query.get("ids")
        if raw is None:
            raise invalid("ids", "This sandbox lists videos by `ids'; use "
                                 "/user/{id}/videos to browse a channel")
        ids = [i.strip() for i in raw.split(",") if i.strip()]
        if len(ids) > self.config.max_ids:
            if not self.config.truncate_ids:
                raise invalid("ids", f"`ids' accepts at most {self.config.max_ids} values")
            ids = ids[:self.config.max_ids]  # the rest silently left out
        found = [i for i in dict.fromkeys(ids) if i in self.store]
        if self.config.hide_private_in_listings:
            found = [i for i in found if not (self.store.get(i) or {}).get("private")]
        return self._envelope(found, fields, limit, page, _pro(request))

    async def owner_videos(self, request: web.Request) -> web.Response:
        fields = self._fields(request)
        limit, page = self._paging(request)
        owner = request.match_info.get("owner")
        if owner is None:  # /me: the key's first channel
            token: Token = request[TOKEN]
            owners = token.key.owners or tuple(self.store.owners()[:1])
            owner = owners[0] if owners else ""
        if owner not in self.store.owners():
            raise ApiError(404, "not_found", "Can't find object user for `id' parameter",
                           {"reason": "object_not_found", "object_type": "user",
                            "object_id": owner, "param": "id"})
        window = {}
        for name in ("created_after", "created_before"):
            raw = request.query.get(name)
            if raw is not None:
                if not raw.lstrip("-").isdigit():
                    raise invalid(name, f"`{name}' must be a UNIX timestamp")
                window[name] = int(raw)
        sort = request.query.get("sort", "recent")
        if sort not in ("recent", "old"):
            raise invalid("sort", "`sort' must be recent or old")
        ids = self.store.owner_videos(owner, window.get("created_after"),
                                      window.get("created_before"), sort == "recent")
        private = request.query.get("private")
        if private is not None:
            wanted = private.lower() in ("1", "true", "yes")
            ids = [i for i in ids if bool((self.store.get(i) or {}).get("private")) == wanted]
        return self._envelope(ids, fields, limit, page, _pro(request))
