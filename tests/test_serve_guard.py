"""`bulkedit serve`'s guard: every request passes it, whatever its route, and each check
refuses on its own (each test leaves every other check satisfied, so it fails when its
own check is removed)."""

from __future__ import annotations

import pytest
from serving import EDITOR_AND_APPROVER, Served, run

from bulkedit.serve.guard import SECURITY_HEADERS
from bulkedit.serve.origins import loopback_host, own_origin

SHEET = b"video_id,title\nx800000,New title\n"


def test_the_signed_in_page_s_own_upload_passes(tmp_path):
    # The control for every refusal below: the same request, from the page, is taken.
    async def test(served: Served) -> None:
        await served.sign_in()
        answer = await served.upload("edits.csv", SHEET)
        assert answer.status == 303 and answer.headers["Location"] == "/versions/1"
        assert len(served.stored()) == 1

    run(tmp_path, test, users=EDITOR_AND_APPROVER)


def test_no_cookie_no_page_and_no_upload(tmp_path):
    async def test(served: Served) -> None:
        for path in ("/", "/versions/1", "/static/app.js", "/nowhere"):
            answer = await served.client.get(path, allow_redirects=False)
            assert answer.status == 401, path
            assert "open the link" in await answer.text()
        answer = await served.upload("edits.csv", SHEET)
        assert answer.status == 401
        assert served.stored() == []

    run(tmp_path, test, users=EDITOR_AND_APPROVER)


def test_a_wrong_token_or_session_signs_no_one_in(tmp_path):
    async def test(served: Served) -> None:
        wrong = served.tokens["ana"][:-2] + ("AA" if not served.tokens["ana"].endswith("AA")
                                             else "BB")
        answer = await served.client.get(f"/?token={wrong}", allow_redirects=False)
        assert answer.status == 403
        assert "Set-Cookie" not in answer.headers
        assert served.session() is None
        served.client.session.cookie_jar.update_cookies(
            {f"bulkedit-session-{served.port}": served.tokens["ana"]})  # a token is no session
        answer = await served.client.get("/", allow_redirects=False)
        assert answer.status == 401

    run(tmp_path, test, users=EDITOR_AND_APPROVER)


def test_the_link_becomes_a_strict_http_only_cookie_and_leaves_the_address(tmp_path):
    async def test(served: Served) -> None:
        answer = await served.client.get(f"/versions/1?token={served.tokens['ben']}&page=2",
                                         allow_redirects=False)
        assert answer.status == 303
        assert answer.headers["Location"] == "/versions/1?page=2"
        cookie = answer.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert served.tokens["ben"] not in cookie  # the session is a value of its own
        page = await served.client.get("/")
        assert page.status == 200
        assert "ben (approver)" in await page.text()

    run(tmp_path, test, users=EDITOR_AND_APPROVER)


def test_a_rebinding_host_is_refused(tmp_path):
    # DNS rebinding: evil.example resolves to 127.0.0.1, and the browser, signed in, sends
    # its cookie for 127.0.0.1 with Host: evil.example.
    async def test(served: Served) -> None:
        await served.sign_in()
        for host in (f"evil.example:{served.port}", "evil.example", f"127.0.0.1:{served.port + 1}"):
            answer = await served.client.get("/", headers={"Host": host})
            assert answer.status == 403, host
            assert "answers only at" in await answer.text()

    run(tmp_path, test, users=EDITOR_AND_APPROVER)


def test_a_look_alike_host_is_refused(tmp_path):
    async def test(served: Served) -> None:
        await served.sign_in()
        port = served.port
        for host in (f"127.0.0.1.evil.example:{port}", f"localhost.evil.example:{port}",
                     f"127.0.0.1:{port}.evil.example", f"evil.example@127.0.0.1:{port}",
                     f"127.0.0.1:{port}@evil.example", f"127.0.0.1 :{port}",
                     f"127.0.0.1:0{port}x", f"LOCALHOST:{port}"):
            answer = await served.client.get("/", headers={"Host": host})
            assert answer.status == 403, host
        answer = await served.upload("edits.csv", SHEET,
                                     headers={**served.page_headers(),
                                              "Host": f"127.0.0.1.evil.example:{port}"})
        assert answer.status == 403
        assert served.stored() == []

    run(tmp_path, test, users=EDITOR_AND_APPROVER)


def test_a_cross_site_origin_is_refused(tmp_path):
    async def test(served: Served) -> None:
        await served.sign_in()
        for origin in ("http://evil.example", "null", None):
            headers = {} if origin is None else {"Origin": origin}  # no Sec-Fetch-Site
            answer = await served.upload("edits.csv", SHEET, headers=headers)
            assert answer.status == 403, origin
            assert "(Origin)" in await answer.text()
        assert served.stored() == []

    run(tmp_path, test, users=EDITOR_AND_APPROVER)


def test_a_look_alike_origin_is_refused(tmp_path):
    async def test(served: Served) -> None:
        await served.sign_in()
        own = served.origin
        for origin in (f"{own}.evil.example", f"{own}@evil.example", f"{own}/", f"{own}/x",
                       own.replace("http:", "https:"), f"http://localhost:{served.port}",
                       f"http://127.0.0.1:{served.port + 1}", own.upper()):
            answer = await served.upload("edits.csv", SHEET, headers={"Origin": origin})
            assert answer.status == 403, origin
        assert served.stored() == []

    run(tmp_path, test, users=EDITOR_AND_APPROVER)


def test_sec_fetch_site_cross_site_is_refused(tmp_path):
    async def test(served: Served) -> None:
        await served.sign_in()
        for site in ("cross-site", "same-site", "none"):
            answer = await served.upload("edits.csv", SHEET,
                                         headers=served.page_headers(**{"Sec-Fetch-Site": site}))
            assert answer.status == 403, site
            assert "(Sec-Fetch-Site)" in await answer.text()
        assert served.stored() == []

    run(tmp_path, test, users=EDITOR_AND_APPROVER)


def test_a_wrong_content_type_is_refused(tmp_path):
    # A cross-site form may post text/plain or urlencoded; the upload takes multipart only.
    async def test(served: Served) -> None:
        await served.sign_in()
        for kind, body in (("text/plain", SHEET), ("application/x-www-form-urlencoded",
                                                   b"sheet=x"), ("application/json", b"{}")):
            answer = await served.client.post(
                "/uploads", data=body,
                headers=served.page_headers(**{"Content-Type": kind}))
            assert answer.status == 415, kind
        assert served.stored() == []

    run(tmp_path, test, users=EDITOR_AND_APPROVER)


def test_get_changes_nothing(tmp_path):
    async def test(served: Served) -> None:
        await served.sign_in()
        answer = await served.client.get("/uploads", headers=served.page_headers())
        assert answer.status == 405
        assert served.stored() == [] and served.state.uploads == []

    run(tmp_path, test, users=EDITOR_AND_APPROVER)


def test_only_an_editor_uploads(tmp_path):
    async def test(served: Served) -> None:
        await served.sign_in("ben")
        answer = await served.upload("edits.csv", SHEET)
        assert answer.status == 403
        assert served.stored() == []
        assert 'action="/uploads"' not in await (await served.client.get("/")).text()

    run(tmp_path, test, users=EDITOR_AND_APPROVER)


def test_every_answer_carries_the_security_headers(tmp_path):
    async def test(served: Served) -> None:
        answers = [await served.client.get("/")]  # 401
        answers.append(await served.client.get("/", headers={"Host": "evil.example"}))  # 403
        await served.sign_in()
        for path in ("/", "/static/app.js", "/static/style.css", "/nowhere", "/versions/9"):
            answers.append(await served.client.get(path))
        answers.append(await served.upload("edits.csv", SHEET))  # 303
        answers.append(await served.upload("big.csv", b"x" * (2 << 20)))  # 413
        assert {a.status for a in answers} == {200, 303, 401, 403, 404, 413}
        for answer in answers:
            for name, value in SECURITY_HEADERS.items():
                assert answer.headers.get(name) == value, (answer.url, answer.status, name)
        csp = SECURITY_HEADERS["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp

    run(tmp_path, test, users=EDITOR_AND_APPROVER)


@pytest.mark.parametrize("host,ok", [("127.0.0.1:8787", True), ("localhost:8787", True),
                                     ("[::1]:8787", True), ("127.0.0.1", False),
                                     ("127.0.0.1:8788", False), ("127.0.0.1.evil.example:8787",
                                                                 False),
                                     ("127.0.0.1:8787.evil.example", False), ("", False),
                                     (None, False), ("127.0.0.2:8787", False),
                                     ("127.0.0.1:+8787", False)])
def test_loopback_host_is_an_exact_parse(host, ok):
    assert loopback_host(host, 8787) is ok


def test_own_origin_is_an_exact_comparison():
    assert own_origin("http://127.0.0.1:8787", "127.0.0.1:8787")
    assert not own_origin("http://127.0.0.1:8787", "localhost:8787")
    assert not own_origin("http://evil.example", "evil.example")  # the host is checked too
    assert not own_origin(None, "127.0.0.1:8787")
