"""`bulkedit plan`'s estimate of a sheet whose rows go to several accounts (issue 30;
run/plan_estimate.py): the accounts run at the same time, so the time is the slowest
account's (its calls at its own rate), each account's part on its own line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import sheet

from bulkedit.run.accounts import ACCOUNT_ENV
from bulkedit.sandbox.config import accounts
from bulkedit.sandbox.store import video_id

BRANDS = accounts(3, 3)
NAMES = ("brand1", "brand2", "brand3")
RATES = (20, 20, 2)  # brand3 is slow


@pytest.fixture
def three(tmp_path, monkeypatch, api):
    for name, brand in zip(NAMES, BRANDS, strict=True):
        monkeypatch.setenv(f"{name.upper()}_KEY", brand.key)
        monkeypatch.setenv(f"{name.upper()}_SECRET", brand.secret)
    monkeypatch.delenv(ACCOUNT_ENV, raising=False)
    path = tmp_path / "bulkedit.toml"
    path.write_text("[api]\nrate = 20\n" + "".join(
        f'[accounts.{name}]\nkey_env = "{name.upper()}_KEY"\n'
        f'secret_env = "{name.upper()}_SECRET"\nchannels = {json.dumps(list(brand.owners))}\n'
        f"rate = {rate}\n" for name, brand, rate in zip(NAMES, BRANDS, RATES, strict=True)),
        encoding="utf-8")
    path.chmod(0o600)
    return api(keys=BRANDS, owners=3, videos=300), path


def plan(run_cli, sandbox, config: Path, path: Path):
    done = run_cli("plan", str(path), "--config", str(config), "--api-base", sandbox.base_url)
    assert done.code == 0, done.out + done.err
    return done.out


def test_a_mixed_sheet_takes_as_long_as_its_slowest_account(three, run_cli, tmp_path):
    sandbox, config = three
    rows = [{"video_id": video_id(i), "title": f"Timed {i}", "#account": NAMES[i % 3]}
            for i in range(60)]  # 20 rows per account
    said = plan(run_cli, sandbox, config, sheet(tmp_path, rows))
    # Each account: 1 read, 20 writes, 1 read-back = 22 calls; brand3's at 2/s is
    # 22 / 1.9 = 11.6 s, the others' 1.2 s: the sheet's time is brand3's, not the sum.
    assert "an apply will make 66 API calls (3 reads, 60 writes, 3 to read them back), " \
           "about 12 s, its slowest account's (brand3), the accounts at the same time." in said
    assert "  brand1: 22 API calls (1 reads, 20 writes, 1 to read them back), about 1 s at " \
           "20/s" in said
    assert "  brand3: 22 API calls (1 reads, 20 writes, 1 to read them back), about 12 s " \
           "at 2/s" in said


def test_the_owner_lookup_s_reads_are_in_its_reader_s_part(three, run_cli, tmp_path):
    sandbox, config = three
    rows = [{"video_id": video_id(i), "title": f"Owned {i}"} for i in range(30)]
    said = plan(run_cli, sandbox, config, sheet(tmp_path, rows))
    # brand1, the first account, reads the 30 owners in one call before its own read.
    assert "  brand1: 13 API calls (2 reads, 10 writes, 1 to read them back)" in said
    assert "  brand2: 12 API calls (1 reads, 10 writes, 1 to read them back)" in said
    assert "its slowest account's (brand3)" in said
