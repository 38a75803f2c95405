"""The one guard in front of every route of `bulkedit serve`, and the headers every answer
carries.

In order, for every request, whatever its path (a page, a file, a route that does not
exist): the Host must be this server's loopback name and port (DNS rebinding); a link's
token is traded for a session cookie and dropped from the address; a session is required;
a request that may change something (anything but GET and HEAD) must come from the page
itself, by its Origin (compared exactly) and its Sec-Fetch-Site, and carry the one content
type its route declares. GET never changes anything, but the sign-in itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import hdrs, web

from bulkedit.serve.origins import loopback_host, own_fetch_site, own_origin
from bulkedit.serve.state import STATE, USER, ServeState
from bulkedit.serve.users import User

SAFE_METHODS = ("GET", "HEAD")
TOKEN_PARAM = "token"
_ACCEPTS = "_bulkedit_accepts"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
H = TypeVar("H", bound=Callable[..., Any])

# Every answer: no script, style, frame or form target but the server's own; never framed,
# never sniffed, never cached, and no Referer to any other site (it would carry the page's
# address away). Same-origin, not no-referrer: under no-referrer a browser sends
# `Origin: null` with the page's own forms, and the Origin check would refuse every one
# (found by tests/test_serve_browser.py, in Chromium).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
                               "form-action 'self'; object-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def accepts(content_type: str) -> Callable[[H], H]:
    """Declare the one content type a state-changing route takes; one without is refused."""
    def mark(handler: H) -> H:
        setattr(handler, _ACCEPTS, content_type)
        return handler

    return mark


def cookie_name(port: int) -> str:
    # Cookies do not keep ports apart: a name per port keeps two servers' sessions apart.
    return f"bulkedit-session-{port}"


def _refused(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text + "\n", content_type="text/plain")


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    state: ServeState = request.app[STATE]
    port = state.listening.port
    host = request.headers.get(hdrs.HOST)
    if not loopback_host(host, port):
        return _refused(403, f"bulkedit serve answers only at http://127.0.0.1:{port}/ "
                             "(this request named another host)")
    assert host is not None
    token = request.query.get(TOKEN_PARAM)
    if token is not None:
        return _sign_in(request, state, token)
    user = state.keys.user_of_session(request.cookies.get(cookie_name(port)))
    if user is None:
        return _refused(401, "Not signed in: open the link `bulkedit serve` printed for you "
                             "(each start prints new links).")
    if request.method not in SAFE_METHODS:
        refusal = _cross_site(request, host)
        if refusal is not None:
            return refusal
    request[USER] = user
    return await handler(request)


def _sign_in(request: web.Request, state: ServeState, token: str) -> web.StreamResponse:
    user: User | None = state.keys.user_of_token(token) if request.method == "GET" else None
    if user is None:
        return _refused(403, "This link is not valid (any more): each start of `bulkedit "
                             "serve` prints new links; open the one printed last.")
    kept = [(name, value) for name, value in request.query.items() if name != TOKEN_PARAM]
    response = web.Response(status=303, headers={hdrs.LOCATION: str(
        request.rel_url.with_query(kept))})
    response.set_cookie(cookie_name(state.listening.port), state.keys.open_session(user),
                        httponly=True, samesite="Strict", path="/")
    return response


def _cross_site(request: web.Request, host: str) -> web.Response | None:
    if not own_origin(request.headers.get(hdrs.ORIGIN), host):
        return _refused(403, "Refused: this request did not come from this page (Origin).")
    if not own_fetch_site(request.headers.get("Sec-Fetch-Site")):
        return _refused(403, "Refused: this request did not come from this page "
                             "(Sec-Fetch-Site).")
    wanted = getattr(request.match_info.handler, _ACCEPTS, None)
    if wanted is None or request.content_type != wanted:
        return _refused(415, f"Refused: this address takes {wanted or 'no request body'}.")
    return None


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: every answer, the guard's refusals and aiohttp's own included."""
    response.headers.update(SECURITY_HEADERS)
