"""The partner REST API without I/O: build requests, read responses (DESIGN.md §10.1).

Nothing here imports aiohttp. A request is plain data the client sends as is; a
response (status, headers, body bytes) becomes decoded JSON or one of the typed
errors of errors.py, so that retrying is an `except` clause.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from bulkedit.core.errors import (
    ApiError,
    CredentialsRejected,
    PermanentError,
    RateLimited,
    ServerError,
    TokenRejected,
    UsageError,
)
from bulkedit.core.schema import FIELDS, FieldSpec, Kind
from bulkedit.core.types import ClearValue, Value

PARTNER_API = "https://partner.api.dailymotion.com"
TOKEN_PATH = "/oauth/v1/token"
REST = "/rest"
FORM_TYPE = "application/x-www-form-urlencoded"
SCOPES = ("manage_videos",)
_WWW_AUTH_ERROR = re.compile(r'error="([^"]*)"')
_RATE_WORDS = re.compile(r"rate|spam|too many|quota", re.IGNORECASE)


# Where the key, the secret and the token may go over https without being asked.
DAILYMOTION_API_HOSTS = frozenset({"partner.api.dailymotion.com", "api.dailymotion.com"})


def checked_api_base(base: str, allowed_hosts: Iterable[str] = ()) -> str:
    """`base` if credentials may be sent to it, else UsageError: https to a Dailymotion API
    host, or to a host the user allowed by name (--allow-api-host); http or https to this
    machine's loopback (the sandbox). Never plain http elsewhere: the client secret and
    the bearer token would cross the network in the clear."""
    shown = _shown_base(base)
    try:
        parts = urlsplit(base.strip())
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        host, parts = "", None
    if parts is not None and (_BAD_URL_CHARS.search(base.strip())
                              or not _NETLOC.fullmatch(parts.netloc.rpartition("@")[2])):
        parts = None  # `http://[::1]evil`, a space or a control character: no URL at all
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise UsageError(f"API base {shown!r} is not a URL like "
                         f"{PARTNER_API}; check --api-base, {API_BASE_ENV} or bulkedit.toml")
    if parts.username is not None or parts.password is not None:
        raise UsageError(f"API base {shown!r} holds a user name or password; give the bare "
                         "URL (credentials come from the environment)")
    if parts.query or parts.fragment:
        raise UsageError(f"API base {shown!r} has a query or fragment; give the bare URL")
    if is_loopback(host):
        return base.strip().rstrip("/")
    if parts.scheme != "https":
        hint = " (for this machine, write 127.0.0.1)" if host == "localhost" else ""
        raise UsageError(f"API base {shown!r} is plain http to another machine{hint}: the "
                         "client secret and the token would cross the network in the clear; "
                         "use https")
    allowed = {h.strip().lower() for h in allowed_hosts}
    if host not in DAILYMOTION_API_HOSTS and host not in allowed:
        raise UsageError(f"API base {shown!r}: {host} is not a Dailymotion API host, and the "
                         "credentials would be sent to it; if you mean it, pass "
                         f"--allow-api-host {host} (or allow_hosts in bulkedit.toml's [api])")
    return base.strip().rstrip("/")


def _shown_base(base: str) -> str:
    """The base as a message may show it: a user name or password in it masked, where
    urllib (and so aiohttp) sees one. `https://evil.example#@api.dailymotion.com` goes
    to evil.example: the `@` is in the fragment, and the host shown stays evil.example."""
    try:
        parts = urlsplit(base.strip())
    except ValueError:
        parts = None
    if parts is None:  # no URL to speak of: anything like a user name is masked
        shown = re.sub(r"//[^/@]*@", "//***@", base)
    elif "@" in parts.netloc:
        shown = urlunsplit(parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]))
    else:
        shown = base
    return shown if len(shown) <= 200 else shown[:200] + "…"


API_BASE_ENV = "DAILYMOTION_API_BASE"
_BAD_URL_CHARS = re.compile(r"[\x00-\x20\x7f-\x9f\\]")
_NETLOC = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(:[0-9]{1,5})?")


def is_loopback(host: str) -> bool:
    """A loopback address written as one: a name like `localhost` is resolved by the
    system (hosts file, DNS) and might not stay on this machine."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str  # from the API base, e.g. /rest/video/x8abc12
    query: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    content_type: str | None = None
    authenticated: bool = True  # carries the bearer token

    @property
    def target(self) -> str:
        """Path and query string, percent-encoded, ready to append to the API base."""
        return f"{self.path}?{urlencode(self.query)}" if self.query else self.path


@dataclass(frozen=True)
class AccessToken:
    value: str = field(repr=False)
    expires_in: float
    scope: str = ""


# ----------------------------------------------------------------------------- requests

def token_request(api_key: str, api_secret: str, scopes: Iterable[str] = SCOPES
                  ) -> HttpRequest:
    """POST /oauth/v1/token with client credentials (dailymotion-api.md §9)."""
    body = urlencode({"grant_type": "client_credentials", "client_id": api_key,
                      "client_secret": api_secret, "scope": " ".join(scopes)}).encode()
    return HttpRequest("POST", TOKEN_PATH, body=body, content_type=FORM_TYPE,
                       authenticated=False)


_NAMED_FIELD = re.compile(r"[`'\"]([a-z_]+(?:\.[a-z_]+)?)['`\"]")


def refused_read_field(error: ApiError, asked: Iterable[str]) -> str | None:
    """The field a 400 to a read names as unknown or unreadable, if it names one of those
    asked: the read drops it rather than halve the batch."""
    if error.status != 400:
        return None
    wanted = set(asked)
    for name in _NAMED_FIELD.findall(error.message):
        if name in wanted:
            return str(name)
    return None


_UNKNOWN_NAME = re.compile(r"unrecogni[sz]ed|unknown|not (?:a )?(?:valid|known) (?:param|field)",
                           re.IGNORECASE)


def refused_write_field(error: ApiError, sent: Iterable[str]) -> str | None:
    """The field an edit's 400 says the API does not know by the name bulkedit sent: a
    question of wire names, which every other row would hit too."""
    if error.status != 400 or not _UNKNOWN_NAME.search(error.message):
        return None
    names = set(sent)
    if error.param in names:
        return error.param
    return next((str(n) for n in _NAMED_FIELD.findall(error.message) if n in names), None)


def read_video_request(video_id: str, fields: Iterable[str]) -> HttpRequest:
    """GET /rest/video/{id}: one video, which a listing may have left out."""
    return HttpRequest("GET", f"{REST}/video/{quote(video_id, safe='')}",
                       query=(("fields", ",".join(("id", *fields))),))


def read_videos_request(ids: Iterable[str], fields: Iterable[str]) -> HttpRequest:
    """GET /rest/videos?ids=…: up to 100 videos in one call; missing ids are absent."""
    id_list = list(ids)
    query = (("ids", ",".join(id_list)), ("fields", ",".join(("id", *fields))),
             ("limit", str(max(len(id_list), 1))), ("family_filter", "false"))
    return HttpRequest("GET", f"{REST}/videos", query=query)


def owner_videos_request(owner: str, fields: Iterable[str], *, page: int = 1, limit: int = 100,
                         created_after: int | None = None, created_before: int | None = None,
                         private: bool | None = None) -> HttpRequest:
    """GET /rest/user/{owner}/videos, newest first (dailymotion-api.md §3)."""
    query = [("fields", ",".join(("id", *fields))), ("limit", str(limit)),
             ("page", str(page)), ("sort", "recent"), ("family_filter", "false")]
    if created_after is not None:
        query.append(("created_after", str(created_after)))
    if created_before is not None:
        query.append(("created_before", str(created_before)))
    if private is not None:
        query.append(("private", "true" if private else "false"))
    path = f"{REST}/me/videos" if owner == "me" else f"{REST}/user/{owner}/videos"
    return HttpRequest("GET", path, query=tuple(query))


def edit_request(video_id: str, form: Mapping[str, str], fields: Iterable[str] = ()
                 ) -> HttpRequest:
    """POST /rest/video/{id}: the changed fields, form-encoded; answers the listed fields."""
    query = (("fields", ",".join(("id", *fields))),)
    return HttpRequest("POST", f"{REST}/video/{video_id}", query=query,
                       body=urlencode(form).encode(), content_type=FORM_TYPE)


def encode_value(spec: FieldSpec, value: Value | ClearValue) -> str:
    """How one value travels in form data (dailymotion-api.md §1.1)."""
    if isinstance(value, ClearValue):
        if spec.clear_wire is None:
            raise ValueError(f"{spec.name} cannot be cleared")
        return spec.clear_wire
    if isinstance(value, bool):
        return "true" if value else "false"
    if spec.kind is Kind.GEO_POINT:
        lon, lat = value  # type: ignore[misc, str-unpack]
        return f"{lon!r},{lat!r}"
    if isinstance(value, tuple):
        return ",".join(str(item) for item in value)  # lists: one comma-joined string
    if isinstance(value, float):
        return repr(value)
    return str(value)


def edit_form(values: Mapping[str, Value | ClearValue]) -> dict[str, str]:
    return {name: encode_value(FIELDS[name], value) for name, value in values.items()}


# ----------------------------------------------------------------------------- responses

def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait, from delta-seconds or an HTTP date; None if absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _decode(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def _api_error(payload: Any) -> tuple[str, str, str | None]:
    """(type, message, param) from the documented error body, or blanks."""
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        data = error.get("error_data") if isinstance(error.get("error_data"), dict) else {}
        param = data.get("param") if isinstance(data, dict) else None
        return (str(error.get("type") or ""), str(error.get("message") or ""),
                str(param) if param else None)
    if isinstance(error, str):  # OAuth style: {"error": "...", "error_description": "..."}
        return error, str(payload.get("error_description") or error), None
    return "", "", None


def parse_response(status: int, headers: Mapping[str, str], body: bytes,
                   now: datetime | None = None) -> Any:
    """The decoded JSON of a successful answer, or the typed error it stands for."""
    payload = _decode(body)
    if 200 <= status < 300:
        if payload is None and body.strip():
            raise ServerError("the API answered with something that is not JSON",
                              status=status)
        return payload
    kind, message, param = _api_error(payload)
    retry_after = parse_retry_after(_header(headers, "Retry-After"), now)
    if status == 429:
        raise RateLimited(message or "rate limited (429)", retry_after=retry_after)
    if status == 401:
        www = _header(headers, "WWW-Authenticate") or ""
        found = _WWW_AUTH_ERROR.search(www)
        reason = found.group(1) if found else kind or "invalid_token"
        raise TokenRejected(message or f"access token refused ({reason})", status=401,
                            type=reason)
    if status == 403 and (_RATE_WORDS.search(message) or "rate" in kind):
        raise RateLimited(message, retry_after=retry_after, status=403, type=kind)
    if status >= 500 or payload is None:
        raise ServerError(message or f"the API answered HTTP {status}", status=status,
                          type=kind)
    raise PermanentError(message or f"the API refused the request (HTTP {status})",
                         status=status, type=kind, param=param)


def parse_token_response(status: int, headers: Mapping[str, str], body: bytes,
                         now: datetime | None = None) -> AccessToken:
    """A token, or CredentialsRejected when the key itself is refused (no point retrying)."""
    try:
        payload = parse_response(status, headers, body, now)
    except (PermanentError, TokenRejected) as error:
        raise CredentialsRejected(
            f"the API refused the credentials ({error.type or error.status}): check "
            "DAILYMOTION_API_KEY and DAILYMOTION_API_SECRET", status=error.status,
            type=error.type) from None
    if not isinstance(payload, dict) or not payload.get("access_token"):
        raise ServerError("the token endpoint answered without an access_token",
                          status=status)
    try:
        expires_in = float(payload.get("expires_in") or 3600)
    except (TypeError, ValueError):
        expires_in = 3600.0
    return AccessToken(str(payload["access_token"]), expires_in, str(payload.get("scope", "")))

