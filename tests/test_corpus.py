"""The corpus: sheets made by real programs, each with what the user meant (issue 25, point 10).

tests/data/corpus/ holds the sheets (made by tests/data/make_corpus.py: LibreOffice in
French and German, pandas with both Excel engines, the csv module's legacy dialects, CMS
and SQL export shapes, sqlite3); MANIFEST.toml says, per sheet and per set of options,
what `validate` then `apply` against the sandbox must do: write exactly the values the
user meant, or refuse, send nothing and name the problem and its fix.
"""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from conftest import apply

from bulkedit.sandbox.store import video_id

CORPUS = Path(__file__).parent / "data" / "corpus"
VIDEOS = 64  # the corpus uses x800000… up to x80001r
MANIFEST = tomllib.loads((CORPUS / "MANIFEST.toml").read_text(encoding="utf-8"))


def _cases() -> list[Any]:
    cases = []
    for entry in MANIFEST["sheet"]:
        for run in entry["run"]:
            label = entry["file"] + ("[" + " ".join(run["options"]) + "]"
                                     if run["options"] else "")
            cases.append(pytest.param(entry, run, id=label))
    return cases


def test_the_manifest_names_every_sheet_once():
    named = [entry["file"] for entry in MANIFEST["sheet"]]
    on_disk = sorted(p.name for p in CORPUS.iterdir() if p.name != "MANIFEST.toml")
    assert sorted(named) == on_disk and len(set(named)) == len(named)
    for entry in MANIFEST["sheet"]:
        assert entry["made_by"] and entry["class"] and entry["meant"], entry["file"]
        assert entry["run"][0]["options"] == [], f"{entry['file']}: the default run first"
        for run in entry["run"]:
            assert run["outcome"] in ("applied", "refused"), entry["file"]
            if run["outcome"] == "applied":
                assert run["stored"], entry["file"]
            else:
                assert run.get("problems") or run.get("words"), entry["file"]


def _validate(run_cli, path: Path, tmp_path: Path, options: list[str]):
    report = tmp_path / "problems.json"
    result = run_cli("validate", str(path), "--report", str(report), *options)
    found = json.loads(report.read_text(encoding="utf-8")) if report.exists() else []
    return result, found


@pytest.mark.parametrize("entry, run", _cases())
def test_corpus_sheet(entry, run, run_cli, api, tmp_path):
    name, options = entry["file"], run["options"]
    path = tmp_path / name  # apply writes its results and rollback beside the sheet
    path.write_bytes((CORPUS / name).read_bytes())
    checked, found = _validate(run_cli, path, tmp_path, options)
    told = checked.out + checked.err + "".join(p["message"] + p.get("value", "")
                                               for p in found)
    shown = f"{name} {options}\n{checked.out}{checked.err}"

    sandbox = api(videos=VIDEOS)
    before = {video_id(i): copy.deepcopy(sandbox.video(video_id(i))) for i in range(VIDEOS)}
    applied = apply(run_cli, sandbox, path, *options)
    done = f"{shown}\napply exit {applied.code}: {applied.out}{applied.err}"

    if run["outcome"] == "refused":
        # The promise first: a refused sheet sends nothing; else say what it wrote.
        assert sum(sandbox.counters.writes.values()) == 0, (
            f"wrote {_changes(sandbox, before)}\n{done}")
        assert applied.code != 0, done
        assert checked.code in run.get("validate_exit", [1, 2]), shown
        for problem in run.get("problems", []):
            assert any(p["row"] == problem["row"] and p["column"] == problem["column"]
                       and p["code"] == problem.get("code", p["code"]) for p in found), (
                f"no problem at row {problem['row']}, {problem['column']}: {found}\n{shown}")
        for word in run.get("words", []):
            assert word.lower() in told.lower(), f"{word!r} not said\n{shown}"
        return

    assert checked.code == 0, shown
    assert applied.code == 0, done
    for video, fields in run["stored"].items():
        stored = sandbox.video(video)
        got = {field: stored[field] for field in fields}
        assert got == fields, f"{video}: stored {got}, meant {fields}\n{done}"
    for video, fields in run.get("kept", {}).items():
        stored = sandbox.video(video)
        assert {f: stored[f] for f in fields} == {f: before[video][f] for f in fields}, (
            f"{video}: blank cells changed {fields}\n{done}")
    for video in run.get("untouched", []):
        assert sandbox.counters.writes[video] == 0, f"{video} was written\n{done}"
        assert sandbox.video(video) == before[video], done



def _changes(sandbox, before: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What a refused sheet wrote anyway: per video, each changed field's new value."""
    ignored = {"updated_time"}
    return {video: {f: v for f, v in sandbox.video(video).items()
                    if f not in ignored and old.get(f) != v}
            for video, old in before.items() if sandbox.counters.writes[video]}
