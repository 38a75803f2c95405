"""Is the API base an API base? The token route's first answer says (issue 29).

The token comes from `{base}/oauth/v1/token`, the first request of every run. The
Dailymotion API answers it with a token, or with an OAuth error ({"error": "invalid_client"}).
Anything else means the address is not the API's base: a 404 or 405 (a wrong path, another
service), a page that is not JSON (a proxy's or a web server's HTML), or the REST envelope
({"error": {...}}: the REST API itself, as when the base ends in `/rest`, the REST root).
Telling that apart here turns a wrong `--api-base` into one message naming the address and
the fix, instead of "the credentials were refused" on every row. Pure: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import urlsplit

from bulkedit.core.protocol import TOKEN_PATH

_NOT_THERE = {404, 405, 410}


def not_an_api_answer(status: int, headers: Mapping[str, str], body: bytes) -> str | None:
    """What the token route's answer looked like, when it is not the Dailymotion API's:
    "HTTP 404", "HTTP 200 with an HTML page"…; None when it is (a token or an OAuth error),
    or when it may be a passing fault (429, 5xx: retried as ever)."""
    if status in _NOT_THERE:
        return f"HTTP {status}"
    if status == 429 or status >= 500:
        return None
    try:
        payload = json.loads(body.decode("utf-8")) if body.strip() else None
    except (UnicodeDecodeError, ValueError):
        payload = None
    if payload is None:
        kind = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        page = "an HTML page" if "html" in kind.lower() else "an answer that is not JSON"
        return f"HTTP {status} with {page}"
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        return f"HTTP {status} in the REST API's error format"
    return None


def wrong_base_message(base: str, seen: str) -> str:
    """One line naming the address, what it answered and the likely fix."""
    parts = urlsplit(base)
    path = parts.path.rstrip("/")
    message = (f"the API base URL {base} does not answer like the Dailymotion API ({seen} "
               f"for {path + TOKEN_PATH}); check --api-base (or $DAILYMOTION_API_BASE, "
               "bulkedit.toml's [api] base)")
    if path.endswith("/rest"):
        root = parts._replace(path=path[:-len("/rest")]).geturl()
        message += f": it is the base, without /rest: --api-base {root}"
    return message
