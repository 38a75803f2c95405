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
from bulkedit.core.errors import BulkEditError
from bulkedit.core.types import Issue
from bulkedit.run.journal import Journal
from bulkedit.serve import audit, runs
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
from bulkedit.serve.run_chart import chart
from bulkedit.serve.state import STATE, USER, ServeState, Upload
from bulkedit.serve.upload import TooLarge, receive, shown_name
from bulkedit.serve.users import APPROVER, EDITOR

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
RUNS = web.AppKey("runs", dict[int, runs.ServeRun])  # by version: the applies started here
FORM = "application/x-www-form-urlencoded"  # what the page's buttons post


def build_app(state: ServeState) -> web.Application:
    app = web.Application(middlewares=[guard])
    app[STATE] = state
    app[TEMPLATES] = templates()
    app[PLANNING] = asyncio.Lock()
    app[RUNS] = {}
    app.on_shutdown.append(_stop_runs)
    app.on_response_prepare.append(security_headers)
    app.router.add_get("/", home)
    app.router.add_post("/uploads", upload)
    app.router.add_get("/versions/{number:[0-9]{1,9}}", version)
    app.router.add_get("/versions/{number:[0-9]{1,9}}/problems.csv", problems_csv)
    app.router.add_post("/versions/{number:[0-9]{1,9}}/plan", plan)
    app.router.add_post("/versions/{number:[0-9]{1,9}}/decision", decision)
    app.router.add_post("/versions/{number:[0-9]{1,9}}/apply", apply)
    app.router.add_post("/versions/{number:[0-9]{1,9}}/cancel", cancel)
    app.router.add_get("/versions/{number:[0-9]{1,9}}/run", run_page)
    app.router.add_get("/versions/{number:[0-9]{1,9}}/run/events", run_events)
    app.router.add_get("/versions/{number:[0-9]{1,9}}/run/{kind:results|rollback|summary}",
                       run_download)
    app.router.add_get("/audit", audit_page)
    app.router.add_get("/audit.csv", audit_csv)
    app.router.add_get("/static/{name}", static)
    return app


async def _record(app: web.Application, actor: str, action: str,
                  upload: Upload | None = None, **said: Any) -> None:
    """One event of the audit trail. While a run of this server sends, its journal
    connection holds SQLite's write lock from each request to its answer: the event then
    waits for it in a thread, through a connection of its own, never blocking the loop
    the run answers in."""
    state = app[STATE]
    if not any(not served.over for served in app[RUNS].values()):
        state.record(actor, action, upload, **said)
        return
    assert state.journal is not None
    folder = state.journal.folder

    def apart() -> None:
        journal = Journal(folder)
        try:
            ServeState(state.keys, state.folder, journal=journal).record(actor, action, upload,
                                                                         **said)
        finally:
            journal.close()

    await asyncio.to_thread(apart)


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
    await _record(request.app, user.name, "upload", made, at=made.at,
                  detail=f"{received.size:,} bytes" + "".join(
                      f"; voids the approval of version {n}" for n in voided))
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
    await _record(request.app, request[USER].name, "download", found, detail=name)
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
        await _record(request.app, user.name, "plan", found, detail=f"no plan: {made.problem}")
        return _back(found.number)
    planned = Planned(user.name, time.time(), made.view, made.sha256, made.path,
                      decided.plan_sha256 if approved is not None and decided else "")
    if approved is not None:
        review.check = planned
    else:
        review.plan = planned
    counted = ", ".join(f"{n} {s}" for s, n in made.view.by_status)
    await _record(request.app, user.name, "plan", found, at=planned.at,
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
    await _record(request.app, user.name, said, found, at=moment,
                  plan_sha256=review.plan.sha256, comment=comment,
                  detail=f"saved plan: {kept.name}" if kept else "")
    return _back(found.number)


async def audit_page(request: web.Request) -> web.Response:
    state = request.app[STATE]
    events = state.journal.events() if state.journal is not None else []
    return _page(request, "audit.html", title="Audit trail", events=list(reversed(events)))


async def audit_csv(request: web.Request) -> web.Response:
    """Every event of the trail, as a CSV safe for Excel (the cells bulkedit writes)."""
    state = request.app[STATE]
    events = state.journal.events() if state.journal is not None else []
    await _record(request.app, request[USER].name, "download", detail="audit.csv")
    body = await asyncio.to_thread(audit.csv_bytes, state.folder, events)
    return web.Response(body=body, content_type="text/csv", charset="utf-8", headers={
        "Content-Disposition": 'attachment; filename="audit.csv"'})


async def static(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in STATIC:
        return web.Response(status=404, text="Not found.\n")
    return web.Response(body=(_PACKAGE / "static" / name).read_bytes(),
                        content_type=STATIC[name], charset="utf-8")


# ---------------------------------------------------------------- the run (issue 31, point 7)

async def _stop_runs(app: web.Application) -> None:
    """The server stops: each run stops as SIGTERM stops an apply, and ends in its journal."""
    for served in app[RUNS].values():
        runs.cancel(served, "the server stopping")
    tasks = [served.task for served in app[RUNS].values() if served.task is not None]
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)


@accepts(FORM)
async def apply(request: web.Request) -> web.Response:
    """Start the apply of an approved version: an approver may, once the version's approval
    stands (not void, not replaced); it sends exactly the approved plan."""
    state = request.app[STATE]
    found = state.upload(int(request.match_info["number"]))
    if found is None:
        return web.Response(status=404, text="No such version.\n")
    user = request[USER]
    if not user.can(APPROVER):
        return web.Response(status=403, text=f"Refused: {user.name} may not start an apply: "
                                             "only an approver may ([serve] users).\n")
    review = state.reviews.of(found.number)
    decided = review.decision
    if review.stage != "approved" or decided is None or decided.plan is None \
            or state.replaced_by(found) is not None:
        return web.Response(status=409, text="Refused: only an approved version, whose "
                                             "approval stands, is applied.\n")
    running = request.app[RUNS].get(found.number)
    if running is not None and not running.over:
        return web.Response(status=409, text="Refused: this version's apply is running.\n")
    try:
        started = runs.start(state, found, decided.plan, user.name)
    except BulkEditError as exc:
        return web.Response(status=409, text=f"Refused: {exc}.\n")
    request.app[RUNS][found.number] = started
    await _record(request.app, user.name, "apply", found, plan_sha256=decided.plan_sha256,
                 detail=f"the approved plan {decided.plan.name}"
                 + (" (resuming the run cancelled before)" if running is not None else ""))
    return web.Response(status=303, headers={"Location": f"/versions/{found.number}/run"})


@accepts(FORM)
async def cancel(request: web.Request) -> web.Response:
    """Stop the run as SIGTERM stops an apply: anyone signed in may (stopping is safe)."""
    state = request.app[STATE]
    found = state.upload(int(request.match_info["number"]))
    served = request.app[RUNS].get(found.number) if found is not None else None
    if found is None or served is None:
        return web.Response(status=404, text="No run of this version.\n")
    user = request[USER]
    if not runs.cancel(served, user.name):
        return web.Response(status=409, text="This run is over already.\n")
    await _record(request.app, user.name, "cancel", found,
                  detail="the requests in flight finish; the rest is not sent, and an apply "
                         "resumes")
    return web.Response(status=303, headers={"Location": f"/versions/{found.number}/run"})


def _served(request: web.Request) -> tuple[Upload | None, runs.ServeRun | None]:
    found = request.app[STATE].upload(int(request.match_info["number"]))
    return found, request.app[RUNS].get(found.number) if found is not None else None


async def run_page(request: web.Request) -> web.Response:
    state = request.app[STATE]
    found, served = _served(request)
    if found is None or served is None or state.journal is None:
        return web.Response(status=404, text="No run of this version.\n")
    now = runs.snapshot(served, state.journal)
    return _page(request, "run.html", title=f"Run of version {found.number}", upload=found,
                 run=served, now=now, picture=chart(now.by_status, runs.answered_times(
                     served, state.journal)),
                 may_apply=request[USER].can(APPROVER))


async def run_events(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: a snapshot of the run each time the journal settles rows, its
    `id:` the rows settled; a page reconnecting with Last-Event-ID gets only what is new,
    and the last event (`end`) once the run is over."""
    state = request.app[STATE]
    found, served = _served(request)
    if found is None or served is None or state.journal is None:
        return web.Response(status=404, text="No run of this version.\n")
    journal = state.journal
    seen = runs.last_seen(request.headers.get("Last-Event-ID"))
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "X-Accel-Buffering": "no"})
    await response.prepare(request)
    while True:
        changed = served.changed
        over = served.over
        now = runs.snapshot(served, journal)
        if now.seq > seen or over:
            kind = "end" if over else "progress"
            await response.write(f"event: {kind}\nid: {now.seq}\ndata: {now.data()}\n\n"
                                 .encode())
            seen = now.seq
        if over:
            break
        await changed.wait()
    await response.write_eof()
    return response


async def run_download(request: web.Request) -> web.Response:
    """The run's own results, rollback or summary: the files the CLI's writers wrote."""
    found, served = _served(request)
    kind = request.match_info["kind"]
    path = served.output(kind) if served is not None else None
    if found is None or path is None or not path.is_file():
        return web.Response(status=404, text=f"No {kind} of a run of this version yet.\n")
    name = f"version-{found.number}.{runs.OUTPUTS[kind]}"
    body = await asyncio.to_thread(path.read_bytes)
    await _record(request.app, request[USER].name, "download", found, detail=name)
    return web.Response(body=body, content_type="application/json" if kind == "summary"
                        else "text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
