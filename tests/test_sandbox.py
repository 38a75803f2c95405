"""The API sandbox, spoken to over HTTP the way any client written from the docs would."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from bulkedit.sandbox import AccountTier, ApiKey, Sandbox, SandboxConfig
from bulkedit.sandbox.store import seed_videos, video_id


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Client:
    """A minimal client written from the docs, not bulkedit's own."""

    def __init__(self, sandbox: Sandbox, http: aiohttp.ClientSession):
        self.sandbox = sandbox
        self.http = http
        self.base = sandbox.base_url

    async def token(self, key: str | None = None, secret: str | None = None,
                    scope: str = "manage_videos", grant: str = "client_credentials"
                    ) -> tuple[int, dict[str, Any]]:
        default_key, default_secret = self.sandbox.key
        form = {"grant_type": grant, "client_id": key or default_key,
                "client_secret": secret or default_secret, "scope": scope}
        async with self.http.post(f"{self.base}/oauth/v1/token", data=form) as response:
            return response.status, await response.json()

    async def access_token(self, **kwargs: Any) -> str:
        status, body = await self.token(**kwargs)
        assert status == 200, body
        return body["access_token"]

    async def call(self, method: str, path: str, token: str | None, data: dict | None = None,
                   timeout: float = 10) -> tuple[int, Any, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.http.request(method, f"{self.base}/rest{path}", headers=headers,
                                     data=data, timeout=aiohttp.ClientTimeout(total=timeout)
                                     ) as response:
            body = (await response.json() if response.content_type == "application/json"
                    else await response.text())
            return response.status, body, response.headers


def run(scenario: Callable[[Client], Awaitable[Any]], config: SandboxConfig | None = None,
        clock: Callable[[], float] = time.monotonic) -> Any:
    async def main() -> Any:
        async with Sandbox(config or SandboxConfig(videos=60), clock=clock) as sandbox:
            connector = aiohttp.TCPConnector(force_close=True)  # no silent client retries
            async with aiohttp.ClientSession(connector=connector) as http:
                return await scenario(Client(sandbox, http))
    return asyncio.run(main())


def error_type(body: dict) -> str:
    return body["error"]["type"]


# ----------------------------------------------------------------------------- state

def test_seed_is_deterministic_and_realistic():
    first, again = seed_videos(500, 5, 3), seed_videos(500, 5, 3)
    assert first == again and first != seed_videos(500, 5, 4)
    assert [v["id"] for v in first[:3]] == ["x800000", "x800001", "x800002"]
    assert len({v["owner"] for v in first}) == 5
    assert any(v["private"] for v in first) and any(v["explicit"] for v in first)
    assert any(v["tags"] for v in first) and any(v["description"] for v in first)
    created = [v["created_time"] for v in first]
    assert created == sorted(created) and len(set(created)) < len(created)  # shared seconds


def test_video_ids_match_the_samples():
    assert video_id(0) == "x800000" and video_id(35) == "x80000z" and video_id(36) == "x800010"


def test_state_file_keeps_edits_across_restarts(tmp_path):
    state = str(tmp_path / "sandbox.sqlite")

    async def edit(client: Client) -> None:
        token = await client.access_token()
        status, _, _ = await client.call("POST", "/video/x800001", token, {"title": "Kept"})
        assert status == 200

    run(edit, SandboxConfig(videos=20, state_file=state))

    async def read(client: Client) -> str:
        token = await client.access_token()
        _, body, _ = await client.call("GET", "/video/x800001?fields=title", token)
        return body["title"]

    assert run(read, SandboxConfig(videos=20, state_file=state)) == "Kept"
    assert run(read, SandboxConfig(videos=20)) != "Kept"  # in memory by default
    with sqlite3.connect(state) as db:
        assert db.execute("SELECT count(*) FROM videos").fetchone() == (20,)


# ----------------------------------------------------------------------------- OAuth

def test_token_endpoint():
    async def scenario(client: Client) -> None:
        status, body = await client.token(scope="manage_videos userinfo")
        assert status == 200
        assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
        assert (body["token_type"], body["expires_in"]) == ("Bearer", 36000)
        assert body["scope"] == "manage_videos userinfo"
        assert await client.token(secret="wrong") == (
            401, {"error": "invalid_client", "error_description": "Invalid client credentials"})
        status, body = await client.token(grant="password")
        assert (status, body["error"]) == (400, "unsupported_grant_type")
        status, body = await client.token(scope="manage_everything")
        assert (status, body["error"]) == (400, "invalid_scope")

    run(scenario)


def test_missing_unknown_and_expired_tokens():
    clock = FakeClock()

    async def scenario(client: Client) -> None:
        status, body, headers = await client.call("GET", "/video/x800000", None)
        assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer")
        status, body, headers = await client.call("GET", "/video/x800000", "made-up")
        assert (status, error_type(body)) == (401, "invalid_token")
        assert 'error="invalid_token"' in headers["WWW-Authenticate"]
        token = await client.access_token()
        assert (await client.call("GET", "/video/x800000", token))[0] == 200
        clock.now += 61
        status, body, headers = await client.call("GET", "/video/x800000", token)
        # The real signal, which the official SDKs (since 2020) renew on: invalid_token.
        assert (status, error_type(body)) == (401, "invalid_token")
        assert 'error_description="The access token has expired."' in headers[
            "WWW-Authenticate"]

    run(scenario, SandboxConfig(videos=5, token_lifetime=60), clock)


def test_token_without_manage_videos_cannot_edit():
    async def scenario(client: Client) -> None:
        token = await client.access_token(scope="userinfo")
        assert (await client.call("GET", "/video/x800000", token))[0] == 200
        status, body, _ = await client.call("POST", "/video/x800000", token, {"title": "No"})
        assert (status, error_type(body)) == (403, "access_forbidden")

    run(scenario)


# ----------------------------------------------------------------------------- reading

def test_get_video_fields_and_errors():
    async def scenario(client: Client) -> None:
        token = await client.access_token()
        status, body, _ = await client.call("GET", "/video/x800003", token)
        assert status == 200 and set(body) == {"id", "title", "channel", "owner"}
        _, body, _ = await client.call(
            "GET", "/video/x800003?fields=id,tags,private,geoblocking,duration,password", token)
        assert set(body) == {"id", "tags", "private", "geoblocking", "duration", "password"}
        assert isinstance(body["tags"], list) and body["password"] is None
        status, body, _ = await client.call("GET", "/video/x800003?fields=id,colour", token)
        assert (status, error_type(body)) == (400, "invalid_parameter")
        status, body, _ = await client.call("GET", "/video/xnotfound", token)
        assert status == 404 and body == {"error": {
            "more_info": "https://developer.dailymotion.com/api#error-codes", "code": 404,
            "message": "Can't find object video for `id' parameter", "type": "not_found",
            "error_data": {"reason": "object_not_found", "object_type": "video",
                           "object_id": "xnotfound", "param": "id"}}}

    run(scenario)


def test_list_videos_by_ids():
    async def scenario(client: Client) -> None:
        token = await client.access_token()
        status, body, _ = await client.call(
            "GET", "/videos?ids=x800001,xmissing,x800002&fields=id,title&limit=100", token)
        assert status == 200
        assert set(body) == {"page", "limit", "explicit", "total", "has_more", "list"}
        assert [v["id"] for v in body["list"]] == ["x800001", "x800002"]
        assert body["has_more"] is False
        too_many = ",".join(video_id(i) for i in range(101))
        status, body, _ = await client.call("GET", f"/videos?ids={too_many}&limit=100", token)
        assert (status, error_type(body)) == (400, "invalid_parameter")

    run(scenario)


def test_owner_videos_paging_windows_and_cap():
    async def scenario(client: Client) -> None:
        token = await client.access_token()
        owner = client.sandbox.store.owners()[0]
        seen: list[str] = []
        page, more = 1, True
        while more:
            status, body, _ = await client.call(
                "GET", f"/user/{owner}/videos?fields=id,created_time&limit=100&page={page}",
                token)
            assert status == 200
            seen += [v["id"] for v in body["list"]]
            more, page = body["has_more"], page + 1
        assert len(seen) == 1000 and len(set(seen)) == 1000  # the documented cap
        status, body, _ = await client.call("GET", f"/user/{owner}/videos?limit=100&page=11",
                                            token)
        assert (status, error_type(body)) == (400, "invalid_parameter")
        assert (await client.call("GET", f"/user/{owner}/videos?limit=101", token))[0] == 400
        # A window past the cap reaches the rest.
        oldest = client.sandbox.video(seen[-1])["created_time"]
        _, body, _ = await client.call(
            "GET", f"/user/{owner}/videos?fields=id,created_time&limit=100"
                   f"&created_before={oldest}", token)
        assert body["list"] and all(v["created_time"] < oldest for v in body["list"])
        _, me, _ = await client.call("GET", "/me/videos?fields=owner&limit=5", token)
        assert {v["owner"] for v in me["list"]} == {owner}
        status, body, _ = await client.call("GET", "/user/xnobody/videos", token)
        assert status == 404

    run(scenario, SandboxConfig(videos=2600, owners=2))


# ----------------------------------------------------------------------------- editing

def test_edit_applies_and_answers_the_video():
    async def scenario(client: Client) -> None:
        token = await client.access_token()
        status, body, _ = await client.call(
            "POST", "/video/x800004?fields=id,title,tags,private,publish_date,geoblocking",
            token, {"title": "New title", "tags": "summer, lisbon", "private": "yes",
                    "publish_date": "1796144400", "geoblocking": "deny,US,ca"})
        assert status == 200 and body == {
            "id": "x800004", "title": "New title", "tags": ["summer", "lisbon"],
            "private": True, "publish_date": 1796144400, "geoblocking": ["deny", "us", "ca"]}
        stored = client.sandbox.video("x800004")
        assert stored["title"] == "New title" and stored["private"] is True
        assert client.sandbox.counters.writes["x800004"] == 1

    run(scenario)


@pytest.mark.parametrize("form,expected", [
    ({"private": "1"}, {"private": True}), ({"private": "FALSE"}, {"private": False}),
    ({"private": "no"}, {"private": False}), ({"description": ""}, {"description": ""}),
    ({"tags": ""}, {"tags": []}), ({"geoblocking": ""}, {"geoblocking": ["allow"]}),
    ({"publish_date": ""}, {"publish_date": None}), ({"publish_date": "0"}, {"publish_date": None}),
    ({"expiry_date": "2147558400"}, {"expiry_date": None}), ({"country": "fr"}, {"country": "FR"}),
    ({"geoloc": "-9.14,38.71"}, {"geoloc": [-9.14, 38.71]}),
    ({"password": "s3cret"}, {"password_protected": True}),
])
def test_wire_formats(form, expected):
    async def scenario(client: Client) -> dict:
        token = await client.access_token()
        status, body, _ = await client.call("POST", "/video/x800005", token, form)
        assert status == 200, body
        stored = client.sandbox.video("x800005")
        return {name: stored[name] for name in expected}

    assert run(scenario) == expected


@pytest.mark.parametrize("form,param", [
    ({"private": "maybe"}, "private"), ({"title": "x" * 256}, "title"),
    ({"title": ""}, "title"), ({"channel": "sprot"}, "channel"),
    ({"publish_date": "2026-12-01"}, "publish_date"), ({"language": "klingon"}, "language"),
    ({"custom_classification": "a,b,c,d"}, "custom_classification"),
    ({"geoblocking": "deny,xx"}, "geoblocking"), ({"duration": "10"}, "duration"),
    ({"colour": "red"}, "colour"), ({"soundtrack_popularity": "1.5"}, "soundtrack_popularity"),
])
def test_invalid_edits_are_refused_with_the_parameter(form, param):
    async def scenario(client: Client) -> tuple[int, dict]:
        token = await client.access_token()
        status, body, _ = await client.call("POST", "/video/x800006", token, form)
        return status, body

    status, body = run(scenario)
    assert status == 400 and body["error"]["type"] == "invalid_parameter"
    assert body["error"]["error_data"]["param"] == param


def test_edits_are_atomic():
    async def scenario(client: Client) -> None:
        token = await client.access_token()
        before = client.sandbox.video("x800007")
        status, _, _ = await client.call("POST", "/video/x800007", token,
                                         {"title": "Half", "channel": "sprot"})
        assert status == 400 and client.sandbox.video("x800007") == before
        assert client.sandbox.counters.writes["x800007"] == 0

    run(scenario)


def test_documented_field_rules():
    async def scenario(client: Client) -> None:
        token = await client.access_token()
        assert (await client.call("POST", "/video/x800008", token, {"explicit": "1"}))[0] == 200
        status, body, _ = await client.call("POST", "/video/x800008", token, {"explicit": "0"})
        assert status == 400 and "not possible to remove" in body["error"]["message"]
        before = client.sandbox.video("x800008")["thumbnail_url"]
        status, _, _ = await client.call("POST", "/video/x800008", token,
                                         {"thumbnail_url": "https://example.com/t.jpg"})
        assert status == 200 and client.sandbox.video("x800008")["thumbnail_url"] == before
        await client.call("POST", "/video/x800008", token, {"url": "https://example.com/v.mp4"})
        assert client.sandbox.counters.source_replacements == 1

    run(scenario)


def test_pro_fields_need_a_pro_account():
    standard = ApiKey("std-key", "std-secret", tier=AccountTier.STANDARD)

    async def scenario(client: Client) -> None:
        token = await client.access_token(key="std-key", secret="std-secret")
        for field, value in (("geoblocking", "deny,us"), ("publish_date", "1796144400"),
                             ("expiry_date", "1796144400")):
            status, body, _ = await client.call("POST", "/video/x800009", token,
                                                {field: value})
            assert (status, error_type(body)) == (403, "access_forbidden"), field
        assert (await client.call("POST", "/video/x800009", token, {"title": "Ok"}))[0] == 200
        pro = await client.access_token()
        assert (await client.call("POST", "/video/x800009", pro, {"geoblocking": "fr"}))[0] == 200

    run(scenario, SandboxConfig(videos=20, extra_keys=[standard]))


# ----------------------------------------------------------------------------- limits

def test_rate_limit_with_retry_after_on_a_sliding_window():
    clock = FakeClock()

    async def scenario(client: Client) -> None:
        token = await client.access_token()
        answers = [await client.call("GET", "/video/x800000", token) for _ in range(7)]
        assert [a[0] for a in answers] == [200] * 5 + [429] * 2
        assert error_type(answers[-1][1]) == "rate_limit_exceeded"
        assert answers[-1][2]["Retry-After"] == "1"
        clock.now += 1.0  # the window has slid past the first five
        assert (await client.call("GET", "/video/x800000", token))[0] == 200
        assert client.sandbox.counters.rate_limited == 2

    run(scenario, SandboxConfig(videos=5, rate=5), clock)


def test_rate_limit_without_retry_after_and_as_403():
    async def scenario(client: Client) -> list:
        token = await client.access_token()
        return [await client.call("GET", "/video/x800000", token) for _ in range(3)]

    answers = run(scenario, SandboxConfig(videos=5, rate=2, retry_after_header=False),
                  FakeClock())
    assert answers[2][0] == 429 and "Retry-After" not in answers[2][2]
    answers = run(scenario, SandboxConfig(videos=5, rate=2, rate_limit_status=403), FakeClock())
    assert answers[2][0] == 403 and "spam" in answers[2][1]["error"]["message"]


def test_hourly_quota():
    clock = FakeClock()

    async def scenario(client: Client) -> list[int]:
        token = await client.access_token()
        statuses = []
        for _ in range(4):
            statuses.append((await client.call("GET", "/video/x800000", token))[0])
            clock.now += 10
        clock.now += 3600
        statuses.append((await client.call("GET", "/video/x800000", token))[0])
        return statuses

    assert run(scenario, SandboxConfig(videos=5, hourly_quota=3), clock) == [200, 200, 200,
                                                                            429, 200]


# ----------------------------------------------------------------------------- faults

def test_latency_and_jitter():
    async def scenario(client: Client) -> float:
        token = await client.access_token()
        started = time.perf_counter()
        await client.call("GET", "/video/x800000", token)
        return time.perf_counter() - started

    assert run(scenario, SandboxConfig(videos=5, latency=0.2, jitter=0.05)) >= 0.2


def test_fail_rate_answers_5xx():
    async def scenario(client: Client) -> set[int]:
        token = await client.access_token()
        answers = [await client.call("GET", "/video/x800000", token) for _ in range(30)]
        assert all(isinstance(a[1], dict) for a in answers if a[0] != 502)
        return {a[0] for a in answers}

    assert run(scenario, SandboxConfig(videos=5, fail_rate=1.0)) == {500, 502, 503}


def test_timeout_rate_holds_past_the_client_timeout():
    async def scenario(client: Client) -> None:
        token = await client.access_token()
        with pytest.raises(asyncio.TimeoutError):
            await client.call("GET", "/video/x800000", token, timeout=0.3)
        assert client.sandbox.counters.faults["timeout"] == 1

    run(scenario, SandboxConfig(videos=5, timeout_rate=1.0, hold_seconds=5))


def test_drop_rate_closes_the_connection():
    async def scenario(client: Client) -> None:
        token = await client.access_token()
        for _ in range(4):
            with pytest.raises(aiohttp.ClientError):
                await client.call("POST", "/video/x800000", token, {"title": "Dropped"})
        assert client.sandbox.counters.faults["drop"] == 4

    run(scenario, SandboxConfig(videos=5, drop_rate=1.0))


def test_faults_are_seeded():
    async def scenario(client: Client) -> list[int]:
        token = await client.access_token()
        return [(await client.call("GET", "/video/x800000", token))[0] for _ in range(40)]

    config = {"videos": 5, "fail_rate": 0.3, "fault_seed": 11}
    first = run(scenario, SandboxConfig(**config))
    assert first == run(scenario, SandboxConfig(**config))
    assert first != run(scenario, SandboxConfig(**{**config, "fault_seed": 12}))
    assert 200 in first and set(first) - {200}


# ----------------------------------------------------------------------------- counters

def test_counters_in_flight_and_per_second():
    async def scenario(client: Client) -> None:
        token = await client.access_token()
        await asyncio.gather(*(client.call("GET", "/video/x800000", token) for _ in range(10)))
        counters = client.sandbox.counters
        assert counters.max_in_flight == 10
        assert counters.max_per_second == 10 and counters.max_per_second_for(token) == 10
        assert counters.requests["get_video"] == 10 and counters.requests["token"] == 1
        assert counters.statuses[200] == 11

    run(scenario, SandboxConfig(videos=5, latency=0.2))


def test_key_restricted_to_some_channels():
    limited = ApiKey("ch-key", "ch-secret", owners=("x1ch001",))

    async def scenario(client: Client) -> None:
        token = await client.access_token(key="ch-key", secret="ch-secret")
        status, body, _ = await client.call("POST", "/video/x800000", token, {"title": "No"})
        assert (status, error_type(body)) == (403, "access_forbidden")  # owned by x1ch000
        assert (await client.call("POST", "/video/x800001", token, {"title": "Yes"}))[0] == 200
        _, me, _ = await client.call("GET", "/me/videos?fields=owner&limit=3", token)
        assert {v["owner"] for v in me["list"]} == {"x1ch001"}

    run(scenario, SandboxConfig(videos=20, extra_keys=[limited]))


def test_doubtful_channels_can_be_refused():
    async def scenario(client: Client) -> int:
        token = await client.access_token()
        return (await client.call("POST", "/video/x800000", token, {"channel": "kids"}))[0]

    assert run(scenario) == 200
    assert run(scenario, SandboxConfig(videos=5, accept_doubtful_channels=False)) == 400


def test_list_filters_and_parameter_errors():
    async def scenario(client: Client) -> None:
        token = await client.access_token()
        owner = client.sandbox.store.owners()[0]
        _, body, _ = await client.call(
            "GET", f"/user/{owner}/videos?fields=id,private&private=1&limit=100", token)
        assert body["list"] and all(v["private"] for v in body["list"])
        _, recent, _ = await client.call(
            "GET", f"/user/{owner}/videos?fields=created_time&limit=100", token)
        _, old, _ = await client.call(
            "GET", f"/user/{owner}/videos?fields=created_time&limit=100&sort=old", token)
        times = [v["created_time"] for v in recent["list"]]
        assert times == sorted(times, reverse=True)
        old_times = [v["created_time"] for v in old["list"]]
        assert old_times == sorted(old_times) and old_times[-1] < times[-1]
        for query in ("sort=random", "limit=0", "page=0", "limit=ten", "created_after=yesterday"):
            status, body, _ = await client.call("GET", f"/user/{owner}/videos?{query}", token)
            assert (status, error_type(body)) == (400, "invalid_parameter"), query
        status, body, _ = await client.call("GET", "/videos?fields=id", token)
        assert (status, error_type(body)) == (400, "invalid_parameter")

    run(scenario, SandboxConfig(videos=300, owners=1))


def test_faults_spare_the_token_endpoint_unless_asked():
    async def scenario(client: Client) -> set[int]:
        statuses = set()
        for _ in range(40):
            async with client.http.post(f"{client.base}/oauth/v1/token", data={
                    "grant_type": "client_credentials", "client_id": "sandbox-api-key",
                    "client_secret": "sandbox-api-secret"}) as response:
                statuses.add(response.status)
        return statuses

    assert run(scenario, SandboxConfig(videos=5, fail_rate=1.0)) == {200}
    assert run(scenario, SandboxConfig(videos=5, fail_rate=1.0, faults_on_token_endpoint=True)
               ) == {500, 502, 503}


def test_revoked_tokens_stop_working():
    async def scenario(client: Client) -> None:
        token = await client.access_token()
        client.sandbox.app.revoke_all_tokens()
        status, body, _ = await client.call("GET", "/video/x800000", token)
        assert (status, error_type(body)) == (401, "invalid_token")

    run(scenario)


def test_throttle_rate_answers_429_at_random():
    async def scenario(client: Client) -> list[int]:
        token = await client.access_token()
        return [(await client.call("GET", "/video/x800000", token))[0] for _ in range(40)]

    statuses = run(scenario, SandboxConfig(videos=5, throttle_rate=0.5))
    assert set(statuses) == {200, 429}


def test_a_rate_schedule_changes_the_hidden_limit_from_the_first_request():
    from bulkedit.sandbox.config import parse_schedule

    clock = FakeClock()

    async def scenario(client: Client) -> None:
        token = await client.access_token()
        first = [(await client.call("GET", "/video/x800000", token))[0] for _ in range(5)]
        assert first == [200] * 4 + [429]  # 0:4 — the clock starts at this first call
        clock.now += 10.0  # 10:2
        second = [(await client.call("GET", "/video/x800000", token)) for _ in range(3)]
        assert [a[0] for a in second] == [200, 200, 429]
        assert second[-1][2]["Retry-After"] == "1"
        clock.now += 10.0  # 20:6
        third = [(await client.call("GET", "/video/x800000", token))[0] for _ in range(7)]
        assert third == [200] * 6 + [429]
        assert "X-RateLimit-Limit" not in second[-1][2]  # the limit is never told

    clock.now += 500  # the sandbox has been up a while: the schedule waits for a request
    run(scenario, SandboxConfig(videos=5, rate_schedule=parse_schedule("0:4,10:2,20:6")),
        clock)


@pytest.mark.parametrize("text", ["40", "0:40,x:15", "5:40", "0:0", "0:40,-1:5"])
def test_a_bad_rate_schedule_is_refused_with_the_form_to_use(text):
    from bulkedit.sandbox.config import parse_schedule

    with pytest.raises(ValueError, match="rate schedule"):
        parse_schedule(text)


def test_above_its_knee_the_slow_sandbox_queues_instead_of_refusing():
    async def scenario(client: Client) -> tuple[float, float]:
        token = await client.access_token()
        loop = asyncio.get_running_loop()

        async def timed() -> float:
            start = loop.time()
            status, _, _ = await client.call("GET", "/video/x800000", token)
            assert status == 200
            return loop.time() - start

        alone = min([await timed() for _ in range(3)])
        crowd = await asyncio.gather(*(timed() for _ in range(20)))
        return alone, max(crowd)

    alone, slowest = run(scenario, SandboxConfig(videos=5, slow_above=20.0))
    # 20 at once at 20/s: the last waits for the 19 before it, about 0.95 s.
    assert alone < 0.1 and slowest >= 0.9
