"""`bulkedit serve`'s audit trail (issue 31, point 9): upload, plan, approve, decline and
download each leave one event in the run journal (actor, time, hashes, comment), shown on
the page and exported as a CSV that holds exactly those events, every cell safe for Excel;
and no secret, token or session is in any page or in the CSV."""

from __future__ import annotations

import csv
import hashlib
import io
import time
from pathlib import Path

from conftest import SECRET
from serving import Served, run

from bulkedit.run.journal import Journal
from bulkedit.sandbox.store import video_id
from bulkedit.serve.audit import HEADERS, when

TWO = [{"name": "ana", "roles": ["editor"]}, {"name": "ben", "roles": ["approver"]}]
FORMULAS = ("=HYPERLINK(\"http://evil.example\",\"click\")", "+1+1", "-2+3", "@SUM(A1)",
            "\tTAB", "\rCR")


def _sheet(title: str = "New title") -> bytes:
    return (f"video_id,title\n{video_id(1)},{title}\n{video_id(2)},Other\n"
            "x8zzzzz,=1+1\n").encode()


async def _plan(served: Served, number: int) -> str:
    assert (await served.post_form(f"/versions/{number}/plan")).status == 303
    return served.state.reviews.of(number).plan.sha256


async def _decide(served: Served, number: int, decision: str, comment: str) -> None:
    answer = await served.post_form(f"/versions/{number}/decision", {
        "decision": decision, "plan": served.state.reviews.of(number).plan.sha256,
        "comment": comment})
    assert answer.status == 303, await answer.text()


async def _story(served: Served) -> None:
    """ana uploads and plans; ben declines; ana uploads again; ben plans it, approves it,
    and downloads the problems."""
    await served.sign_in("ana")
    await served.upload("night.csv", _sheet())
    await _plan(served, 1)
    await served.sign_in("ben")
    await _decide(served, 1, "decline", "title of row 2: " + FORMULAS[0])
    await served.sign_in("ana")
    await served.upload("night.csv", _sheet("Better title"))
    await served.sign_in("ben")
    await _plan(served, 2)
    await _decide(served, 2, "approve", " ; ".join(FORMULAS[1:]))
    assert (await served.client.get("/versions/2/problems.csv")).status == 200


def test_each_action_leaves_one_event_with_its_actor_time_hashes_and_comment(api, tmp_path):
    sandbox = api()

    async def test(served: Served) -> None:
        started = time.time()
        await _story(served)
        events = served.state.journal.events()
        assert [(e.action, e.actor, e.version) for e in events] == [
            ("upload", "ana", 1), ("plan", "ana", 1), ("decline", "ben", 1),
            ("upload", "ana", 2), ("plan", "ben", 2), ("approve", "ben", 2),
            ("download", "ben", 2)]
        assert [e.seq for e in events] == sorted(e.seq for e in events)
        assert all(started <= e.at <= time.time() for e in events)
        first, second = (served.state.uploads[n].digest for n in (0, 1))
        assert first == hashlib.sha256(_sheet()).hexdigest()
        assert [e.sheet_sha256 for e in events] == [first] * 3 + [second] * 4
        plans = [served.state.reviews.of(n).plan.sha256 for n in (1, 2)]
        assert [e.plan_sha256 for e in events] == ["", plans[0], plans[0], "", plans[1],
                                                   plans[1], ""]
        assert events[2].comment == "title of row 2: " + FORMULAS[0]
        assert events[5].comment == " ; ".join(FORMULAS[1:]).strip()
        assert events[6].detail == "version-2.problems.csv"
        assert all(e.sheet == "night.csv" for e in events)
        # Shown on the pages: the sheet's own, and the whole trail.
        for path in ("/versions/2", "/audit"):
            text = await (await served.client.get(path)).text()
            assert text.count('<tr data-action="') == 7, path
            assert "title of row 2: =HYPERLINK(&#34;http://evil.example&#34;" in text

    run(tmp_path, test, users=TWO, sandbox=sandbox, second_person=True)
    # In the journal, for good: a journal opened afresh holds every event.
    journal = Journal(tmp_path / "state")
    try:
        assert [e.action for e in journal.events()] == [
            "upload", "plan", "decline", "upload", "plan", "approve", "download"]
    finally:
        journal.close()


def test_the_audit_csv_holds_exactly_the_events_every_cell_safe_for_excel(api, tmp_path):
    sandbox = api()

    async def test(served: Served) -> None:
        await _story(served)
        events = served.state.journal.events()
        answer = await served.client.get("/audit.csv")
        assert answer.status == 200 and answer.content_type == "text/csv"
        assert 'filename="audit.csv"' in answer.headers["Content-Disposition"]
        body = await answer.read()
        assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, for Excel
        lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
        assert tuple(lines[0]) == HEADERS
        assert len(lines) == 1 + len(events)
        for line, event in zip(lines[1:], events, strict=True):
            shown = [str(event.seq), when(event.at), event.actor, event.action, event.sheet,
                     str(event.version or ""), event.sheet_sha256, event.plan_sha256,
                     event.comment, event.detail]
            assert [cell[1:] if cell.startswith("'") else cell for cell in line] == shown
            for cell in line:  # nothing Excel would evaluate
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
        assert lines[3][8] == "title of row 2: " + FORMULAS[0]  # not a formula at its start
        approve = lines[6]
        assert approve[3] == "approve" and approve[8].startswith("'+1+1")
        # The download itself is the trail's next event.
        assert [(e.action, e.detail) for e in served.state.journal.events()[len(events):]
                ] == [("download", "audit.csv")]

    run(tmp_path, test, users=TWO, sandbox=sandbox, second_person=True)


def test_a_comment_that_starts_a_formula_is_text_in_the_csv(api, tmp_path):
    sandbox = api()

    async def test(served: Served) -> None:
        await served.sign_in("ana")
        await served.upload("night.csv", _sheet())
        await _plan(served, 1)
        await served.sign_in("ben")
        for number, formula in enumerate(FORMULAS[:4], start=1):
            if number > 1:
                await served.sign_in("ana")
                await served.upload("night.csv", _sheet(f"Title {number}"))
                await served.sign_in("ben")
                await _plan(served, number)
            await _decide(served, number, "decline", formula)
        body = (await (await served.client.get("/audit.csv")).read()).decode("utf-8-sig")
        comments = [line[8] for line in csv.reader(io.StringIO(body, newline=""))
                    if line[3] == "decline"]
        assert comments == [f"'{f}" for f in FORMULAS[:4]]

    run(tmp_path, test, users=TWO, sandbox=sandbox, second_person=True)


def test_no_secret_token_or_session_in_any_page_or_the_csv(api, tmp_path):
    sandbox = api()
    seen: list[bytes] = []

    async def test(served: Served) -> None:
        await _story(served)
        sessions = []
        for user in ("ana", "ben"):
            await served.sign_in(user)
            sessions.append(served.session())
            for path in ("/", "/versions/1", "/versions/2", "/versions/2?only=problems",
                         "/audit", "/audit.csv", "/versions/2/problems.csv"):
                answer = await served.client.get(path)
                assert answer.status == 200, path
                seen.append(await answer.read())
                seen.append("\n".join(f"{k}: {v}" for k, v in answer.headers.items()
                                      ).encode())
        kept = served.state.reviews.of(2).decision.plan
        seen.append(kept.read_bytes())  # the approved plan an apply sends
        secrets = [SECRET, *served.tokens.values(), *filter(None, sessions),
                   *sandbox.app.tokens]
        assert sandbox.app.tokens  # the plans asked for a token: it must be nowhere
        for blob in seen:
            for secret in secrets:
                assert secret.encode() not in blob

    run(tmp_path, test, users=TWO, sandbox=sandbox, second_person=True)
    assert Path(tmp_path / "state" / "journal.sqlite").exists()
