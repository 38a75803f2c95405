"""The calls `plan` says an apply will make are the calls the apply makes: the reads of
the live values, the writes, and the read-backs (the canary's, and every written row's with
verify on). A newcomer's review found a plan promising 61 calls for an apply that made 62.
"""

from __future__ import annotations

import re

import pytest
from conftest import apply, sheet, titles

# Routes that are API calls bulkedit counts (the token request is not one).
TOKEN_ROUTES = {"token"}


def promised_calls(output: str) -> int:
    match = re.search(r"an apply will make (\d+) API calls \(", output)
    assert match, output
    return int(match.group(1))


def api_calls(sandbox) -> int:
    return sum(count for route, count in sandbox.counters.requests.items()
               if route not in TOKEN_ROUTES)


@pytest.mark.parametrize(("rows", "settings", "read_backs"), [
    (150, "", 2),                                  # verify on: 150 rows read back in 2 calls
    (150, "verify = false", 0),                    # nothing read back
    (150, "canary = 3", 3),                        # the canary's 3 apart, then 147 in 2
    (2, "canary = 3\nverify = false", 1),          # a sheet shorter than the canary: all of it
])
def test_plan_promises_the_calls_apply_makes(run_cli, api, tmp_path, rows, settings,
                                             read_backs):
    """`plan` takes the read-back and canary settings an apply with the same bulkedit.toml
    uses ([run] verify, canary), and says how many of its calls read back."""
    sandbox = api(videos=300)
    path = sheet(tmp_path, titles(rows))
    config = tmp_path / "bulkedit.toml"
    config.write_text(f"[run]\n{settings}\n", encoding="utf-8")
    planned = run_cli("plan", str(path), "--api-base", sandbox.base_url, "--rate", "0",
                      "--config", str(config))
    assert planned.code == 0, planned.out + planned.err
    before = api_calls(sandbox)
    assert before == -(-rows // 100)  # the plan itself only read
    promised = promised_calls(planned.out)
    back = f", {read_backs} to read them back" if read_backs else ""
    assert f"({-(-rows // 100)} reads, {rows} writes{back})" in planned.out
    done = apply(run_cli, sandbox, path, "--config", str(config))
    assert done.code == 0, done.out + done.err
    assert api_calls(sandbox) - before == promised
