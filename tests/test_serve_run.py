"""`bulkedit serve` runs an approved version's apply itself (issue 31, points 7 and 8): in
the server's loop, by the CLI's engine, journal and lock, sending exactly the approved plan;
progress as Server-Sent Events numbered by the journal, so a reconnect resumes without a
gap or a repeat; cancel stops as SIGTERM does and leaves a resumable run; the run's files
are downloads. The sandbox holds an edit (its `after_edit` hook) to catch a run mid-way:
nothing here sleeps."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
from pathlib import Path

from conftest import KEY, results
from serving import Served, run

from bulkedit.run.config import load_settings
from bulkedit.run.journal import Journal
from bulkedit.sandbox.store import video_id

TWO = [{"name": "ana", "roles": ["editor", "approver"]}, {"name": "ben", "roles": ["approver"]}]
ROWS = 12


def _sheet(rows: int = ROWS) -> bytes:
    lines = ["video_id,title"] + [f"{video_id(n)},Night title {n}" for n in range(1, rows + 1)]
    return ("\n".join(lines) + "\n").encode()


def _settings(tmp_path: Path):
    path = tmp_path / "bulkedit.toml"
    path.write_text("[api]\nrate = 0\nconcurrency = 1\n", encoding="utf-8")
    return load_settings(path)


async def _approved(served: Served, data: bytes | None = None) -> None:
    await served.sign_in("ana")
    assert (await served.upload("edits.csv", data or _sheet())).status == 303
    assert (await served.post_form("/versions/1/plan")).status == 303
    plan = served.state.reviews.of(1).plan.sha256
    await served.sign_in("ben")
    answer = await served.post_form("/versions/1/decision", {"decision": "approve",
                                                             "plan": plan})
    assert answer.status == 303, await answer.text()


async def _open(served: Served, last: int | None = None):
    """The run's event stream, opened (its headers read: the server streams from here)."""
    headers = {"Last-Event-ID": str(last)} if last is not None else {}
    answer = await served.client.get("/versions/1/run/events", headers=headers)
    assert answer.status == 200 and answer.content_type == "text/event-stream"
    return answer


async def _read(answer, until: int | None = None) -> list[tuple[str, int, dict]]:
    """The events of an open stream, to its end (or to the event numbered `until`)."""
    got: list[tuple[str, int, dict]] = []
    fields: dict[str, str] = {}
    try:
        async for raw in answer.content:
            line = raw.decode().rstrip("\n")
            if line:
                name, _, value = line.partition(": ")
                fields[name] = value
                continue
            got.append((fields["event"], int(fields["id"]), json.loads(fields["data"])))
            fields = {}
            if got[-1][0] == "end" or got[-1][1] == until:
                break
    finally:
        answer.close()
    return got


async def _events(served: Served, last: int | None = None, until: int | None = None
                  ) -> list[tuple[str, int, dict]]:
    return await _read(await _open(served, last), until)


class Hold:
    """Holds the sandbox's answer to its `at`-th edit until released (one request in
    flight: [run] concurrency = 1)."""

    def __init__(self, sandbox, at: int) -> None:
        self.sandbox, self.at = sandbox, at
        self.reached, self.released = threading.Event(), threading.Event()
        sandbox.app.after_edit.append(self)

    def __call__(self, _video: str) -> None:
        if sum(self.sandbox.counters.writes.values()) == self.at:
            self.reached.set()
            assert self.released.wait(60)

    async def wait(self) -> None:
        assert await asyncio.to_thread(self.reached.wait, 60)

    def release(self) -> None:
        self.released.set()
        self.sandbox.app.after_edit.remove(self)


async def _cli(*args: str) -> tuple[int, str]:
    """`bulkedit ARGS` in its own process (its own lock file handles), as a user runs it."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bulkedit", *args, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "DAILYMOTION_API_KEY": KEY.key, "DAILYMOTION_API_SECRET": KEY.secret})
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode()


def test_a_run_started_from_the_page_ends_as_the_cli_apply_of_the_plan_ends(api, run_cli,
                                                                            tmp_path):
    sandbox, twin = api(), api()
    kept: dict[str, Path] = {}

    async def test(served: Served) -> None:
        await _approved(served)
        sandbox.store.update(video_id(2), {"title": "Edited in Studio"})  # drift: a conflict
        twin.store.update(video_id(2), {"title": "Edited in Studio"})
        writes = sum(sandbox.counters.writes.values())
        answer = await served.post_form("/versions/1/apply")
        assert answer.status == 303 and answer.headers["Location"] == "/versions/1/run"
        got = await _events(served)
        assert got[-1][0] == "end" and got[-1][2]["state"] == "finished"
        assert sum(sandbox.counters.writes.values()) - writes == ROWS - 1
        page = await (await served.client.get("/versions/1/run")).text()
        assert '<rect class="status" data-status="conflict"' in page  # the SVG, server-drawn
        assert page.count('<rect class="rate') == 30
        assert sandbox.video(video_id(2))["title"] == "Edited in Studio"
        download = await served.client.get("/versions/1/run/results")
        assert download.status == 200
        kept["results"] = tmp_path / "served.results.csv"
        kept["results"].write_bytes(await download.read())
        assert (await served.client.get("/versions/1/run/rollback")).status == 200
        summary = json.loads(await (await served.client.get("/versions/1/run/summary")).read())
        kept["summary"] = summary
        kept["plan"] = served.state.reviews.of(1).decision.plan
        kept["sheet"] = served.state.folder / "sheets" / served.state.uploads[0].digest
        actions = [e.action for e in served.state.journal.events()]
        assert actions.count("apply") == 1 and actions.count("download") == 3
        runs = served.state.journal.runs()
        assert len(runs) == 1 and runs[0].sheet == str(kept["sheet"].resolve())

    run(tmp_path, test, users=TWO, sandbox=sandbox, settings=_settings(tmp_path))
    cli = tmp_path / "cli.results.csv"
    answer = run_cli("apply", str(kept["sheet"]), "--plan", str(kept["plan"]), "--api-base",
                     twin.base_url, "--yes", "--rate", "0", "--results", str(cli),
                     "--state-dir", str(tmp_path / "cli-state"))
    assert answer.code == 1, answer.out + answer.err  # one conflict
    served_rows = [(r["video_id"], r["#status"]) for r in results(kept["results"])]
    assert served_rows == [(r["video_id"], r["#status"]) for r in results(cli)]
    assert dict(served_rows)[video_id(2)] == "conflict"


def test_a_reconnect_with_last_event_id_sees_every_event_once(api, tmp_path):
    sandbox = api()

    async def test(served: Served) -> None:
        await _approved(served)
        hold = Hold(sandbox, 5)
        assert (await served.post_form("/versions/1/apply")).status == 303
        await hold.wait()  # the 5th edit held: the journal's count stands still
        from bulkedit.serve import runs
        from bulkedit.serve.app import RUNS

        served_run = served.client.server.app[RUNS][1]
        now = runs.snapshot(served_run, served.state.journal).seq
        assert now > 0
        first = await _events(served, until=now)  # the tab, then closed
        assert first[-1][1] == now
        later = await _open(served, last=now)  # the page reconnects, the edit still held
        hold.release()
        second = await _read(later)
        ids = [i for _, i, _ in first] + [i for _, i, _ in second]
        assert ids == sorted(set(ids)), ids  # increasing: none twice, none out of order
        assert second[0][1] > now
        end = second[-1]
        assert end[0] == "end" and end[2]["by_status"] == {"updated": ROWS}
        assert end[1] == 2 * ROWS + 1  # every row answered, then settled; then the end

    run(tmp_path, test, users=TWO, sandbox=sandbox, settings=_settings(tmp_path))


def test_cancel_stops_as_sigterm_does_and_the_run_resumes(api, tmp_path):
    sandbox = api()

    async def test(served: Served) -> None:
        await _approved(served)
        hold = Hold(sandbox, 4)
        assert (await served.post_form("/versions/1/apply")).status == 303
        await hold.wait()
        from bulkedit.serve.app import RUNS

        cancelling = asyncio.ensure_future(served.post_form("/versions/1/cancel"))
        await served.client.server.app[RUNS][1].stopping.wait()
        hold.release()  # the request in flight finishes
        assert (await cancelling).status == 303
        got = await _events(served)
        assert got[-1][0] == "end" and got[-1][2]["state"] == "interrupted"
        assert sum(sandbox.counters.writes.values()) == 4  # nothing sent after the cancel
        journal: Journal = served.state.journal
        record = journal.runs()[-1]
        assert record.state == "interrupted"
        # As a SIGTERM leaves an apply: the 4 sent (not read back), the rest not sent.
        assert journal.status_counts(record.id) == {"sent": 4, "skipped": ROWS - 4}
        assert [e.action for e in journal.events()][-2:] == ["apply", "cancel"]
        page = await (await served.client.get("/versions/1/run")).text()
        assert "Resume the apply" in page
        assert (await served.post_form("/versions/1/apply")).status == 303  # resume
        got = await _events(served)
        assert got[-1][2]["state"] == "finished"
        assert got[-1][2]["by_status"] == {"updated": ROWS}
        assert [r.id for r in journal.runs()] == [record.id]  # the same run, resumed
        assert all(n == 1 for n in sandbox.counters.writes.values())  # each video once
        assert len(sandbox.counters.writes) == ROWS

    run(tmp_path, test, users=TWO, sandbox=sandbox, settings=_settings(tmp_path))


def test_the_lock_refuses_a_cli_apply_meanwhile_and_runs_lists_the_run(api, tmp_path):
    sandbox = api()

    async def test(served: Served) -> None:
        await _approved(served)
        hold = Hold(sandbox, 3)
        assert (await served.post_form("/versions/1/apply")).status == 303
        await hold.wait()
        try:
            sheet = served.state.folder / "sheets" / served.state.uploads[0].digest
            plan = served.state.reviews.of(1).decision.plan
            code, out = await _cli("apply", str(sheet), "--plan", str(plan), "--api-base",
                                   sandbox.base_url, "--yes", "--rate", "0",
                                   "--state-dir", str(served.state.journal.folder))
            assert code == 3 and "already" in out.lower(), out
        finally:
            hold.release()
        assert (await _events(served))[-1][2]["state"] == "finished"
        assert sum(sandbox.counters.writes.values()) == ROWS  # the CLI sent nothing
        code, out = await _cli("runs", "--state-dir", str(served.state.journal.folder))
        assert code == 0 and served.state.journal.runs()[-1].id in out, out

    run(tmp_path, test, users=TWO, sandbox=sandbox, settings=_settings(tmp_path))


def test_no_secret_in_the_run_page_its_events_or_its_files(api, tmp_path):
    sandbox = api()

    async def test(served: Served) -> None:
        await _approved(served)
        assert (await served.post_form("/versions/1/apply")).status == 303
        said = [json.dumps(await _events(served))]
        for path in ("/versions/1/run", "/versions/1/run/results", "/versions/1/run/rollback",
                     "/versions/1/run/summary", "/audit", "/versions/1"):
            answer = await served.client.get(path)
            assert answer.status == 200, path
            said.append(await answer.text())
        page = await served.client.get("/versions/1/run")
        assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")
        assert "<script>" not in said[1] and '<script src="/static/app.js"' in said[1]
        secrets = [KEY.key, KEY.secret, *served.tokens.values(), served.session()]
        for text in said:
            for secret in secrets:
                assert secret and secret not in text

    run(tmp_path, test, users=TWO, sandbox=sandbox, settings=_settings(tmp_path))


def test_only_an_approved_version_is_applied_and_only_by_an_approver(api, tmp_path):
    sandbox = api()

    async def test(served: Served) -> None:  # ana: editor only; ben: approver
        await served.sign_in("ana")
        await served.upload("edits.csv", _sheet())
        assert (await served.post_form("/versions/1/plan")).status == 303
        await served.sign_in("ben")
        answer = await served.post_form("/versions/1/apply")
        assert answer.status == 409 and "only an approved version" in await answer.text()
        plan = served.state.reviews.of(1).plan.sha256
        assert (await served.post_form("/versions/1/decision", {
            "decision": "approve", "plan": plan})).status == 303
        await served.sign_in("ana")
        answer = await served.post_form("/versions/1/apply")
        assert answer.status == 403 and "only an approver may" in await answer.text()
        assert "/versions/1/apply" not in await (await served.client.get("/versions/1")).text()
        assert sum(sandbox.counters.writes.values()) == 0
        assert served.state.journal.runs() == []

    run(tmp_path, test, sandbox=sandbox, settings=_settings(tmp_path))


def test_a_declined_or_voided_version_is_never_applied(api, tmp_path):
    """The approval must still stand when the apply is asked: a declined version, and an
    approved one whose sheet was uploaded again since, are refused and send nothing."""
    sandbox = api()

    async def test(served: Served) -> None:
        await served.sign_in("ana")
        await served.upload("declined.csv", _sheet())
        assert (await served.post_form("/versions/1/plan")).status == 303
        await served.sign_in("ben")
        assert (await served.post_form("/versions/1/decision", {
            "decision": "decline", "plan": served.state.reviews.of(1).plan.sha256,
            "comment": "no"})).status == 303
        answer = await served.post_form("/versions/1/apply")
        assert answer.status == 409 and "only an approved version" in await answer.text()

        await served.sign_in("ana")
        await served.upload("edits.csv", _sheet())
        assert (await served.post_form("/versions/2/plan")).status == 303
        await served.sign_in("ben")
        assert (await served.post_form("/versions/2/decision", {
            "decision": "approve", "plan": served.state.reviews.of(2).plan.sha256})
                ).status == 303
        await served.sign_in("ana")
        await served.upload("edits.csv", _sheet(ROWS - 1))  # version 3 voids version 2
        await served.sign_in("ben")
        answer = await served.post_form("/versions/2/apply")
        assert answer.status == 409 and "only an approved version" in await answer.text()
        assert sum(sandbox.counters.writes.values()) == 0
        assert served.state.journal.runs() == []

    run(tmp_path, test, sandbox=sandbox, settings=_settings(tmp_path))
