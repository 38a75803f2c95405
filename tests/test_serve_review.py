"""`bulkedit serve`'s review (issue 31, points 5 and 6): the plan on the page is `bulkedit
plan`'s, against the sandbox's live values; an approver approves or declines the exact plan
shown, by its hash; the uploader may not approve their own upload when [serve] asks for a
second person; a new upload voids an approval; and rows that drift after the approval are
conflicts, in the page's check and in an `apply --plan` of the approved plan."""

from __future__ import annotations

import hashlib
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import results
from serving import Served, run

from bulkedit.core.errors import UsageError
from bulkedit.run.config import load_settings
from bulkedit.run.savedplan import load_plan
from bulkedit.sandbox.store import video_id
from bulkedit.serve.server import ServeOptions, serve_state

TWO = [{"name": "ana", "roles": ["editor", "approver"]}, {"name": "ben", "roles": ["approver"]}]


class _Review(HTMLParser):
    """What the review section shows, by its data-* attributes and ids."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.statuses: dict[str, int] = {}
        self.fields: dict[str, int] = {}
        self.plan_rows: list[tuple[int, str, bool]] = []  # (row, status, no rollback)
        self.texts: dict[str, str] = {}
        self.forms: list[str] = []
        self.stage = ""
        self._into: tuple[str, str] | None = None
        self._id: str | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if tag == "section" and found.get("id") == "review":
            self.stage = found.get("data-stage") or ""
        if tag == "form":
            self.forms.append(found.get("action") or "")
        if tag == "dd" and "data-status" in found:
            self._into = ("status", found["data-status"])
        elif tag == "td" and "data-field" in found:
            self._into = ("field", found["data-field"])
        if tag == "tr" and "data-status" in found:
            self.plan_rows.append((int(found["data-row"]), found["data-status"],
                                   "lasting" in (found.get("class") or "").split()))
        if found.get("id"):
            self._id = found["id"]
            self.texts[self._id] = ""

    def handle_endtag(self, tag):
        if tag in ("p", "code"):
            self._id = None

    def handle_data(self, data):
        if self._into is not None:
            kind, name = self._into
            (self.statuses if kind == "status" else self.fields)[name] = int(
                data.replace(",", ""))
            self._into = None
        if self._id is not None:
            self.texts[self._id] += data


def _sheet() -> bytes:
    return ("video_id,title,tags,password\n"
            f"{video_id(1)},<script>alert(1)</script>,,\n"
            f"{video_id(2)},,+summer,\n"
            f"{video_id(3)},Title three,,s3cret-video-pass\n"
            "x8zzzzz,Nobody's video,,\n").encode()


def _plan_json(run_cli, sandbox, path: Path) -> dict:
    answer = run_cli("plan", str(path), "--api-base", sandbox.base_url, "--json",
                     "--html", str(path.with_suffix(".html")),
                     "--report", str(path.with_suffix(".xlsx")))
    assert answer.code in (0, 1), answer.err
    return json.loads(answer.out)


async def _review(served: Served, number: int = 1) -> _Review:
    answer = await served.client.get(f"/versions/{number}")
    assert answer.status == 200
    return _Review(await answer.text())


async def _planned(served: Served, number: int = 1) -> _Review:
    answer = await served.post_form(f"/versions/{number}/plan")
    assert answer.status == 303, await answer.text()
    return await _review(served, number)


async def _decide(served: Served, number: int, decision: str, plan: str,
                  comment: str = "") -> tuple[int, str]:
    answer = await served.post_form(f"/versions/{number}/decision",
                                    {"decision": decision, "plan": plan, "comment": comment})
    return answer.status, await answer.text()


def test_the_page_shows_bulkedit_plans_plan_counted_the_lasting_rows_first(api, run_cli,
                                                                           tmp_path):
    sandbox = api()
    path = tmp_path / "edits.csv"
    path.write_bytes(_sheet())
    cli = _plan_json(run_cli, sandbox, path)
    reads_before = sandbox.counters.requests["list_videos"]

    async def test(served: Served) -> None:
        await served.sign_in()
        await served.upload("edits.csv", _sheet())
        page = await _planned(served)
        assert sandbox.counters.requests["list_videos"] > reads_before  # live values read
        assert sum(sandbox.counters.writes.values()) == 0  # a plan writes nothing
        assert page.statuses == cli["counts"]
        changed: dict[str, int] = {}
        for row in cli["plan"]:
            for change in row["changes"]:
                changed[change["field"]] = changed.get(change["field"], 0) + 1
        assert page.fields == changed
        # The password's change cannot be undone by a rollback sheet: its row comes first.
        assert page.plan_rows[0] == (4, "change", True)
        assert sorted(r for r, _, _ in page.plan_rows) == [r["row"] for r in cli["plan"]]
        assert {r: s for r, s, _ in page.plan_rows} == {r["row"]: r["status"]
                                                       for r in cli["plan"]}
        calls = cli["apply_would_make"]["calls"]
        assert f"An apply will make {calls} API calls" in page.texts["estimate"]
        assert "1 row holds changes no rollback sheet can undo" in page.texts["lasting"]
        text = await (await served.client.get("/versions/1")).text()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "<script>alert" not in text
        assert "s3cret-video-pass" not in text  # a password is *** here as in the report

    run(tmp_path, test, users=TWO, sandbox=sandbox)


def test_approving_your_own_upload_is_refused_when_two_people_are_required(api, tmp_path):
    sandbox = api()

    async def test(served: Served) -> None:
        await served.sign_in("ana")
        await served.upload("edits.csv", _sheet())
        page = await _planned(served)
        plan = page.texts["plan-sha256"]
        assert "/versions/1/decision" not in page.forms
        assert "ana uploaded this version: another approver must decide it" in \
            (await (await served.client.get("/versions/1")).text())
        for decision in ("approve", "decline"):
            status, text = await _decide(served, 1, decision, plan)
            assert status == 403 and "another approver must decide it" in text
        assert served.state.reviews.of(1).decision is None
        assert not (served.state.folder / "approved").exists()
        await served.sign_in("ben")
        assert "/versions/1/decision" in (await _review(served)).forms
        assert await _decide(served, 1, "approve", plan, "ok for tonight") == (303, "")
        decision = served.state.reviews.of(1).decision
        upload = served.state.uploads[0]
        assert (decision.approved, decision.by, decision.comment) == (True, "ben",
                                                                      "ok for tonight")
        assert decision.sheet_sha256 == upload.digest == hashlib.sha256(_sheet()).hexdigest()
        assert decision.plan_sha256 == plan
        assert hashlib.sha256(decision.plan.read_bytes()).hexdigest() == plan
        assert (await _review(served)).stage == "approved"

    run(tmp_path, test, users=TWO, sandbox=sandbox, second_person=True)


def test_approving_your_own_upload_is_allowed_when_one_person_may(api, tmp_path):
    sandbox = api()

    async def test(served: Served) -> None:
        await served.sign_in("ana")
        await served.upload("edits.csv", _sheet())
        plan = (await _planned(served)).texts["plan-sha256"]
        assert await _decide(served, 1, "approve", plan) == (303, "")
        assert served.state.reviews.of(1).decision.by == "ana"

    run(tmp_path, test, users=TWO, sandbox=sandbox)


def test_an_editor_who_is_no_approver_may_plan_but_never_decide(api, tmp_path):
    sandbox = api()

    async def test(served: Served) -> None:
        await served.sign_in("ana")  # editor only
        await served.upload("edits.csv", _sheet())
        plan = (await _planned(served)).texts["plan-sha256"]
        status, text = await _decide(served, 1, "approve", plan)
        assert status == 403 and "only an approver may" in text

    run(tmp_path, test, sandbox=sandbox)


def test_the_approval_is_of_the_plan_shown_never_of_one_made_since(api, tmp_path):
    sandbox = api()

    async def test(served: Served) -> None:
        await served.sign_in("ana")
        await served.upload("edits.csv", _sheet())
        first = (await _planned(served)).texts["plan-sha256"]
        sandbox.store.update(video_id(2), {"tags": ["changed", "meanwhile"]})
        second = (await _planned(served)).texts["plan-sha256"]
        assert first != second
        await served.sign_in("ben")
        status, text = await _decide(served, 1, "approve", first)
        assert status == 403 and "not this version's plan any more" in text
        assert await _decide(served, 1, "approve", second) == (303, "")
        assert served.state.reviews.of(1).decision.plan_sha256 == second

    run(tmp_path, test, users=TWO, sandbox=sandbox, second_person=True)


def test_a_decline_is_kept_with_its_comment_and_is_final(api, tmp_path):
    sandbox = api()

    async def test(served: Served) -> None:
        await served.sign_in("ana")
        await served.upload("edits.csv", _sheet())
        plan = (await _planned(served)).texts["plan-sha256"]
        await served.sign_in("ben")
        assert await _decide(served, 1, "decline", plan, "row 3: wrong <b>title</b>") == (
            303, "")
        page = await _review(served)
        assert page.stage == "declined"
        text = await (await served.client.get("/versions/1")).text()
        assert "row 3: wrong &lt;b&gt;title&lt;/b&gt;" in text
        status, said = await _decide(served, 1, "approve", plan)
        assert status == 403 and "declined already, by ben" in said
        assert not (served.state.folder / "approved").exists()

    run(tmp_path, test, users=TWO, sandbox=sandbox, second_person=True)


def test_a_new_upload_of_the_sheet_voids_its_approval(api, tmp_path):
    sandbox = api()

    async def test(served: Served) -> None:
        await served.sign_in("ana")
        await served.upload("edits.csv", _sheet())
        plan = (await _planned(served)).texts["plan-sha256"]
        await served.sign_in("ben")
        assert await _decide(served, 1, "approve", plan) == (303, "")
        approved = served.state.reviews.of(1).decision.plan
        assert approved.exists()
        await served.sign_in("ana")
        await served.upload("other.csv", _sheet())  # another sheet: no effect on it
        assert served.state.reviews.of(1).stage == "approved" and approved.exists()
        await served.upload("edits.csv", _sheet() + f"{video_id(9)},More,,\n".encode())
        assert served.state.reviews.of(1).stage == "void"
        assert not approved.exists()  # no apply can take the voided plan
        page = await _review(served, 1)
        assert page.stage == "void" and "/versions/1/plan" not in page.forms
        await served.sign_in("ben")
        status, text = await _decide(served, 1, "approve", plan)
        assert status == 403 and "version 3 of this sheet was uploaded since" in text
        assert (await _review(served, 3)).stage == "uploaded"  # the new one: its own review

    run(tmp_path, test, users=TWO, sandbox=sandbox, second_person=True)


def test_drift_after_the_approval_is_a_conflict_in_the_approved_plan(api, run_cli, tmp_path):
    sandbox = api()
    kept: dict[str, Path] = {}

    async def test(served: Served) -> None:
        await served.sign_in("ana")
        await served.upload("edits.csv", _sheet())
        plan = (await _planned(served)).texts["plan-sha256"]
        await served.sign_in("ben")
        assert await _decide(served, 1, "approve", plan) == (303, "")
        sandbox.store.update(video_id(1), {"title": "Edited in Studio"})
        page = await _planned(served)  # the approved plan, checked against live values
        assert page.stage == "approved"
        assert dict((r, s) for r, s, _ in page.plan_rows)[2] == "conflict"
        assert [s for r, s, _ in page.plan_rows if r != 2].count("conflict") == 0
        assert "1 row changed on Dailymotion since the approval" in page.texts["conflicts"]
        assert served.state.reviews.of(1).decision.plan_sha256 == plan  # still the same
        kept["plan"] = served.state.reviews.of(1).decision.plan
        kept["sheet"] = served.state.folder / "sheets" / served.state.uploads[0].digest

    run(tmp_path, test, users=TWO, sandbox=sandbox, second_person=True)
    # An apply of the approved plan (docs/serve.md) sends exactly it: the drifted row not.
    assert load_plan(kept["plan"], kept["sheet"]).sheet_sha256 == hashlib.sha256(
        _sheet()).hexdigest()
    out = tmp_path / "applied.results.csv"
    answer = run_cli("apply", str(kept["sheet"]), "--plan", str(kept["plan"]), "--api-base",
                     sandbox.base_url, "--yes", "--rate", "0", "--results", str(out),
                     "--rollback", str(tmp_path / "applied.rollback.csv"))
    assert answer.code == 1, answer.out + answer.err
    statuses = {r["video_id"]: r["#status"] for r in results(out)}
    assert statuses[video_id(1)] == "conflict"
    assert statuses[video_id(2)] == "updated"
    assert statuses[video_id(3)] == "sent"  # a password cannot be read back
    assert sandbox.video(video_id(3))["title"] == "Title three"
    assert sandbox.video(video_id(1))["title"] == "Edited in Studio"
    assert "summer" in sandbox.video(video_id(2))["tags"]


def test_require_second_person_is_read_from_the_serve_section(tmp_path):
    config = tmp_path / "bulkedit.toml"
    config.write_text("[serve]\nrequire_second_person = true\n", encoding="utf-8")
    config.chmod(0o600)
    state = serve_state(ServeOptions(0, load_settings(config), state_dir=tmp_path / "s"))
    try:
        assert state.second_person is True
    finally:
        state.journal.close()
    assert serve_state(ServeOptions(0, load_settings(None), state_dir=tmp_path / "t")
                       ).second_person is False
    config.write_text('[serve]\nrequire_second_person = "yes"\n', encoding="utf-8")
    with pytest.raises(UsageError, match=r"\[serve\] require_second_person has the wrong type"):
        load_settings(config)


def test_a_plan_that_cannot_be_made_says_why_on_the_page(monkeypatch, tmp_path):
    monkeypatch.delenv("DAILYMOTION_API_KEY", raising=False)
    monkeypatch.delenv("DAILYMOTION_API_SECRET", raising=False)

    async def test(served: Served) -> None:
        await served.sign_in("ana")
        await served.upload("edits.csv", _sheet())
        page = await _planned(served)
        assert "no API credentials: set DAILYMOTION_API_KEY" in page.texts["plan-problem"]
        assert page.stage == "uploaded" and served.state.reviews.of(1).plan is None
        events = served.state.journal.events()
        assert [(e.action, e.detail.startswith("no plan: no API credentials")) for e in events
                ] == [("upload", False), ("plan", True)]

    run(tmp_path, test, users=TWO)
