"""The sandbox serves several partner accounts (issue 30, point 7): each key owns its own
channels and has its own limit, a write to another account's video is refused as the API
refuses it, one key can be revoked alone, and per-key counters let a test prove routing."""

from __future__ import annotations

import subprocess
import sys

import pytest
from test_sandbox import Client, FakeClock, error_type, run

from bulkedit.sandbox import ApiKey, SandboxConfig
from bulkedit.sandbox.config import accounts
from bulkedit.sandbox.store import owner_id, seed_videos

BRANDS = accounts(3, 5)


def _login(brand: ApiKey) -> dict[str, str]:
    return {"key": brand.key, "secret": brand.secret}


@pytest.mark.parametrize(("count", "owners"), [(1, 1), (1, 5), (2, 5), (3, 5), (5, 5),
                                               (4, 9)])
def test_accounts_share_out_every_channel_once(count, owners):
    brands = accounts(count, owners)
    assert [b.account for b in brands] == [f"account{n + 1}" for n in range(count)]
    assert [b.key for b in brands] == [f"sandbox-key-{n + 1}" for n in range(count)]
    held = [owner for brand in brands for owner in brand.owners]
    assert sorted(held) == sorted(owner_id(i) for i in range(owners))  # each one, once
    assert all(brand.owners for brand in brands)  # no account without a channel


def test_each_key_edits_only_its_own_channels_and_the_counters_say_which_key_wrote():
    videos = seed_videos(15, 5, 1)
    owned_by = {v["id"]: v["owner"] for v in videos}

    async def scenario(client: Client) -> None:
        tokens = [await client.access_token(**_login(brand)) for brand in BRANDS]
        for brand, token in zip(BRANDS, tokens, strict=True):
            mine = [i for i, owner in owned_by.items() if owner in brand.owners]
            theirs = [i for i, owner in owned_by.items() if owner not in brand.owners]
            status, _, _ = await client.call("POST", f"/video/{mine[0]}", token,
                                             {"title": brand.account})
            assert status == 200
            status, body, _ = await client.call("POST", f"/video/{theirs[0]}", token,
                                                {"title": "not mine"})
            assert (status, error_type(body)) == (403, "access_forbidden")
            assert client.sandbox.video(theirs[0])["title"] != "not mine"
            # Reading another account's public video is allowed, as the API allows it.
            assert (await client.call("GET", f"/video/{theirs[0]}", token))[0] == 200
        counters = client.sandbox.counters
        for brand in BRANDS:
            written = counters.writes_by_key[brand.key]
            assert sum(written.values()) == 1
            assert all(owned_by[video] in brand.owners for video in written)
            assert counters.not_owner_by_key[brand.key] == 1
            assert counters.requests_by_key[brand.key] == 3  # two edits and one read

    run(scenario, SandboxConfig(videos=15, extra_keys=list(BRANDS)))


def test_each_key_has_its_own_rate():
    clock = FakeClock()
    slow = ApiKey("slow-key", "slow-secret", rate=2, account="slow")
    fast = ApiKey("fast-key", "fast-secret", rate=5, account="fast")

    async def scenario(client: Client) -> None:
        for brand, allowed in ((slow, 2), (fast, 5)):
            token = await client.access_token(**_login(brand))
            statuses = [(await client.call("GET", "/video/x800000", token))[0]
                        for _ in range(allowed + 1)]
            assert statuses == [200] * allowed + [429]
        counters = client.sandbox.counters
        assert counters.rate_limited_by_key == {"slow-key": 1, "fast-key": 1}

    # The sandbox's own rate (1/s) is not the one either key gets.
    run(scenario, SandboxConfig(videos=3, rate=1, extra_keys=[slow, fast]), clock)


@pytest.mark.parametrize(("scope", "second_token_status"), [("token", 200), ("key", 429)])
def test_a_limit_counts_per_token_or_per_key(scope, second_token_status):
    clock = FakeClock()

    async def scenario(client: Client) -> None:
        first = await client.access_token()
        for _ in range(3):
            assert (await client.call("GET", "/video/x800000", first))[0] == 200
        assert (await client.call("GET", "/video/x800000", first))[0] == 429
        # A new token of the same key: a fresh limit only when limits count per token.
        second = await client.access_token()
        assert (await client.call("GET", "/video/x800000", second))[0] == second_token_status

    run(scenario, SandboxConfig(videos=3, rate=3, limit_scope=scope), clock)


def test_one_key_revoked_stops_only_that_account_until_it_is_restored():
    first, second = BRANDS[0], BRANDS[1]

    async def scenario(client: Client) -> None:
        revoked = await client.access_token(**_login(first))
        other = await client.access_token(**_login(second))
        client.sandbox.app.revoke_key(first.key)
        status, body, _ = await client.call("GET", "/video/x800000", revoked)
        assert (status, error_type(body)) == (401, "invalid_token")
        status, body = await client.token(**_login(first))
        assert (status, body["error"]) == (401, "invalid_client")
        assert (await client.call("GET", "/video/x800001", other))[0] == 200
        client.sandbox.app.restore_key(first.key)
        again = await client.access_token(**_login(first))
        assert (await client.call("GET", "/video/x800000", again))[0] == 200

    run(scenario, SandboxConfig(videos=5, extra_keys=list(BRANDS)))


def test_the_sandbox_command_serves_the_accounts_and_its_banner_lists_them():
    # The command as a user runs it; its banner read up to its last line, then SIGTERM.
    with subprocess.Popen([sys.executable, "-m", "bulkedit", "sandbox", "--port", "0",
                           "--videos", "6", "--owners", "3", "--accounts", "2",
                           "--limit-per", "key"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as server:
        lines = []
        for line in server.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("Serving until"):
                break
        server.terminate()
        server.communicate(timeout=30)
    assert ("  accounts:   2, each editing only its own channels (limits counted per key; "
            "the key above edits every channel)") in lines, lines
    assert ("    account1: key sandbox-key-1, secret sandbox-secret-1, channels x1ch000, "
            "x1ch002") in lines
    assert "    account2: key sandbox-key-2, secret sandbox-secret-2, channels x1ch001" in lines


def test_the_sandbox_command_refuses_a_number_of_accounts_out_of_range(run_cli):
    result = run_cli("sandbox", "--accounts", "101", "--port", "0")
    assert result.code == 2 and "--accounts" in result.err
