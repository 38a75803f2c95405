"""The routes of `bulkedit serve`: the home page (upload, the versions so far), the upload
itself, a version's page (problems first, then the rows, a page at a time; then its plan
against the live values, and the approval), the audit trail, and their downloads.

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
from bulkedit.serve import audit
from bulkedit.serve.examine import Examined, examine
from bulkedit.serve.guard import accepts, guard, security_headers
from bulkedit.serve.plan_view import estimate_words
from bulkedit.serve.planning import keep_approved, make_plan, void_approved
from bulkedit.serve.problems_view import counts, rows_page, sheet_problems
from bulkedit.serve.review import (
    APPROVE,
    DECLINE,
    MAX_COMMENT,
    Decision,
    Planned,
    refusal,
)
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
    environment.globals["estimate_words"] = estimate_words
    environment.filters["when"] = lambda moment: time.strftime(
        "%Y-%m-%d %H:%M:%S", time.localtime(moment))
    return environment


TEMPLATES = web.AppKey("templates", jinja2.Environment)
PLANNING = web.AppKey("planning", asyncio.Lock)  # one plan at a time: each reads the API
FORM = "application/x-www-form-urlencoded"  # what the page's buttons post


def build_app(state: ServeState) -> web.Application:
    app = web.Application(middlewares=[guard])
    app[STATE] = state
    app[TEMPLATES] = templates()
    app[PLANNING] = asyncio.Lock()
    app.on_response_prepare.append(security_headers)
    app.router.add_get("/", home)
    app.router.add_post("/uploads", upload)
    app.router.add_get("/versions/{number:[0-9]{1,9}}", version)
    app.router.add_get("/versions/{number:[0-9]{1,9}}/problems.csv", problems_csv)
    app.router.add_post("/versions/{number:[0-9]{1,9}}/plan", plan)
    app.router.add_post("/versions/{number:[0-9]{1,9}}/decision", decision)
    app.router.add_get("/audit", audit_page)
    app.router.add_get("/audit.csv", audit_csv)
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
                 stages={u.number: state.reviews.of(u.number).stage for u in state.uploads},
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
    made = Upload(number, received.digest, label, user.name, time.time(), received.size)
    voided = []
    for earlier in state.uploads:  # a new version of the sheet voids an earlier approval
        review = state.reviews.of(earlier.number)
        if earlier.label == label and review.stage == "approved":
            review.voided_by = number
            void_approved(state, earlier.number)
            voided.append(earlier.number)
    state.uploads.append(made)
    state.record(user.name, "upload", made, at=made.at, detail=f"{received.size:,} bytes"
                 + "".join(f"; voids the approval of version {n}" for n in voided))
    return web.Response(status=303, headers={"Location": f"/versions/{number}"})


async def version(request: web.Request) -> web.Response:
    state = request.app[STATE]
    found = state.upload(int(request.match_info["number"]))
    if found is None:
        return web.Response(status=404, text="No such version.\n")
    examined: Examined = state.examined[found.digest]
    only = request.query.get("only") == "problems"
    page = _number(request.query.get("page"))
    review = state.reviews.of(found.number)
    replaced = state.replaced_by(found)
    shown = review.check or review.plan
    plan_page, plan_rows = shown.view.page(_number(request.query.get("plan_page"))) \
        if shown is not None else (1, ())
    user = request[USER]
    values: dict[str, Any] = {
        "upload": found, "refused": examined.refused, "only_problems": only,
        "review": review, "replaced_by": replaced, "shown_plan": shown,
        "plan_page": plan_page, "plan_rows": plan_rows,
        "may_decide": refusal(user, found.by, review, replaced, state.second_person,
                              review.plan.sha256 if review.plan else ""),
        "events": [e for e in state.journal.events() if e.sheet == found.label]
        if state.journal is not None else []}
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
    name = f"version-{found.number}.problems.csv"
    state.record(request[USER].name, "download", found, detail=name)
    return web.Response(body=body, content_type="text/csv", charset="utf-8", headers={
        "Content-Disposition": f'attachment; filename="{name}"'})


def _problems_bytes(state: ServeState, issues: Iterable[Issue]) -> bytes:
    from bulkedit.sheets.report import write_issues

    path = state.folder / f".problems.{secrets.token_hex(8)}.csv"  # 0600, gone at once
    try:
        write_issues(path, issues)
        return path.read_bytes()
    finally:
        path.unlink(missing_ok=True)


def _number(text: str | None) -> int:
    try:
        return int(text or "1")
    except ValueError:
        return 1


def _back(number: int) -> web.Response:
    return web.Response(status=303, headers={"Location": f"/versions/{number}"})


@accepts(FORM)
async def plan(request: web.Request) -> web.Response:
    """Plan the version against the live values (a dry run: reads only), as `bulkedit plan`
    does; once it is approved, check the approved plan for rows that drifted since."""
    state = request.app[STATE]
    found = state.upload(int(request.match_info["number"]))
    if found is None:
        return web.Response(status=404, text="No such version.\n")
    if state.examined[found.digest].result is None:
        return web.Response(status=409, text="This file cannot be read: nothing to plan.\n")
    user = request[USER]
    review = state.reviews.of(found.number)
    async with request.app[PLANNING]:
        decided = review.decision
        approved = decided.plan if decided is not None and decided.approved \
            and review.voided_by is None else None
        if decided is not None and approved is None:
            return web.Response(status=409, text=f"This version was {review.stage}: upload "
                                                 "the sheet again to plan it anew.\n")
        made = await make_plan(state, found, approved)
    review.problem = made.problem
    if made.view is None:
        state.record(user.name, "plan", found, detail=f"no plan: {made.problem}")
        return _back(found.number)
    planned = Planned(user.name, time.time(), made.view, made.sha256, made.path,
                      decided.plan_sha256 if approved is not None and decided else "")
    if approved is not None:
        review.check = planned
    else:
        review.plan = planned
    counted = ", ".join(f"{n} {s}" for s, n in made.view.by_status)
    state.record(user.name, "plan", found, at=planned.at,
                 plan_sha256=planned.against or planned.sha256,
                 detail=(f"the approved plan checked against the live values: {counted}"
                         if approved is not None else counted
                         + ("" if made.view.complete else "; incomplete, not saved")))
    return _back(found.number)


@accepts(FORM)
async def decision(request: web.Request) -> web.Response:
    """Approve or decline the version's plan, the one whose hash the form carries."""
    state = request.app[STATE]
    found = state.upload(int(request.match_info["number"]))
    if found is None:
        return web.Response(status=404, text="No such version.\n")
    form = await request.post()
    said, sent = str(form.get("decision", "")), str(form.get("plan", ""))
    comment = str(form.get("comment", "")).strip()
    if said not in (APPROVE, DECLINE):
        return web.Response(status=400, text="The form says approve or decline.\n")
    if len(comment) > MAX_COMMENT:
        return web.Response(status=400, text=f"A comment is at most {MAX_COMMENT} "
                                             "characters.\n")
    user = request[USER]
    review = state.reviews.of(found.number)
    why = refusal(user, found.by, review, state.replaced_by(found), state.second_person, sent)
    if why is not None:
        return web.Response(status=403, text=f"Refused: {why}.\n")
    assert review.plan is not None and review.plan.path is not None
    kept = None
    if said == APPROVE:
        kept = await asyncio.to_thread(keep_approved, state, found.number, review.plan.path,
                                       review.plan.sha256)
    moment = time.time()
    review.decision = Decision(said == APPROVE, user.name, moment, comment, found.digest,
                               review.plan.sha256, kept)
    state.record(user.name, said, found, at=moment, plan_sha256=review.plan.sha256,
                 comment=comment, detail=f"saved plan: {kept.name}" if kept else "")
    return _back(found.number)


async def audit_page(request: web.Request) -> web.Response:
    state = request.app[STATE]
    events = state.journal.events() if state.journal is not None else []
    return _page(request, "audit.html", title="Audit trail", events=list(reversed(events)))


async def audit_csv(request: web.Request) -> web.Response:
    """Every event of the trail, as a CSV safe for Excel (the cells bulkedit writes)."""
    state = request.app[STATE]
    events = state.journal.events() if state.journal is not None else []
    state.record(request[USER].name, "download", detail="audit.csv")
    body = await asyncio.to_thread(audit.csv_bytes, state.folder, events)
    return web.Response(body=body, content_type="text/csv", charset="utf-8", headers={
        "Content-Disposition": 'attachment; filename="audit.csv"'})


async def static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in STATIC:
        return web.Response(status=404, text="Not found.\n")
    return web.Response(body=(_PACKAGE / "static" / name).read_bytes(),
                        content_type=STATIC[name], charset="utf-8")
