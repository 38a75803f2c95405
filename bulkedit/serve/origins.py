"""Which Host and Origin headers are this server's own: exact parses, no prefix or suffix
match (`127.0.0.1.evil.example` is another host, `http://127.0.0.1:8787@evil.example`
another origin). Pure: no aiohttp here."""

from __future__ import annotations

import re

LOOPBACK = "127.0.0.1"  # the one address `bulkedit serve` listens on
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
# A Host header as browsers send it: a name, then an optional port of digits, nothing else.
_HOST = re.compile(r"(127\.0\.0\.1|localhost|\[::1\])(?::([0-9]{1,5}))?")


def loopback_host(host: str | None, port: int) -> bool:
    """True when `host` (a Host header) names this machine's loopback and this server's
    port: a DNS-rebinding page (`evil.example` resolving to 127.0.0.1) sends its own name
    and is refused."""
    if host is None:
        return False
    match = _HOST.fullmatch(host)
    if match is None:
        return False
    said = match.group(2)
    return int(said) == port if said is not None else port == 80


def own_origin(origin: str | None, host: str) -> bool:
    """True when `origin` (an Origin header) is exactly this page's: http, the host the
    request was sent to (already checked by `loopback_host`), nothing more. A missing
    Origin, `null`, another port, https, a user part or a path are all another origin."""
    return origin is not None and _HOST.fullmatch(host) is not None \
        and origin == f"http://{host}"


# Sec-Fetch-Site values a state change may carry: the page's own requests only. A browser
# too old to send it is left to the Origin check.
ALLOWED_FETCH_SITES = ("same-origin",)


def own_fetch_site(value: str | None) -> bool:
    return value is None or value in ALLOWED_FETCH_SITES
