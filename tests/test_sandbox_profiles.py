"""The sandbox's realism knobs (issue 15): each doubtful behaviour of the real API as a
setting, `strict()` at the harshest, and the answers the official SDKs can see fixed."""

from __future__ import annotations

import pytest
from test_sandbox import Client, error_type, run

from bulkedit.sandbox import SandboxConfig
from bulkedit.sandbox.config import PROFILE_KNOBS, STRICT_UNREADABLE


def test_strict_sets_every_knob_and_overrides_win():
    strict, kind = SandboxConfig.strict(), SandboxConfig()
    assert all(getattr(strict, k) != getattr(kind, k) for k in PROFILE_KNOBS)
    assert SandboxConfig.strict(truncate_ids=False).truncate_ids is False


def test_an_unreadable_field_is_a_400_naming_it():
    async def scenario(client: Client) -> None:
        token = await client.access_token()
        status, body, _ = await client.call(
            "GET", f"/videos?ids=x800000&fields=id,title,{STRICT_UNREADABLE[0]}", token)
        assert status == 400 and body["error"]["error_data"]["field"] == STRICT_UNREADABLE[0]
        status, _, _ = await client.call("GET", "/videos?ids=x800000&fields=id,title", token)
        assert status == 200

    run(scenario, SandboxConfig(videos=5, unreadable_fields=STRICT_UNREADABLE))


def test_private_videos_hidden_from_listings_but_readable_one_by_one():
    async def scenario(client: Client) -> None:
        token = await client.access_token()
        await client.call("POST", "/video/x800001", token, {"private": "true"})
        status, body, _ = await client.call("GET", "/videos?ids=x800000,x800001&fields=id",
                                            token)
        assert [v["id"] for v in body["list"]] == ["x800000"]
        status, body, _ = await client.call("GET", "/video/x800001?fields=id,private", token)
        assert status == 200 and body["private"] is True

    run(scenario, SandboxConfig(videos=5, hide_private_in_listings=True))


def test_too_many_ids_silently_truncated():
    async def scenario(client: Client) -> None:
        token = await client.access_token()
        ids = ",".join(f"x80000{i}" for i in range(6))
        status, body, _ = await client.call("GET", f"/videos?ids={ids}&fields=id&limit=6",
                                            token)
        assert status == 200 and len(body["list"]) == 4

    run(scenario, SandboxConfig(videos=10, max_ids=4, truncate_ids=True))


def test_throttling_as_a_plain_403_without_retry_after():
    async def scenario(client: Client) -> None:
        token = await client.access_token()
        answers = [await client.call("GET", "/video/x800000", token) for _ in range(4)]
        refused = [(s, b, h) for s, b, h in answers if s != 200]
        assert refused and all(s == 403 for s, _, _ in refused)
        assert all("rate" not in b["error"]["message"].lower() for _, b, _ in refused)
        assert all("Retry-After" not in h for _, _, h in refused)

    run(scenario, SandboxConfig(videos=5, rate=1, throttle_as_plain_403=True))


def test_embed_wire_names_and_empty_clears():
    async def scenario(client: Client) -> None:
        token = await client.access_token()
        status, body, _ = await client.call("POST", "/video/x800000", token,
                                            {"allow_embed": "false"})
        assert status == 400 and body["error"]["error_data"]["param"] == "allow_embed"
        status, _, _ = await client.call("POST", "/video/x800000", token,
                                         {"allow_embedded": "false"})
        assert status == 200
        status, body, _ = await client.call("POST", "/video/x800000", token,
                                            {"description": ""})
        assert status == 400 and body["error"]["error_data"]["param"] == "description"

    run(scenario, SandboxConfig(videos=5, embed_wire_name="allow_embedded",
                                refuse_empty_clears=True))


def test_what_the_official_sdks_see_repeated_keys_routes_and_headers():
    async def scenario(client: Client) -> None:
        token = await client.access_token()
        # The Python SDK sends a list as repeated keys: every tag is kept.
        async with client.http.post(f"{client.base}/rest/video/x800000?fields=id,tags",
                                    data=[("tags", "one"), ("tags", "two")],
                                    headers={"Authorization": f"Bearer {token}"}) as answer:
            assert (await answer.json())["tags"] == ["one", "two"]
        # `fields` given twice: both lists count.
        status, body, _ = await client.call("GET", "/video/x800000?fields=id&fields=title",
                                            token)
        assert set(body) == {"id", "title"}
        # Unknown routes and methods answer the JSON error envelope too.
        status, body, _ = await client.call("GET", "/no/such/route", token)
        assert status == 404 and error_type(body) == "not_found"
        status, body, _ = await client.call("DELETE", "/videos", token)
        assert status == 405 and error_type(body) == "method_not_allowed"
        # A malformed Authorization header is a 400 invalid_parameter, not a 401.
        async with client.http.get(f"{client.base}/rest/video/x800000",
                                   headers={"Authorization": "Token abc"}) as answer:
            body = await answer.json()
            assert answer.status == 400 and error_type(body) == "invalid_parameter"

    run(scenario, SandboxConfig(videos=5))


# ----------------------------------------------------------------------------- the client survives

def _apply(run_cli, sandbox, path, *extra):
    from conftest import apply

    return apply(run_cli, sandbox, path, "--summary-json", str(path.parent / "s.json"),
                 *extra)


def test_an_unreadable_field_costs_one_call_and_is_sent_with_a_warning(api, run_cli,
                                                                       tmp_path):
    import csv
    import json

    from conftest import sheet, titles

    from bulkedit.sandbox.store import video_id

    sandbox = api(unreadable_fields=("expiry_date_deletion",))
    rows = [{**row, "expiry_date_deletion": "false"} for row in titles(150)]
    path = sheet(tmp_path, rows)
    result = _apply(run_cli, sandbox, path, "--concurrency", "1")
    assert result.code == 0, result.out + result.err
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["counts"] == {"sent": 150}  # title read back; the other field cannot be
    assert sandbox.counters.statuses[400] == 1  # one refusal, then read without the field
    # 2 batches of 100 + the one refused; the read-back does not ask for it again.
    assert summary["api_calls"]["reads"] == 3 + 2
    assert all(sandbox.video(video_id(i))["expiry_date_deletion"] is False
               for i in range(150))
    assert "live value unknown" in result.out
    with (tmp_path / "edits.rollback.csv").open(encoding="utf-8-sig") as handle:
        undo = list(csv.DictReader(handle))
    assert len(undo) == 150 and "expiry_date_deletion" not in undo[0]
    assert "cannot undo 150 changes (expiry_date_deletion)" in result.out


def test_private_videos_a_listing_hides_are_read_one_by_one(api, run_cli, tmp_path):
    import json

    from conftest import sheet, titles

    from bulkedit.sandbox.store import video_id

    sandbox = api(hide_private_in_listings=True)
    for i in range(0, 30, 10):
        sandbox.store.update(video_id(i), {"private": True})
    hidden = sum(bool(sandbox.video(video_id(i))["private"]) for i in range(30))
    path = sheet(tmp_path, titles(30))
    result = _apply(run_cli, sandbox, path)
    assert result.code == 0, result.out + result.err
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["counts"] == {"updated": 30}  # none "not found"
    # Then each alone, and so again when the writes are read back.
    assert hidden >= 3 and summary["api_calls"]["reads"] == 2 * (1 + hidden)
    assert sandbox.video(video_id(10))["title"] == "New title 10"


def test_a_truncated_listing_lowers_the_batch_size(api, run_cli, tmp_path):
    import json

    from conftest import sheet, titles

    sandbox = api(max_ids=40, truncate_ids=True, videos=300)
    path = sheet(tmp_path, titles(250))
    result = _apply(run_cli, sandbox, path, "--concurrency", "1")
    assert result.code == 0, result.out + result.err
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["counts"] == {"updated": 250}
    # 100 asked, 40 answered: the rest in batches of 40, never one by one; the read-back
    # starts at 40.
    assert summary["api_calls"]["reads"] <= 3 + 250 // 40 + 1 + -(-250 // 40)


def test_a_field_the_api_does_not_know_by_name_stops_after_the_first_row(api, run_cli,
                                                                         tmp_path):
    import json

    from conftest import sheet

    from bulkedit.sandbox.store import video_id

    sandbox = api(embed_wire_name="allow_embedded")  # bulkedit sends allow_embed
    path = sheet(tmp_path, [{"video_id": video_id(i), "allow_embed": "false"}
                            for i in range(40)])
    result = _apply(run_cli, sandbox, path, "--concurrency", "1")
    assert result.code == 3, result.out + result.err
    assert "does not know the field 'allow_embed'" in result.out
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["counts"] == {"failed": 1, "skipped": 39}  # not 40 failed rows
    assert sandbox.counters.statuses[400] == 1


def test_throttling_as_a_plain_403_slows_the_run_instead_of_failing_rows(api, run_cli,
                                                                         tmp_path):
    import json

    from conftest import sheet, titles

    sandbox = api(rate=8, throttle_as_plain_403=True, retry_after_header=False)
    path = sheet(tmp_path, titles(40))
    result = _apply(run_cli, sandbox, path, "--rate", "30", "--concurrency", "4")
    assert result.code == 0, result.out + result.err
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["counts"] == {"updated": 40}
    assert sandbox.counters.statuses[403] > 0 and summary["rate_cuts"] >= 1


# ----------------------------------------------------------------------------- the canary

def test_canary_rows_cover_each_set_of_fields_first():
    from bulkedit.core.planning import FieldDiff, RowPlan, RowStatus
    from bulkedit.run.runner import canary_rows

    def plan(row: int, *fields: str) -> RowPlan:
        return RowPlan(row, f"x{row}", RowStatus.CHANGE,
                       tuple(FieldDiff(f, None, "v") for f in fields))

    changes = [plan(1, "title"), plan(2, "title"), plan(3, "title", "tags"), plan(4, "tags"),
               plan(5, "title")]
    assert [p.row for p in canary_rows(changes, 3)] == [1, 3, 4]
    assert [p.row for p in canary_rows(changes[:2], 3)] == [1, 2]
    assert canary_rows(changes, 0) == []


def test_a_canary_that_finds_a_field_ignored_stops_the_run(api, run_cli, tmp_path):
    """thumbnail_url without the permission is silently ignored by Dailymotion: the
    canary reads it back, and nothing more is sent."""
    import json

    from conftest import KEY, sheet

    from bulkedit.sandbox.config import ApiKey
    from bulkedit.sandbox.store import video_id

    sandbox = api(keys=(ApiKey(KEY.key, KEY.secret, can_set_thumbnail=False),))
    path = sheet(tmp_path, [{"video_id": video_id(i), "title": f"T{i}",
                             "thumbnail_url": "https://example.com/t.jpg"} for i in range(30)])
    result = _apply(run_cli, sandbox, path, "--canary", "3", "--concurrency", "1")
    assert result.code == 3, result.out + result.err
    assert "canary rows" in result.out and "thumbnail_url" in result.out
    assert sum(sandbox.counters.writes.values()) == 3
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["counts"].get("skipped") == 27
    results = (tmp_path / "edits.results.csv").read_text(encoding="utf-8-sig")
    assert results.count("canary row: ") == 3  # the skipped rows say why they were not sent


def test_a_good_canary_lets_the_rest_through(api, run_cli, tmp_path):
    import json

    from conftest import sheet, titles

    sandbox = api()
    path = sheet(tmp_path, titles(20))
    result = _apply(run_cli, sandbox, path, "--canary", "3")
    assert result.code == 0, result.out + result.err
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["counts"] == {"updated": 20}
    results = (tmp_path / "edits.results.csv").read_text(encoding="utf-8-sig")
    assert results.count("canary row: sent first and read back as sent") == 3


@pytest.mark.parametrize("base,canary,rows", [
    ("https://partner.api.dailymotion.com", None, 3),
    ("https://api.dailymotion.com", None, 3),
    ("http://127.0.0.1:8642", None, 0),
    ("http://127.5.0.1:8642", None, 0),
    ("http://[::1]:8642", None, 0),
    ("https://partner.api.dailymotion.com", 0, 0),
    ("http://127.0.0.1", 5, 5),
    ("https://127.example.com", None, 3),  # a name, not an address: it may be anywhere
])
def test_the_canary_is_on_by_default_only_away_from_this_machine(base, canary, rows):
    from urllib.parse import urlsplit

    from bulkedit.run.options import run_options

    hosts = [urlsplit(base).hostname or ""]
    assert run_options(api_base=base, canary=canary, allow_hosts=hosts).canary_size == rows
    assert run_options(api_base=base, canary=canary, allow_hosts=hosts,
                       send=False).canary_size == 0


# ----------------------------------------------------------------------------- doctor

def test_doctor_reports_what_the_key_can_do_and_never_writes(api, run_cli):
    import json

    kind = api(videos=600)  # 120 on the key's channel: enough to try 100 ids at once
    result = run_cli("doctor", "--api-base", kind.base_url, "--json")
    assert result.code == 0, result.out + result.err
    found = json.loads(result.out)
    assert found["token"] and found["scopes"] == ["manage_videos"]
    assert found["unreadable"] == [] and found["ids_maximum"] == 100
    assert found["pro"] is True  # the sandbox's keys are Pro unless told
    assert kind.counters.requests["edit_video"] == 0

    harsh = api(**{k: getattr(SandboxConfig.strict(), k) for k in PROFILE_KNOBS})
    table = run_cli("doctor", "--api-base", harsh.base_url)
    assert "expiry_date_deletion, soundtrack_isrc" in table.out
    assert "nothing was written" in table.out
    assert harsh.counters.requests["edit_video"] == 0


# ----------------------------------------------------------------------------- the matrix

MATRIX = [*({k: getattr(SandboxConfig.strict(), k)} for k in PROFILE_KNOBS), "strict"]


@pytest.mark.parametrize("knobs", MATRIX, ids=[*PROFILE_KNOBS, "strict"])
def test_every_row_ends_updated_and_verified_or_with_one_clear_reason(api, run_cli, tmp_path,
                                                                      knobs):
    """The sample sheet (16 fields) plus allow_embed, expiry_date_deletion and
    soundtrack_isrc, applied with --verify against each doubtful behaviour alone and all
    of them at once: no row lost, none written twice, every row updated and read back or
    failed/skipped with its reason, and the reads within ceil(N/100) per pass, plus one
    per video a listing hides, plus 5."""
    import csv
    import json
    import math
    from pathlib import Path

    rows = list(csv.DictReader(
        (Path(__file__).resolve().parent.parent / "samples" / "edits.csv").open(
            encoding="utf-8-sig")))
    for number, row in enumerate(rows):
        row["allow_embed"] = "true" if number % 2 else "false"
        row["expiry_date_deletion"] = "false"
        row["soundtrack_isrc"] = f"USRC1{number:07d}"
    path = tmp_path / "edits.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    config = ({k: getattr(SandboxConfig.strict(), k) for k in PROFILE_KNOBS}
              if knobs == "strict" else knobs)
    sandbox = api(videos=200, rate=15, **config)
    hidden = sum(bool(sandbox.video(row["video_id"])["private"]) for row in rows)
    result = _apply(run_cli, sandbox, path, "--verify", "--rate", "30", "--concurrency", "2",
                    "--allow-past-expiry")
    assert result.code in (0, 1, 3), result.out + result.err
    with (tmp_path / "edits.results.csv").open(encoding="utf-8-sig") as handle:
        outcomes = list(csv.DictReader(handle))
    assert [o["video_id"] for o in outcomes] == [r["video_id"] for r in rows]  # none lost
    for outcome in outcomes:
        assert outcome["#status"] in ("updated", "sent", "unchanged", "failed", "skipped")
        if outcome["#status"] in ("sent", "failed", "skipped"):
            assert outcome["#error"].strip(), outcome  # one clear reason
    assert max(sandbox.counters.writes.values(), default=0) <= 1  # never written twice
    summary = json.loads((tmp_path / "s.json").read_text())
    passes = 2  # the read, and the read back of --verify
    assert summary["api_calls"]["reads"] <= passes * (math.ceil(len(rows) / 100) + hidden) + 5


def test_a_refused_client_secret_answers_as_the_official_sdk_reads_it():
    """The Python SDK reads a 400/401's error from WWW-Authenticate; without the header it
    treats the OAuth body as the REST envelope and crashes with AttributeError."""
    import re

    async def scenario(client: Client) -> None:
        form = {"grant_type": "client_credentials", "client_id": client.sandbox.key[0],
                "client_secret": "wrong", "scope": "manage_videos"}
        async with client.http.post(f"{client.base}/oauth/v1/token", data=form) as answer:
            header = answer.headers.get("WWW-Authenticate", "")
            body = await answer.json()
        assert answer.status == 401 and body["error"] == "invalid_client"
        found = re.match('.*error="(.*?)"(?:, error_description="(.*?)")?', header)
        assert found and found.group(1) == "invalid_client" and found.group(2)

    run(scenario, SandboxConfig(videos=5))


def test_doctor_hints_that_a_standard_account_cannot_set_pro_fields(api, run_cli):
    from conftest import KEY

    from bulkedit.sandbox.config import AccountTier, ApiKey

    sandbox = api(keys=(ApiKey(KEY.key, KEY.secret, tier=AccountTier.STANDARD),))
    result = run_cli("doctor", "--api-base", sandbox.base_url)
    assert "likely refused" in result.out and sandbox.counters.requests["edit_video"] == 0
