"""`bulkedit serve` in a real browser (issue 31, point 10): an editor's link signs them in
and leaves the address bar without the token; the session cookie is HttpOnly and
SameSite=Strict; an uploaded sheet shows validate's problems first, with the same counts;
and the page asks nothing of any address but the server's."""

from __future__ import annotations

import json
import re
from pathlib import Path

from browser import browser, keep_screenshot, served

from bulkedit.cli.main import main

USERS = [{"name": "ana", "roles": ["editor"]}, {"name": "ben", "roles": ["approver"]}]


def _sheet_with_problems(folder: Path) -> Path:
    path = folder / "tonight.csv"
    path.write_text("video_id,title,channel,published\n"
                    "x8abc12,A good title,news,yes\n"
                    "x8abc13,,nwes,maybe\n"
                    "not-an-id,Another,sport,no\n", encoding="utf-8")
    return path


def _validate_counts(path: Path) -> dict:
    import io

    out = io.StringIO()
    main(["validate", str(path), "--json"], out=out, err=io.StringIO())
    return json.loads(out.getvalue())


def test_an_editor_signs_in_uploads_and_sees_the_problems_first(tmp_path):
    sheet = _sheet_with_problems(tmp_path)
    said = _validate_counts(sheet)
    with served(tmp_path / "state", USERS) as server, browser() as opened:
        page = opened.page()
        page.goto(server.links["ana"])
        assert page.url == f"{server.origin}/"  # the token dropped from the address bar
        assert page.locator(".who").inner_text() == "ana (editor)"
        cookies = opened.context.cookies()
        assert len(cookies) == 1
        assert cookies[0]["httpOnly"] and cookies[0]["sameSite"] == "Strict"
        token = server.links["ana"].split("token=", 1)[1]
        assert token not in cookies[0]["value"] and token not in page.content()

        page.set_input_files("input[name=sheet]", str(sheet))
        with page.expect_navigation():
            page.click("form.upload button[type=submit]")
        # The page's own form passes the guard (a refusal would leave the page at /uploads).
        assert re.fullmatch(rf"{re.escape(server.origin)}/versions/\d+", page.url), (
            page.content()[-1500:])
        counts = {name: int(page.locator(f'#counts [data-count="{name}"]').inner_text()
                            .replace(",", ""))
                  for name in ("rows", "errors", "warnings")}
        assert counts == {name: said["counts"][name] for name in counts}
        shown = sorted(page.locator("li.problem").evaluate_all(
            "items => items.map(i => i.dataset.code)"))
        assert shown == sorted(p["code"] for p in said["problems"])
        keep_screenshot(page, "serve-problems.png", tmp_path)
    assert opened.requests and all(url.startswith(f"{server.origin}/")
                                   for url in opened.requests), opened.requests
