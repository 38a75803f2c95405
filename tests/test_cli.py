"""The command line, in-process: exact messages and exit codes; samples pinned."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"

# What samples/broken.csv must report: (row, column, code), in order.
BROKEN_EXPECTED = [
    (1, "duration", "read_only"), (1, "titel", "unknown_column"),
    (3, "channel", "enum"), (4, "private", "type"), (5, "video_id", "bad_id"),
    (6, "video_id", "private_id"), (7, "video_id", "required"), (8, "title", "not_clearable"),
    (9, "expiry_date", "date_order"), (10, "publish_date", "bad_date"),
    (11, "geoblocking", "geoblocking_mode"), (12, "explicit", "irreversible"),
    (13, "custom_classification", "too_many"), (14, "tags", "mixed_patch"),
    (15, "video_id", "duplicate_id"), (16, "video_id", "duplicate_id"),
]


def test_help_lists_every_command(run_cli):
    result = run_cli("--help")
    assert result.code == 0
    for command in ("fields", "validate", "template"):
        assert command in result.out


def test_python_dash_m_works():
    done = subprocess.run([sys.executable, "-m", "bulkedit", "--version"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0 and done.stdout.startswith("bulkedit ")


def test_usage_mistakes_are_one_line_and_exit_2(run_cli):
    result = run_cli("frobnicate")
    assert result.code == 2 and result.out == ""
    assert result.err.count("\n") == 1 and result.err.startswith("bulkedit: error: argument")
    result = run_cli("validate", str(SAMPLES / "edits.csv"), "--timezone", "Mars/Olympus")
    assert result.code == 2
    assert result.err == ("bulkedit: error: --timezone Mars/Olympus: unknown time zone; use an "
                          "IANA name like Europe/Paris or UTC\n")


# ----------------------------------------------------------------------------- fields

def test_fields_table(run_cli):
    result = run_cli("fields")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0].split()[:3] == ["field", "kind", "limits"]
    assert any(line.startswith("title ") and "1-255 characters" in line for line in lines)
    assert "Not edited by bulkedit: url, mode, ai_metadata_generation" in result.out
    assert "Read-only: id, private_id" in result.out


def test_fields_json_and_markdown(run_cli):
    payload = json.loads(run_cli("fields", "--format", "json").out)
    names = {f["field"] for f in payload["fields"]}
    assert {"title", "tags", "geoblocking"} <= names and "url" not in names
    everything = json.loads(run_cli("fields", "--all", "--format", "json").out)
    url = next(f for f in everything["fields"] if f["field"] == "url")
    assert url["access"] == "refused" and "video file" in url["notes"]
    markdown = run_cli("fields", "--format", "markdown").out.splitlines()
    assert markdown[0].startswith("| field | kind | limits |") and markdown[1].startswith("|---|")


# ----------------------------------------------------------------------------- validate

def test_validate_valid_samples(run_cli):
    for name in ("edits.xlsx", "edits.csv"):
        result = run_cli("validate", str(SAMPLES / name))
        assert result.code == 0, result.out
        shown = f"sheet 'Edits' of {SAMPLES / name}" if name.endswith("xlsx") else SAMPLES / name
        assert result.out == (f"{shown}: 60 rows, 60 valid, 0 invalid, 0 warnings\n"
                              "The sheet is valid; `bulkedit plan` checks its changes "
                              "against the live videos.\n")


def test_validate_broken_sample_pins_every_problem(run_cli, tmp_path):
    report = tmp_path / "problems.json"
    result = run_cli("validate", str(SAMPLES / "broken.csv"), "--max-shown", "100",
                     "--report", str(report))
    assert result.code == 1
    problems = json.loads(report.read_text(encoding="utf-8"))
    assert [(p["row"], p["column"], p["code"]) for p in problems] == BROKEN_EXPECTED
    table = result.out.split("\n\n", 1)[1].splitlines()[2:2 + len(BROKEN_EXPECTED)]
    for line, (row, column, _) in zip(table, BROKEN_EXPECTED, strict=True):
        assert line.split()[:2] == [str(row), column]
    # No row counts as valid while the header blocks the sheet; explicit=true is a warning
    # until the plan knows whether the video is already explicit.
    assert result.out.startswith(f"{SAMPLES / 'broken.csv'}: 15 rows, 0 valid, 13 invalid, "
                                 "1 warnings\n2 problems in the header row (row 1) block the "
                                 "whole sheet.\n")
    assert result.out.endswith("Fix the problems above, then validate again. Nothing was "
                               "sent.\n")


def test_validate_shows_the_first_problems_and_counts_the_rest(run_cli):
    result = run_cli("validate", str(SAMPLES / "broken.csv"), "--max-shown", "3")
    assert "… and 13 more problems (write them all with --report problems.xlsx)" in result.out


def test_validate_reports_in_every_format(run_cli, tmp_path):
    for suffix in (".csv", ".xlsx"):
        report = tmp_path / f"problems{suffix}"
        assert run_cli("validate", str(SAMPLES / "broken.csv"), "--report", str(report)
                       ).code == 1
        if suffix == ".csv":
            with report.open(encoding="utf-8-sig", newline="") as handle:
                rows = list(csv.reader(handle))
        else:
            rows = [list(r) for r in openpyxl.load_workbook(report).active.iter_rows(
                values_only=True)]
        assert rows[0] == ["row", "column", "value", "code", "severity", "message"]
        assert [(int(r[0]), r[1], r[3]) for r in rows[1:]] == BROKEN_EXPECTED


def test_reports_never_hold_a_formula(run_cli, tmp_path):
    sheet = tmp_path / "evil.csv"
    sheet.write_text('video_id,channel\nx8abc12,"=HYPERLINK(""http://evil"")"\n',
                     encoding="utf-8")
    for suffix in (".csv", ".xlsx"):
        report = tmp_path / f"problems{suffix}"
        assert run_cli("validate", str(sheet), "--report", str(report)).code == 1
        if suffix == ".csv":
            with report.open(encoding="utf-8-sig", newline="") as handle:
                rows = list(csv.reader(handle))
            assert rows[1][2] == "'=HYPERLINK(\"http://evil\")"  # shown as text by Excel
        else:
            value = openpyxl.load_workbook(report).active["C2"]
            assert value.value == '=HYPERLINK("http://evil")' and value.data_type == "s"


def test_validate_refuses_a_bad_report_name_before_reading(run_cli, tmp_path):
    result = run_cli("validate", str(tmp_path / "missing.csv"), "--report", "out.pdf")
    assert result.code == 2
    assert "use a name ending in .csv, .xlsx or .json" in result.err


def test_unreadable_file_is_one_line_exit_2(run_cli, tmp_path):
    garbage = tmp_path / "garbage.xlsx"
    garbage.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
    result = run_cli("validate", str(garbage))
    assert result.code == 2 and result.out == ""
    assert result.err == (f"bulkedit: error: {garbage}: the workbook is damaged or incomplete "
                          "(not a valid zip). Open it in Excel; if it opens, save it again, "
                          "else get a new copy\n")


def test_unreadable_file_in_a_subprocess_has_no_traceback(tmp_path):
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(bytes(range(256)) * 64)
    done = subprocess.run([sys.executable, "-m", "bulkedit", "validate", str(garbage)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1


# ----------------------------------------------------------------------------- template

def test_template_command(run_cli, tmp_path):
    result = run_cli("template", "-o", str(tmp_path / "t.xlsx"), "--fields", "title,Tags,private")
    assert result.code == 0
    assert result.out == f"Template written to {tmp_path / 't.xlsx'}: video_id, title, tags, " \
                         "private\n"
    book = openpyxl.load_workbook(tmp_path / "t.xlsx")
    assert [c.value for c in book["Edits"][1]] == ["video_id", "title", "tags", "private"]
    csv_result = run_cli("template", "-o", str(tmp_path / "t.csv"))
    assert csv_result.code == 0
    assert (tmp_path / "t.csv").read_text(encoding="utf-8-sig").startswith("video_id,title,")


def test_template_unknown_field(run_cli, tmp_path):
    result = run_cli("template", "-o", str(tmp_path / "t.xlsx"), "--fields", "title,colour")
    assert result.code == 2
    assert result.err.startswith("bulkedit: error: colour is not a video field")


# What each of samples/broken.csv's problems tells the user, word for word: the message is
# where the fix is, so an emptied or changed reason must fail (issue 28, point 3).
BROKEN_MESSAGES = [
    (1, 'duration',
     'duration is a read-only field that Dailymotion sets itself; delete the column '
     'or start its header with # to keep it as a comment'),
    (1, 'titel',
     "'titel' is not a video field; did you mean 'title'? rename it, or start it with "
     '# to keep it as a comment (`bulkedit fields` lists every field)'),
    (3, 'channel',
     "not an allowed value; did you mean 'sport'? allowed: animals, auto, creation, "
     'fun, kids, lifestyle, music, news, people, school, shortfilms, sport, tech, '
     'travel, tv, videogames, webcam'),
    (4, 'private',
     "not a yes/no value; write true or false (also yes/no, 1/0, y/n, and Excel's "
     'words in other languages: VRAI/FAUX, WAHR/FALSCH, VERDADERO/FALSO, VERO/FALSO, '
     'VERDADEIRO/FALSO, WAAR/ONWAAR, oui/non, ja/nein, sí/no, sim/não, ja/nee)'),
    (5, 'video_id',
     'video ids are lower case; write x800003'),
    (6, 'video_id',
     "this is a private id (k…), which the API cannot edit; use the video's public id "
     '(x…), shown in Dailymotion Studio'),
    (7, 'video_id',
     "the video id is missing; write the video's id (like x8abc12) or its URL"),
    (8, 'title',
     'title cannot be cleared; leave the cell blank to keep the current value, or '
     'write a new one'),
    (9, 'expiry_date',
     'expiry_date must be after publish_date on the same row; fix one of the two dates'),
    (10, 'publish_date',
     'looks like an Excel serial day number, not a date; format the cell as a date, '
     'or write ISO 8601 like 2026-12-01 or 2026-12-01T18:00:00+01:00'),
    (11, 'geoblocking',
     "'deny' may only be the first item; write it once, before the country codes"),
    (12, 'explicit',
     'setting explicit to true can never be undone on Dailymotion; plan and apply '
     'refuse it for videos not already explicit unless you pass --allow-irreversible'),
    (13, 'custom_classification',
     '4 items; custom_classification takes at most 3'),
    (14, 'tags',
     'mixes +/- patch items with plain items; start every item with + or - to patch '
     'the live list, or none to replace it'),
    (15, 'video_id',
     "x80000d is also on row 16 with different values; put all of this video's edits "
     'on one row'),
    (16, 'video_id',
     "x80000d is also on row 15 with different values; put all of this video's edits "
     'on one row'),
]


def test_validate_broken_sample_pins_every_message(run_cli, tmp_path):
    report = tmp_path / "problems.json"
    run_cli("validate", str(SAMPLES / "broken.csv"), "--report", str(report))
    problems = json.loads(report.read_text(encoding="utf-8"))
    assert [(p["row"], p["column"], p["message"]) for p in problems] == BROKEN_MESSAGES
