"""The Python front door: a DataFrame gives exactly what the same data saved to XLSX gives
through the CLI, results come back as DataFrames, and the CLI never imports pandas."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys

import pandas as pd
import pyarrow as pa
import pytest
from conftest import KEY

import bulkedit


def notebook_frame() -> pd.DataFrame:
    """What a notebook builds: strings, numbers, booleans, dates and gaps, mixed."""
    return pd.DataFrame({
        "video_id": ["x800001", "x800002", "x800003", "https://dai.ly/x800004", "X800005"],
        "title": ["Summer in Lisbon", 12.5, None, "Ça va\u200b", "ok"],
        "private": [True, False, None, "yes", "maybe"],
        "publish_date": [dt.datetime(2037, 1, 2, 18, 30), pd.NaT, "2037-03-04", "20370101",
                         "01/12/2037"],
        "tags": ["a, b", "+c", None, 2026, "x"],
        "soundtrack_popularity": [1, 2.0, None, 3, 4],
    })


def as_problems(result) -> list[tuple]:
    return [(i.row, i.column, i.value, i.code, i.severity, i.message) for i in result.problems]


def test_a_dataframe_reads_like_the_same_data_saved_to_xlsx(tmp_path):
    frame = notebook_frame()
    path = tmp_path / "frame.xlsx"
    frame.to_excel(path, index=False, engine="openpyxl")
    from_frame, from_file = bulkedit.validate(frame), bulkedit.validate(path)
    assert as_problems(from_frame) == as_problems(from_file)
    assert from_frame.rows == from_file.rows
    assert len(from_frame.problems) >= 4 and not from_frame.ok  # the sheet has mistakes



def test_a_pyarrow_table_reads_like_its_workbook(tmp_path):
    table = pa.table({"video_id": ["x800001", "x800002"], "title": ["A", None],
                      "private": [True, None], "soundtrack_popularity": [3, None],
                      "publish_date": [dt.datetime(2037, 1, 2), None]})
    path = tmp_path / "table.xlsx"
    table.to_pandas().to_excel(path, index=False, engine="openpyxl")
    assert bulkedit.validate(table).rows == bulkedit.validate(path).rows


def test_plan_and_apply_from_a_dataframe_match_the_cli(run_cli, tmp_path):
    frame = notebook_frame().iloc[:3]  # the valid rows
    path = tmp_path / "frame.xlsx"
    frame.to_excel(path, index=False, engine="openpyxl")
    with bulkedit.local_sandbox(videos=20) as first, bulkedit.local_sandbox(videos=20) as second:
        planned = bulkedit.plan(frame, api=first)
        assert planned.counts() == {"change": 3} and planned.estimate.calls == 5  # and 1 read-back
        changes = planned.to_pandas()
        assert list(changes.columns) == ["row", "video_id", "status", "field", "live", "new",
                                         "note"]
        assert set(changes["field"]) == {"title", "private", "publish_date", "tags",
                                         "soundtrack_popularity"}
        done = bulkedit.apply(frame, api=first)
        assert done.exit_code == 0 and done.counts() == {"updated": 3}
        assert list(done.to_pandas()["status"]) == ["updated"] * 3
        cli = run_cli("apply", str(path), "--api-base", second.base_url, "--yes", "--rate",
                      "0", "--credentials", str(_credentials(tmp_path, second)))
        assert cli.code == 0, cli.out + cli.err
        for video in ("x800001", "x800002", "x800003"):  # the same writes
            written, by_cli = first.video(video), second.video(video)
            written.pop("updated_time"), by_cli.pop("updated_time")
            assert written == by_cli


def _credentials(tmp_path, running):
    path = tmp_path / "credentials.toml"
    key, secret = running.key
    path.write_text(f'api_key = "{key}"\napi_secret = "{secret}"\n', encoding="utf-8")
    path.chmod(0o600)
    return path


def test_works_inside_a_running_event_loop_like_a_notebook():
    async def cell() -> dict[str, int]:
        with bulkedit.local_sandbox(videos=5) as api:
            return bulkedit.plan(pd.DataFrame({"video_id": ["x800001"], "title": ["T"]}),
                                 api=api).counts()

    assert asyncio.run(cell()) == {"change": 1}


def test_problems_as_a_dataframe_and_clear_errors():
    problems = bulkedit.validate(notebook_frame()).to_pandas()
    assert list(problems.columns) == ["row", "column", "value", "code", "severity", "message"]
    assert "bad_id" in set(problems["code"])
    with pytest.raises(bulkedit.UsageError, match="pyarrow Table"):
        bulkedit.validate(42)
    with pytest.raises(bulkedit.UsageError, match="unknown time zone"):
        bulkedit.validate(notebook_frame(), timezone="Mars/Olympus")
    with pytest.raises(bulkedit.UsageError, match="unknown option"):
        bulkedit.plan(notebook_frame(), api_base="http://127.0.0.1:9", credentials=(
            KEY.key, KEY.secret), colour="red")


def test_no_module_but_the_python_api_imports_pandas():
    """pandas is the API's optional extra: only bulkedit/api.py may import it, lazily. (Once
    it is installed, pyarrow itself loads it on first use to recognise DataFrames; bulkedit
    does not.)"""
    import ast
    from pathlib import Path

    package = Path(bulkedit.__file__).parent
    for module in package.rglob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        names = {alias.name.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.Import | ast.ImportFrom)
                 for alias in getattr(node, "names", [])}
        names |= {node.module.split(".")[0] for node in ast.walk(tree)
                  if isinstance(node, ast.ImportFrom) and node.module}
        assert "pandas" not in names or module.name == "api.py", module
    code = "import sys, bulkedit.cli.main; print('pandas' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "False"  # importing the command line loads no pandas
