"""The routes of `bulkedit serve`: the home page (upload, the versions so far), the upload
itself, and a version's page (problems first, then the rows, a page at a time).

Every route is behind the guard (serve/guard.py); every page is a Jinja2 template with
autoescape on, so no cell, header or file name reaches the page as markup.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterable
from importlib import resources
from typing import Any

import jinja2
from aiohttp import BodyPartReader, web

from bulkedit.core.charclasses import visible
from bulkedit.core.types import Issue
from bulkedit.serve.examine import Examined, examine
from bulkedit.serve.guard import accepts, guard, security_headers
from bulkedit.serve.problems_view import counts, rows_page, sheet_problems
from bulkedit.serve.state import STATE, USER, ServeState, Upload
from bulkedit.serve.upload import TooLarge, receive, shown_name
from bulkedit.serve.users import EDITOR

_PACKAGE = resources.files("bulkedit.serve")
STATIC = {"app.js": "text/javascript", "style.css": "text/css"}
_DRAIN = 1 << 20  # read past a refused upload, so a small overrun still gets its 413


def templates() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_PACKAGE / "templates")),
        autoescape=True,  # every value shown is escaped; nothing is marked safe
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.filters["visible"] = visible  # controls and bidi shown as \\uNNNN
    environment.filters["when"] = lambda moment: time.strftime(
        "%Y-%m-%d %H:%M:%S", time.localtime(moment))
    return environment


TEMPLATES = web.AppKey("templates", jinja2.Environment)


def build_app(state: ServeState) -> web.Application:
    app = web.Application(middlewares=[guard])
    app[STATE] = state
    app[TEMPLATES] = templates()
    app.on_response_prepare.append(security_headers)
    app.router.add_get("/", home)
    app.router.add_post("/uploads", upload)
    app.router.add_get("/versions/{number:[0-9]{1,9}}", version)
    app.router.add_get("/versions/{number:[0-9]{1,9}}/problems.csv", problems_csv)
    app.router.add_get("/static/{name}", static)
    return app


def _page(request: web.Request, template: str, status: int = 200,
          **values: Any) -> web.Response:
    state = request.app[STATE]
    text = request.app[TEMPLATES].get_template(template).render(
        user=request[USER], api=state.api, **values)
    return web.Response(status=status, text=text, content_type="text/html", charset="utf-8")


async def home(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return _page(request, "home.html", title="Sheets", uploads=list(reversed(state.uploads)),
                 can_upload=request[USER].can(EDITOR),
                 max_upload_mb=round(state.max_upload / 1024**2, 1))


@accepts("multipart/form-data")
async def upload(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    user = request[USER]
    if not user.can(EDITOR):
        return web.Response(status=403, text=f"{user.name} may not upload: only an editor "
                                             "may ([serve] users in bulkedit.toml).\n")
    reader = await request.multipart()
    part = await reader.next()
    if not isinstance(part, BodyPartReader) or part.name != "sheet":
        return web.Response(status=400, text="The form sends one file, named sheet.\n")
    label = shown_name(part.filename)
    try:
        received = await receive(part, state.sheets, state.max_upload)
    except TooLarge:
        drained = 0
        while drained < _DRAIN and (chunk := await request.content.readany()):
            drained += len(chunk)
        response = web.Response(status=413, text=(
            f"The sheet is larger than the {state.max_upload:,} bytes this server takes "
            "([serve] max_upload_mb in bulkedit.toml); nothing of it was kept.\n"))
        response.force_close()
        return response
    if received.digest not in state.examined:
        state.examined[received.digest] = await asyncio.to_thread(
            examine, received.path, label, state.settings)
    number = len(state.uploads) + 1
    state.uploads.append(Upload(number, received.digest, label, user.name, time.time(),
                                received.size))
    return web.Response(status=303, headers={"Location": f"/versions/{number}"})


async def version(request: web.Request) -> web.Response:
    state = request.app[STATE]
    found = state.upload(int(request.match_info["number"]))
    if found is None:
        return web.Response(status=404, text="No such version.\n")
    examined: Examined = state.examined[found.digest]
    only = request.query.get("only") == "problems"
    try:
        page = int(request.query.get("page", "1"))
    except ValueError:
        page = 1
    values: dict[str, Any] = {"upload": found, "refused": examined.refused,
                              "only_problems": only}
    result = examined.result
    if result is not None:
        values.update(counts=counts(result), sheet_problems=sheet_problems(result),
                      blocked=bool(result.header_errors), header_row=result.sheet.header_row,
                      rows=None if result.header_errors else rows_page(result, page, only))
    return _page(request, "version.html", title=found.label, **values)


async def problems_csv(request: web.Request) -> web.Response:
    """Every problem, as `bulkedit validate --report problems.csv` writes them."""
    state = request.app[STATE]
    found = state.upload(int(request.match_info["number"]))
    result = state.examined[found.digest].result if found is not None else None
    if found is None or result is None:
        return web.Response(status=404, text="No problems to download for this version.\n")
    body = await asyncio.to_thread(_problems_bytes, state, result.issues)
    return web.Response(body=body, content_type="text/csv", charset="utf-8", headers={
        "Content-Disposition": f'attachment; filename="version-{found.number}.problems.csv"'})


def _problems_bytes(state: ServeState, issues: Iterable[Issue]) -> bytes:
    from bulkedit.sheets.report import write_issues

    path = state.folder / f".problems.{secrets.token_hex(8)}.csv"  # 0600, gone at once
    try:
        write_issues(path, issues)
        return path.read_bytes()
    finally:
        path.unlink(missing_ok=True)


async def static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in STATIC:
        return web.Response(status=404, text="Not found.\n")
    return web.Response(body=(_PACKAGE / "static" / name).read_bytes(),
                        content_type=STATIC[name], charset="utf-8")
