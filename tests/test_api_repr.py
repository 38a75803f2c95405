"""The Python API in a notebook (issue 29, point 9): `dir(bulkedit)` lists the public names
without loading them, each result has a one-line repr in the command line's words (never an
Arrow array or pages of rows), a notebook table that escapes what it shows, and a time
estimate rounded to what it can promise."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import bulkedit
from bulkedit.core.display import HTML_ROWS, rounded_duration
from bulkedit.core.outcomes import Estimate

SCRIPT = "<script>alert(1)</script>"


def edits(noop_title: str) -> pd.DataFrame:
    """Two changes, one row already as it is live (a noop), one invalid row."""
    return pd.DataFrame({"video_id": ["x800001", "x800002", "x800003", "x800004"],
                         "title": [SCRIPT, noop_title, "Winter in Oslo", "Fine"],
                         "private": ["true", "", "", "maybe"]})


# ----------------------------------------------------------------------------- dir()

def test_dir_lists_the_public_names_and_each_is_there():
    names = dir(bulkedit)
    assert names == sorted(bulkedit.__all__)
    assert {"validate", "plan", "apply", "read", "local_sandbox", "Validation", "Plan",
            "Applied", "ApiLimits", "ExitCode", "UsageError"} <= set(names)
    assert all(getattr(bulkedit, name) is not None for name in names)
    assert "Any" not in names and "annotations" not in names  # no import leaks in


def test_dir_loads_nothing():
    code = ("import json, sys, bulkedit\nnames = dir(bulkedit)\n"
            "print(json.dumps([names, [m for m in ('pyarrow', 'bulkedit.api', "
            "'bulkedit.core.errors') if m in sys.modules]]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    names, loaded = json.loads(done.stdout)
    assert names == sorted(bulkedit.__all__) and loaded == []


# ----------------------------------------------------------------------------- reprs

def test_a_validation_reads_like_bulkedit_validate(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = Path("edits.csv")
    rows = "".join(f"x8{i:05d},Title {i}\n" for i in range(5000))
    path.write_text("video_id,title\n" + rows + "x8zzzzz!,Bad\n", encoding="utf-8")
    validation = bulkedit.validate(path)
    text = repr(validation)
    assert text == f"<Validation {path}: 5,001 rows — 5,000 valid, 1 invalid, 0 warnings>"
    assert repr(validation.result) == "<ValidationResult" + text.removeprefix("<Validation")
    sheet = bulkedit.read(path)
    assert repr(sheet) == f"<Sheet {path}: 5,001 rows × 2 columns (video_id, title)>"
    assert repr(sheet.columns[1]) == "<Column B 'title' (title): 5,001 cells>"


def test_a_long_path_keeps_its_end(tmp_path):
    folder = tmp_path / ("deep" * 20)
    folder.mkdir()
    path = folder / "edits.csv"
    path.write_text("video_id,title\nx800001,A\n", encoding="utf-8")
    text = repr(bulkedit.validate(path))
    assert text.startswith("<Validation …") and "deepdeep/edits.csv: 1 row — 1 valid" in text
    assert len(text) < 120


def test_plan_and_apply_reprs_use_the_words_of_their_counts():
    with bulkedit.local_sandbox(videos=10) as api:
        frame = edits(api.video("x800002")["title"])
        limits = bulkedit.ApiLimits(rate=20)
        plan = bulkedit.plan(frame, api=api, skip_invalid=True, limits=limits)
        assert plan.counts() == {"change": 2, "noop": 1, "invalid": 1}
        assert all(type(word) is str for word in plan.counts())  # plain words, not enums
        # The words and order of `bulkedit plan`'s line: "4 rows — 2 change, 1 invalid…";
        # the calls: 1 read, 2 writes, 1 read-back
        assert repr(plan) == ("<Plan <table>: 4 rows — 2 change, 1 invalid, 1 noop; apply: "
                              "4 API calls, under a second at 20/s>")
        assert repr(plan.result) == ("<RunResult dry run <table>: 4 rows — 2 change, "
                                     "1 invalid, 1 noop>")
        done = bulkedit.apply(frame, api=api, skip_invalid=True, limits=limits)
        assert done.counts() == {"updated": 2, "unchanged": 1, "invalid": 1}
        text = repr(done)
        assert text.startswith("<Applied <table>: 4 rows in ")
        assert text.endswith(" — 1 invalid, 1 unchanged, 2 updated; exit 1>")
    for shown in (repr(plan), repr(done), repr(plan.result), repr(done.result)):
        assert "ChunkedArray" not in shown and "pyarrow" not in shown and SCRIPT not in shown
    assert "skipped" not in repr(plan) and "unchanged" not in repr(plan)


# ----------------------------------------------------------------------------- notebook tables

def test_every_notebook_table_escapes_what_it_shows():
    with bulkedit.local_sandbox(videos=10) as api:
        frame = edits("Unrelated")
        frame.loc[3, "private"] = "<b>maybe</b>"  # an invalid cell that holds markup
        pages = {"sheet": bulkedit.read(frame)._repr_html_(),
                 "validation": bulkedit.validate(frame)._repr_html_(),
                 "plan": bulkedit.plan(frame, api=api, skip_invalid=True)._repr_html_(),
                 "applied": bulkedit.apply(frame, api=api, skip_invalid=True)._repr_html_()}
    for name, page in pages.items():
        assert page.startswith("<div class='bulkedit'>") and "<table>" in page, name
        assert "<script" not in page and "<b>" not in page, name
        assert "&lt;table&gt;" in page, name  # the source's own name, escaped
    for name in ("sheet", "plan"):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[name], name
    for name in ("sheet", "validation"):  # the cell itself; plan and apply say why it fails
        assert "&lt;b&gt;maybe&lt;/b&gt;" in pages[name], name


def test_a_notebook_table_shows_the_first_rows_and_says_how_many_more(tmp_path):
    path = tmp_path / "edits.csv"
    path.write_text("video_id,private\n" + "".join(f"x8{i:05d},maybe\n" for i in range(45)),
                    encoding="utf-8")
    page = bulkedit.validate(path)._repr_html_()
    assert page.count("<tr>") == 1 + HTML_ROWS  # the header, then the first rows
    assert f"… and {45 - HTML_ROWS} more (every problem: .to_pandas())" in page
    sheet_page = bulkedit.read(path)._repr_html_()
    assert sheet_page.count("<tr>") == 1 + HTML_ROWS
    assert f"… and {45 - HTML_ROWS} more" in sheet_page


# ----------------------------------------------------------------------------- the time

@pytest.mark.parametrize(("seconds", "said"), [
    (0.0, "under a second"), (0.49, "under a second"), (0.5, "under a second"),
    (0.6, "1 s"), (5.3, "5 s"),
    (59.6, "1 min"), (130.0, "2 min 10 s"), (134.9, "2 min 10 s"), (599.0, "10 min"),
    (845.0, "14 min"), (5100.0, "1 h 25 min"), (7830.0, "2 h 10 min"), (90000.0, "25 h"),
])
def test_a_duration_is_rounded_to_what_an_estimate_can_promise(seconds, said):
    assert rounded_duration(seconds) == said


def test_an_estimate_is_rounded_in_its_value_and_its_repr():
    shown = Estimate(13, 1191, 125.4, rate=10.0)
    assert repr(shown) == ("<Estimate 1,204 API calls (13 reads, 1,191 writes), about 2 min "
                           "10 s at 10/s>")
    read_back = Estimate(13, 1191, 126.7, read_backs=12, rate=10.0)
    assert repr(read_back) == ("<Estimate 1,216 API calls (13 reads, 1,191 writes, 12 to read "
                               "them back), about 2 min 10 s at 10/s>")
    assert repr(Estimate(1, 0, None)) == ("<Estimate 1 API call (1 read, 0 writes), no time: "
                                          "no fixed rate>")


def test_a_plan_s_seconds_are_to_a_tenth():
    with bulkedit.local_sandbox(videos=10) as api:
        plan = bulkedit.plan(pd.DataFrame({"video_id": ["x800001"], "title": ["T"]}), api=api,
                             limits=bulkedit.ApiLimits(rate=7))
    # a read, a write and a read-back, at 7/s less the limiter's 5 %
    assert plan.estimate.seconds == round(3 / (7 * 0.95), 1) == 0.5
    assert plan.estimate.rate == 7 and plan.estimate.time == "under a second"


# ----------------------------------------------------------------------------- the docs

def test_the_reprs_the_python_page_shows_are_what_comes_out(tmp_path, monkeypatch):
    """docs/python-api.md's example, run as shown; then each `>>> name` line it shows."""
    import re

    page = (Path(__file__).resolve().parent.parent / "docs" / "python-api.md").read_text(
        encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```", page, flags=re.S | re.M)
    monkeypatch.chdir(tmp_path)
    names: dict[str, object] = {}
    exec(blocks[0], names)  # the example: validate, plan and apply on a local sandbox
    shown = re.findall(r"^>>> (\w+)\n(<.*>)$", blocks[1], flags=re.M)
    assert [name for name, _ in shown] == ["report", "plan", "done"]
    for name, text in shown:
        assert repr(names[name]) == text, name
