"""Rows routed by their video's owner (issue 30, point 2, third rule; run/owner_lookup.py)
against the sandbox with the real client on loopback: when every account lists its
channels, a row with no #account and no sheet account goes through the account owning its
video, the owners read in batches through one key before anything is written; a video no
account owns is refused, exit 2, nothing sent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import sheet
from test_accounts import settings_file

from bulkedit.run.accounts import ACCOUNT_ENV
from bulkedit.sandbox.config import accounts
from bulkedit.sandbox.store import video_id

BRANDS = accounts(3, 3)  # video i is channel i % 3's (of 3 listed) or of x1ch003 (unlisted)
NAMES = ("brand1", "brand2", "brand3")


def settings(tmp_path: Path, extra: str = "") -> Path:
    text = f"[api]\nconcurrency = 3\n{extra}\n" + "".join(f"""
[accounts.{name}]
key_env = "{name.upper()}_KEY"
secret_env = "{name.upper()}_SECRET"
channels = {json.dumps(list(brand.owners))}
""" for name, brand in zip(NAMES, BRANDS, strict=True))
    return settings_file(tmp_path, text)


@pytest.fixture
def owned(monkeypatch, api):
    """Three accounts owning channels x1ch000..x1ch002; the sandbox's fourth channel,
    x1ch003, is no configured account's."""
    for name, brand in zip(NAMES, BRANDS, strict=True):
        monkeypatch.setenv(f"{name.upper()}_KEY", brand.key)
        monkeypatch.setenv(f"{name.upper()}_SECRET", brand.secret)
    monkeypatch.delenv(ACCOUNT_ENV, raising=False)
    return api(keys=BRANDS, owners=4, videos=400)


def written(sandbox) -> dict[str, dict[str, int]]:
    return {key: {v: n for v, n in videos.items() if n}
            for key, videos in sandbox.counters.writes_by_key.items()
            if sum(videos.values())}


def owned_rows(tmp_path: Path, ids: list[int]) -> Path:
    return sheet(tmp_path, [{"video_id": video_id(i), "title": f"Owned {i}"} for i in ids])


def test_each_row_goes_through_its_video_owner_s_account(owned, run_cli, tmp_path):
    ids = [i for i in range(240) if i % 4 != 3]  # 180 rows of the three listed channels
    path = owned_rows(tmp_path, ids)
    done = run_cli("apply", str(path), "--config", str(settings(tmp_path)), "--api-base",
                   owned.base_url, "--yes", "--summary-json", str(tmp_path / "s.json"))
    assert done.code == 0, done.out + done.err
    by_key = written(owned)
    for n, brand in enumerate(BRANDS):  # channel n % 4 is BRANDS[n]'s
        assert by_key[brand.key] == {video_id(i): 1 for i in ids if i % 4 == n}
    assert sum(owned.counters.not_owner_by_key.values()) == 0
    summary = json.loads((tmp_path / "s.json").read_text())
    assert {name: block["writes"] for name, block in summary["accounts"].items()} == {
        name: 60 for name in NAMES}
    # 180 owners read through the first account's key in two calls of up to 100 ids.
    assert "180 rows routed by their video's owner, read in 2 calls through the account " \
           "brand1" in done.err


def test_the_plan_routes_by_owner_too(owned, run_cli, tmp_path):
    path = owned_rows(tmp_path, [0, 1, 2, 4, 5])
    plan = tmp_path / "plan.json"
    done = run_cli("plan", str(path), "--config", str(settings(tmp_path)), "--api-base",
                   owned.base_url, "--save", str(plan))
    assert done.code == 0, done.out + done.err
    assert json.loads(plan.read_text())["options"]["accounts"] == {
        "brand1": 2, "brand2": 2, "brand3": 1}
    assert written(owned) == {}


def test_a_video_no_account_owns_is_refused_before_anything_is_sent(owned, run_cli,
                                                                     tmp_path):
    path = owned_rows(tmp_path, [0, 1, 2, 3])  # video 3 is x1ch003's: nobody's
    done = run_cli("apply", str(path), "--config",
                   str(settings(tmp_path, 'default_account = "brand1"')), "--api-base",
                   owned.base_url, "--yes")
    assert done.code == 2, done.out + done.err
    said = done.out + done.err
    assert "5    video_id  x800003  video x800003 belongs to the channel x1ch003, which no " \
        "configured account lists" in said
    assert written(owned) == {} and sum(owned.counters.not_owner_by_key.values()) == 0
    # --skip-invalid sends the others, each through its owner's account.
    done = run_cli("apply", str(path), "--config", str(tmp_path / "bulkedit.toml"),
                   "--api-base", owned.base_url, "--yes", "--skip-invalid")
    assert done.code != 0 and written(owned) == {
        brand.key: {video_id(n): 1} for n, brand in enumerate(BRANDS)}
    assert sum(owned.counters.not_owner_by_key.values()) == 0
