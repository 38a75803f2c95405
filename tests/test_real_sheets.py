"""Sheets as real people and spreadsheet programs write them (tests/data/real/, issue 11).

Every cell becomes the value the user meant, or one problem at its row and column, and
nothing is sent. The files are made by tests/data/make_real_sheets.py and committed.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import apply, results, sheet

from bulkedit.core.cells import FALSE_WORDS, TRUE_WORDS, parse_cell, parse_date
from bulkedit.core.charclasses import visible
from bulkedit.core.planning import PlanRules, RowStatus, plan_row
from bulkedit.core.schema import FIELDS
from bulkedit.core.sheet import SheetReading
from bulkedit.core.types import PatchList, SetValue, Severity, TypedRow
from bulkedit.core.validation import ValidationOptions, validate
from bulkedit.sheets.load import load_sheet

REAL = Path(__file__).parent / "data" / "real"


def at(*parts: int) -> int:
    """Unix seconds of a UTC date and time."""
    return int(datetime(*parts, tzinfo=UTC).timestamp())


def copy(name: str, tmp_path: Path) -> Path:
    """A committed sheet in a scratch folder: apply writes its journal and sheets beside it."""
    target = tmp_path / name
    target.write_bytes((REAL / name).read_bytes())
    return target


def problems(run_cli, path: Path, tmp_path: Path, *extra: str) -> tuple[int, list[tuple]]:
    report = tmp_path / "problems.json"
    result = run_cli("validate", str(path), "--report", str(report), *extra)
    found = json.loads(report.read_text(encoding="utf-8"))
    return result.code, [(p["row"], p["column"], p["code"], p["severity"]) for p in found]


# ----------------------------------------------------------------------------- dates

def test_dates_sheet(run_cli, tmp_path):
    code, found = problems(run_cli, REAL / "dates.csv", tmp_path)
    assert code == 1
    assert found == [(3, "expiry_date", "implausible_date", "error"),
                     (4, "publish_date", "implausible_date", "error"),
                     (5, "publish_date", "bad_date", "error"),
                     (6, "publish_date", "past_date", "warning"),
                     (8, "expiry_date", "bad_date", "error")]
    rows = {r.video_id: r for r in validate(load_sheet(REAL / "dates.csv")).rows()}
    assert rows["x800001"].changes["expiry_date"] == SetValue(at(2037, 1, 31))  # not 1970
    assert rows["x800006"].changes["expiry_date"] == SetValue(2115123456)
    assert rows["x800008"].changes["publish_date"] == SetValue(at(2037, 3, 4, 18))


def test_day_month_order_is_refused_unless_the_user_says_which(run_cli, tmp_path):
    path = sheet(tmp_path, [{"video_id": "x800001", "publish_date": "01/12/2037"},
                            {"video_id": "x800002", "publish_date": "13.12.2037"},
                            {"video_id": "x800003", "publish_date": "05/05/2037 18:30"}])
    code, found = problems(run_cli, path, tmp_path)
    assert code == 1 and [f[0] for f in found] == [2, 3]  # 05/05 reads the same either way
    message = parse_date("13.12.2037", UTC)[1]
    assert "only day first (2037-12-13)" in message and "--date-order dmy" in message
    dmy = validate(load_sheet(path), ValidationOptions(date_order="dmy"))
    assert dmy.ok and [r.changes["publish_date"] for r in dmy.rows()] == [
        SetValue(at(2037, 12, 1)), SetValue(at(2037, 12, 13)), SetValue(at(2037, 5, 5, 18, 30))]
    mdy = validate(load_sheet(path), ValidationOptions(date_order="mdy"))
    assert [i.row for i in mdy.errors] == [3]  # 13 is no month
    assert next(mdy.rows()).changes["publish_date"] == SetValue(at(2037, 1, 12))
    assert run_cli("validate", str(path), "--date-order", "dmy").code == 0


@pytest.mark.parametrize("text", ["1.12.26", "01/12/37", "Dec 1, 2037", "999999999",
                                  "20371232", "1234567", "17961444000000"])
def test_numbers_and_forms_that_are_not_surely_dates_are_refused(text):
    seconds, reason = parse_date(text, UTC)
    assert seconds is None and "2026-12-01" in reason


def test_past_expiry_on_a_video_it_deletes(api, run_cli, tmp_path):
    sandbox = api()
    sandbox.store.update("x800002", {"expiry_date_deletion": False})
    rows = [{"video_id": "x800001", "expiry_date": "2021-06-01"},  # deletion on (default)
            {"video_id": "x800002", "expiry_date": "2021-06-01"},  # deletion off: a warning
            {"video_id": "x800003", "title": "Fine"}]
    path = sheet(tmp_path, rows)
    refused = apply(run_cli, sandbox, path)
    assert refused.code == 2, refused.out + refused.err
    assert "--allow-past-expiry" in refused.out and "would delete the video" in refused.out
    assert sum(sandbox.counters.writes.values()) == 0  # nothing sent, not even row 4
    assert [r["#status"] for r in results(tmp_path / "edits.results.csv")] == [
        "invalid", "skipped", "skipped"]
    allowed = apply(run_cli, sandbox, path, "--allow-past-expiry")
    assert allowed.code == 0, allowed.out
    assert sandbox.video("x800001")["expiry_date"] == at(2021, 6, 1)
    # validate warns (the live value decides); turning deletion on under a past expiry,
    # or a row that turns it on itself, is refused like a past date.
    own = sheet(tmp_path, [{"video_id": "x800002", "expiry_date_deletion": "true"},
                           {"video_id": "x800004", "expiry_date": "2021-06-01",
                            "expiry_date_deletion": "no"}], "own.csv")
    assert problems(run_cli, own, tmp_path)[1] == [(3, "expiry_date", "past_date", "warning")]
    turned = apply(run_cli, sandbox, own)
    assert turned.code == 2 and "would delete the video" in turned.out
    assert sandbox.video("x800002")["expiry_date_deletion"] is False
    assert sandbox.video("x800004")["expiry_date"] is None


# ----------------------------------------------------------------------------- error cells

@pytest.mark.parametrize("name, expected", [
    ("error-cells.csv", [(2, "title"), (3, "video_id"), (4, "channel"), (5, "title")]),
    ("error-cells.xlsx", [(2, "title"), (3, "video_id"), (4, "channel")]),
    ("error-cells.ods", [(2, "title")]),
])
def test_error_cells_are_problems_at_their_cell(name, expected, run_cli, tmp_path, api):
    code, found = problems(run_cli, REAL / name, tmp_path)
    assert code == 1
    errors = [f for f in found if f[3] == "error"]
    assert [(row, column) for row, column, *_ in errors] == expected
    assert {f[2] for f in errors} == {"excel_error"}  # the #REF! id is not called "missing"
    # A CSV's '#N/A is the user's text, apostrophe and all (issue 25): said, not an error.
    assert [f for f in found if f[3] != "error"] == (
        [(4, "description", "csv_apostrophe", "warning")] if name.endswith(".csv") else [])
    sandbox = api()
    assert apply(run_cli, sandbox, copy(name, tmp_path)).code == 2
    assert sum(sandbox.counters.requests.values()) == 0


def test_error_messages_name_the_error_its_formula_and_cause(run_cli, tmp_path):
    report = tmp_path / "problems.json"
    run_cli("validate", str(REAL / "error-cells.xlsx"), "--report", str(report))
    messages = [p["message"] for p in json.loads(report.read_text(encoding="utf-8"))]
    assert "#N/A (the formula =VLOOKUP(A2,Titles!A:B,2,FALSE) failed: a lookup" in messages[0]
    assert "#REF! (the formula =Ids!A3 failed: a formula refers to a cell" in messages[1]


def test_an_error_literal_written_on_purpose_is_sent_as_text(api, run_cli, tmp_path):
    # In a CSV the apostrophe of '#N/A is the user's text (Excel shows it, issue 25): it is
    # sent, with a warning that --strip-apostrophes sends #N/A alone.
    sandbox = api()
    path = tmp_path / "text.csv"
    path.write_text("video_id,title\nx800001,'#N/A\n", encoding="utf-8")
    assert apply(run_cli, sandbox, path).code == 0
    assert sandbox.video("x800001")["title"] == "'#N/A"
    stripped = load_sheet(path, reading=SheetReading(strip_apostrophes=True))
    assert stripped.row(0)["title"] == "#N/A" and validate(stripped).ok
    # The results sheet keeps it text too, so it can be applied again: the same value.
    raw = (tmp_path / "text.results.csv").read_text(encoding="utf-8-sig")
    assert "''#N/A" in raw
    again = load_sheet(tmp_path / "text.results.csv")
    assert again.row(0)["title"] == "'#N/A" and validate(again).ok and again.issues == ()


# ----------------------------------------------------------------------------- invisible

def test_invisible_characters_are_removed_from_what_is_not_free_text(run_cli, tmp_path):
    code, found = problems(run_cli, REAL / "invisible.csv", tmp_path)
    assert code == 1
    warnings = [(r, c) for r, c, code, s in found if s == "warning"]
    assert warnings == [(1, "title"), (1, "channel"), (2, "video_id"), (2, "channel"),
                        (2, "private"), (2, "tags"), (3, "video_id"), (3, "channel"),
                        (6, "title")]  # free text: trimmed at its ends only
    assert [(r, c, code) for r, c, code, s in found if s == "error"] == [
        (4, "title", "control_char"), (5, "title", "control_char")]
    result = validate(load_sheet(REAL / "invisible.csv"))
    first, second, fifth = result.rows()
    assert first.video_id == "x800001" and first.changes == {
        "title": SetValue("Café\u00a0: thé"),  # free text keeps its no-break space
        "channel": SetValue("news"), "private": SetValue(True), "tags": SetValue(("summer",))}
    assert second.video_id == "x800002" and second.changes["channel"] == SetValue("news")
    assert second.changes["title"] == SetValue("\U0001F468\u200d\U0001F469\u200d\U0001F467 "
                                               "family")  # the emoji's joiners are meant
    assert fifth.changes["title"] == SetValue("evil\u202c title")
    message = next(i.message for i in result.issues if i.column == "title")
    assert "U+200B ZERO WIDTH SPACE" in message


def test_nothing_printed_carries_a_raw_control_or_bidi_character(run_cli, tmp_path):
    path = tmp_path / "evil\u202e\x1b[2J.csv"
    path.write_text("video_id,title,channel\nx800001,\u202eevil\x1b[31m,sp\u009bort\n",
                    encoding="utf-8")
    result = run_cli("validate", str(path))
    printed = result.out + result.err
    for char in ("\x1b", "\u202e", "\u009b"):
        assert char not in printed
    assert "\\u202e" in printed and "\\u001b" in printed and "\\u009b" in printed
    assert visible("ok\ttab\nline") == "ok\ttab\nline"


def test_a_blocking_header_never_leaves_rows_counted_valid(run_cli, tmp_path):
    path = sheet(tmp_path, [{"video_id": "x800001", "titel": "Hello"}])
    out = run_cli("validate", str(path)).out
    assert out.startswith(f"{path}: 1 rows, 0 valid") and "block the whole sheet" in out
    assert list(validate(load_sheet(path)).rows()) == []


# ----------------------------------------------------------------------------- geoblocking

def _plan_geo(cell: str, live: list[str]) -> object:
    change, problems_ = parse_cell(FIELDS["geoblocking"], cell)
    assert not problems_
    return plan_row(TypedRow(2, "x800001", {"geoblocking": change}), {"geoblocking": live})


def test_a_plain_patch_is_only_read_where_adding_and_granting_agree():
    assert _plan_geo("+us", ["allow", "fr"]).diffs[0].new == ("allow", "fr", "us")
    for live in (["allow"], [], ["deny", "fr"]):
        plan = _plan_geo("+us", live)
        assert plan.status is RowStatus.REFUSED
        assert "deny +us" in plan.problems[0].message and "allow +us" in plan.problems[0].message
    assert _plan_geo("-fr", ["deny", "fr"]).status is RowStatus.REFUSED


def test_a_patch_that_names_its_list():
    assert _plan_geo("deny +us", ["deny", "fr"]).diffs[0].new == ("deny", "fr", "us")
    assert _plan_geo("deny, +us", ["allow"]).diffs[0].new == ("deny", "us")
    assert _plan_geo("DENY: -fr", ["deny", "fr"]).diffs[0].new == ("allow",)  # everywhere
    assert _plan_geo("deny +us", ["allow", "fr"]).status is RowStatus.REFUSED
    widened = _plan_geo("allow +us", ["allow"])
    assert widened.status is RowStatus.CHANGE and widened.diffs[0].new == ("allow", "us")
    assert widened.problems[0].severity is Severity.WARNING
    assert "only us may watch" in widened.problems[0].message
    emptied = _plan_geo("-fr", ["allow", "fr"])
    assert emptied.status is RowStatus.REFUSED and "everywhere" in emptied.problems[0].message
    assert parse_cell(FIELDS["geoblocking"], "deny +us, fr")[1][0].code == "mixed_patch"
    assert parse_cell(FIELDS["geoblocking"], "deny +us")[0] == PatchList(("us",), (), "deny")


def test_geoblocking_sheet_against_the_sandbox(api, run_cli, tmp_path):
    sandbox = api()
    live = {"x800001": ["allow"], "x800002": ["deny", "fr"], "x800003": ["allow", "fr"],
            "x800004": ["deny", "fr"], "x800005": ["allow"], "x800006": ["allow", "fr"]}
    for video, value in live.items():
        sandbox.store.update(video, {"geoblocking": value})
    path = copy("geoblocking.csv", tmp_path)
    refused = apply(run_cli, sandbox, path, "--results", str(tmp_path / "r.csv"))
    assert refused.code == 2 and sum(sandbox.counters.writes.values()) == 0
    statuses = [r["#status"] for r in results(tmp_path / "r.csv")]
    assert statuses == ["invalid", "invalid", "skipped", "skipped", "skipped", "invalid"]
    done = apply(run_cli, sandbox, path, "--skip-invalid", "--results", str(tmp_path / "r.csv"))
    assert done.code == 1, done.out
    assert "only us may watch" in done.out
    stored = {v: [c.lower() for c in sandbox.video(v)["geoblocking"]] for v in live}
    assert stored == {"x800001": ["allow"], "x800002": ["deny", "fr"],
                      "x800003": ["allow", "fr", "us"], "x800004": ["deny", "fr", "us"],
                      "x800005": ["allow", "us"], "x800006": ["allow", "fr"]}


# ----------------------------------------------------------------------------- plan-time flags

def test_explicit_needs_the_flag_only_when_it_would_change(api, run_cli, tmp_path):
    sandbox = api()
    sandbox.store.update("x800001", {"explicit": True})
    sandbox.store.update("x800002", {"explicit": False})
    path = sheet(tmp_path, [{"video_id": "x800001", "explicit": "true"},
                            {"video_id": "x800002", "explicit": "true"}])
    assert run_cli("validate", str(path)).code == 0  # a warning: the live value decides
    refused = apply(run_cli, sandbox, path)
    assert refused.code == 2 and sum(sandbox.counters.writes.values()) == 0
    assert [r["#status"] for r in results(tmp_path / "edits.results.csv")] == [
        "unchanged", "invalid"]
    assert apply(run_cli, sandbox, path, "--allow-irreversible").code == 0
    assert sandbox.video("x800002")["explicit"] is True
    rules = PlanRules(allow_irreversible=False)
    row = TypedRow(2, "x800001", {"explicit": SetValue(True)})
    assert plan_row(row, {"explicit": True}, rules).status is RowStatus.NOOP
    assert plan_row(row, {"explicit": False}, rules).status is RowStatus.REFUSED


def test_an_export_of_every_writable_field_is_a_valid_sheet_that_plans_nothing(
        api, run_cli, tmp_path):
    sandbox = api()
    hostile = {"explicit": True, "expiry_date": 2147558400, "publish_date": 0,
               "title": "Next\u0085line", "geoblocking": ["deny", "fr"],
               "description": "#N/A", "tags": ["+plus", "-minus", "#N/A"]}
    sandbox.store.update("x800001", hostile)
    sandbox.store.update("x800002", {"expiry_date": 1622505600})  # in the past, deletes
    sandbox.store.update("x800003", {"publish_date": 800_000_000})  # 1995: reads, but no
    # sheet may hold it (outside 2005-2038), so it is left blank and named
    names = ",".join(s.name for s in FIELDS.values() if s.writable)
    for suffix in (".csv", ".xlsx"):
        out = tmp_path / f"export{suffix}"
        exported = run_cli("export", "--ids", str(_ids(tmp_path, 30)), "-o", str(out),
                           "--fields", names, "--api-base", sandbox.base_url, "--rate", "0")
        assert exported.code == 0, exported.out + exported.err
        assert "title: left blank (keep) for 1 videos" in exported.out  # named, not hidden
        assert "publish_date: left blank (keep) for 1 videos" in exported.out
        assert "exactly (x800003)" in exported.out
        assert run_cli("validate", str(out)).code == 0
        planned = run_cli("plan", str(out), "--api-base", sandbox.base_url, "--rate", "0")
        assert planned.code == 0, planned.out
        assert "0 videos to change" in planned.out


def _ids(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "ids.txt"
    path.write_text("\n".join(f"x8{i:05x}" for i in range(count)), encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- booleans

def test_locale_booleans(run_cli, tmp_path):
    code, found = problems(run_cli, REAL / "locale-booleans.csv", tmp_path)
    assert code == 1 and found == [(1, "", "encoding", "warning"),  # French Excel's cp1252
                                   (12, "private", "type", "error")]
    rows = list(validate(load_sheet(REAL / "locale-booleans.csv")).rows())
    assert len(rows) == 10
    assert all(r.changes == {"private": SetValue(True), "allow_embed": SetValue(False)}
               for r in rows)


def test_no_word_is_true_in_one_language_and_false_in_another():
    assert not TRUE_WORDS & FALSE_WORDS
    assert all(w == w.lower() for w in TRUE_WORDS | FALSE_WORDS)


# ----------------------------------------------------------------------------- numbers

def test_numbers_in_text_fields_read_as_the_cell_shows(run_cli, tmp_path):
    code, found = problems(run_cli, REAL / "numbers.xlsx", tmp_path)
    assert code == 1 and found == [(2, "title", "number_locale", "warning"),
                                   (5, "title", "number_locale", "warning"),
                                   (6, "title", "lost_digits", "error"),
                                   (7, "title", "number_format", "error"),
                                   (8, "title", "number_locale", "warning"),
                                   (9, "title", "typed_cell_in_text", "error"),
                                   (10, "tags", "typed_cell_in_text", "error")]
    rows = {r.video_id: r.changes for r in validate(load_sheet(REAL / "numbers.xlsx")).rows()}
    titles = {video: changes["title"].value for video, changes in rows.items()}
    assert titles == {"x800001": "12.50", "x800002": "50%", "x800003": "007",
                      "x800004": "1,234,567", "x800007": "0.3"}
    assert all(c["tags"] == SetValue(("2026",)) for c in rows.values())
    assert all(c["soundtrack_popularity"] == SetValue(100) for c in rows.values())


def test_number_cells_of_an_uploaded_workbook_read_the_same(tmp_path):
    data = (REAL / "numbers.xlsx").read_bytes()
    from_bytes = load_sheet(io.BytesIO(data), name="upload.xlsx")
    from_path = load_sheet(REAL / "numbers.xlsx")
    assert from_bytes.column("title").values == from_path.column("title").values


# ----------------------------------------------------------------------------- a tester's finds

def test_error_words_of_non_english_excel_are_errors_too(run_cli, tmp_path):
    path = tmp_path / "de.csv"
    path.write_text("video_id;title;description\nx800001;#NV;#WERT!\nx800002;#N/D;#VALEUR!\n"
                    "x800003;#¡VALOR!;#DEEL/0!\n", encoding="utf-8")
    code, found = problems(run_cli, path, tmp_path)
    assert code == 1 and {f[2] for f in found} == {"excel_error"} and len(found) == 6


@pytest.mark.parametrize("text", ["20261201²", "2026-12-01①", "١٧٩٦١٤٤٤٠٠"])
def test_digits_of_other_scripts_are_no_date_and_no_crash(text):
    assert parse_date(text, UTC)[0] is None


def test_bidi_marks_are_invisible_outside_free_text(run_cli, tmp_path):
    path = tmp_path / "marks.csv"
    path.write_text("video_id,private\u200e,channel,country\n"
                    "x800017\u200e,true\u200e,\u200fnews,fr\u202c\n", encoding="utf-8")
    result = validate(load_sheet(path))
    assert result.ok and len(result.warnings) == 5
    assert list(result.rows()) == [TypedRow(2, "x800017", {
        "private": SetValue(True), "channel": SetValue("news"), "country": SetValue("fr")})]


def test_mobile_links_and_items_without_commas():
    from bulkedit.core.cells import parse_video_id

    assert parse_video_id("https://m.dailymotion.com/video/x800016")[0] == "x800016"
    problem = parse_cell(FIELDS["geoblocking"], "deny +us +ca")[1][0]
    assert "separate them with commas" in problem.message


def test_turning_deletion_on_under_a_past_expiry_is_refused(api, run_cli, tmp_path):
    sandbox = api()
    sandbox.store.update("x800019", {"expiry_date": at(2026, 5, 28),
                                     "expiry_date_deletion": False})
    path = sheet(tmp_path, [{"video_id": "x800019", "expiry_date_deletion": "true"}])
    refused = apply(run_cli, sandbox, path)
    assert refused.code == 2 and "would delete the video" in refused.out
    assert sandbox.video("x800019")["expiry_date_deletion"] is False
    planned = run_cli("plan", str(path), "--api-base", sandbox.base_url, "--rate", "0")
    assert planned.code == 1 and "1 refused" in planned.out and " refused " in planned.out


def test_a_removal_that_misses_by_case_is_a_warning(api, run_cli, tmp_path):
    row = TypedRow(2, "x800001", {"tags": PatchList((), ("Concert",))})
    plan = plan_row(row, {"tags": ["concert", "live"]})
    assert plan.status is RowStatus.NOOP
    assert "-Concert removes nothing: the live list has concert" in plan.problems[0].message


def test_clock_changes_make_local_times_ambiguous():
    from zoneinfo import ZoneInfo

    paris = ZoneInfo("Europe/Paris")
    assert "does not exist" in parse_date("2027-03-28T02:30", paris)[1]
    assert "happens twice" in parse_date("2026-10-25 02:30", paris)[1]
    assert parse_date("2026-10-25T02:30:00+01:00", paris)[0] == at(2026, 10, 25, 1, 30)
    assert parse_date("2026-10-25 03:30", paris)[0] == at(2026, 10, 25, 2, 30)


def test_an_export_names_a_value_that_would_read_as_clear(api, run_cli, tmp_path):
    sandbox = api()
    sandbox.store.update("x800001", {"title": "[]"})
    out = tmp_path / "export.csv"
    exported = run_cli("export", "--ids", str(_ids(tmp_path, 3)), "-o", str(out), "--fields",
                       "title,description", "--api-base", sandbox.base_url, "--rate", "0")
    assert exported.code == 0 and "title: left blank (keep) for 1 videos" in exported.out


# ----------------------------------------------------------------------------- encodings

@pytest.mark.parametrize("name, encoding, title", [
    ("enc-cp1251.csv", "cp1251", "Привет мир"),
    ("enc-cp1250.csv", "cp1250", "Łódź nocą"),
    ("enc-cp1254.csv", "cp1254", "Günaydın İstanbul"),
    ("enc-cp932.csv", "cp932", "東京の夜「ライブ」"),
])
def test_another_code_page_is_refused_not_guessed(name, encoding, title, run_cli, api,
                                                   tmp_path):
    guessed = run_cli("validate", str(REAL / name))
    assert guessed.code == 2 and "--encoding" in guessed.err and "UTF-8" in guessed.err
    sandbox = api()
    path = copy(name, tmp_path)
    assert apply(run_cli, sandbox, path).code == 2
    assert sum(sandbox.counters.requests.values()) == 0
    named = apply(run_cli, sandbox, path, "--encoding", encoding)
    assert named.code == 0, named.out + named.err
    assert sandbox.video("x800001")["title"] == title


def test_western_excel_csv_reads_with_a_word_on_its_encoding(run_cli, tmp_path):
    result = validate(load_sheet(REAL / "enc-cp1252.csv"))
    assert result.ok and [r.changes["title"].value for r in result.rows()] == [
        "Crème brûlée à l'été – ½ prix", "Größe und Übermaß"]
    assert "read as Windows-1252" in result.warnings[0].message


def test_utf8_with_a_stray_byte_is_a_problem_at_its_cell(run_cli, tmp_path):
    code, found = problems(run_cli, REAL / "enc-utf8-stray.csv", tmp_path)
    assert code == 1 and found == [(3, "title", "not_utf8", "error")]
    first = next(validate(load_sheet(REAL / "enc-utf8-stray.csv")).rows())
    assert first.changes["title"] == SetValue("Café de Flore – Paris")  # not CafÃ©


def test_an_unknown_encoding_name_is_a_usage_error(run_cli):
    result = run_cli("validate", str(REAL / "enc-cp1251.csv"), "--encoding", "klingon")
    assert result.code == 2 and "unknown text encoding" in result.err


# ----------------------------------------------------------------------------- formulas

def test_formulas_no_program_calculated_are_problems(run_cli, api, tmp_path):
    code, found = problems(run_cli, REAL / "formulas.xlsx", tmp_path)
    assert code == 1 and found == [(2, "title", "uncalculated_formula", "error"),
                                   (2, "private", "uncalculated_formula", "error"),
                                   (3, "tags", "excel_error", "error")]
    out = run_cli("validate", str(REAL / "formulas.xlsx"), "--max-shown", "9").out
    assert "Excel read what you typed, -museum, as a formula" in out and "('-museum)" in out
    sandbox = api()
    assert apply(run_cli, sandbox, copy("formulas.xlsx", tmp_path)).code == 2
    assert sum(sandbox.counters.requests.values()) == 0


def test_formulas_a_spreadsheet_program_calculated_are_their_values(tmp_path):
    import zipfile

    import xlsxwriter

    made = tmp_path / "made.xlsx"
    book = xlsxwriter.Workbook(str(made))
    sheet_ = book.add_worksheet("Edits")
    sheet_.write_row(0, 0, ["video_id", "title"])
    sheet_.write_string(1, 0, "x800001")
    sheet_.write_formula(1, 1, '=A2&" - part 2"', None, "x800001 - part 2")
    book.close()
    saved = tmp_path / "saved.xlsx"  # as Excel saves it: no "recalculate on load" flag
    with zipfile.ZipFile(made) as source, zipfile.ZipFile(saved, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/workbook.xml":
                data = data.replace(b' fullCalcOnLoad="1"', b"")
            target.writestr(item, data)
    assert not validate(load_sheet(made)).ok
    result = validate(load_sheet(saved))
    assert result.ok and next(result.rows()).changes == {"title": SetValue("x800001 - part 2")}


# ----------------------------------------------------------------------------- a reviewer's finds

def test_free_text_that_shows_nothing_is_blank_and_its_ends_are_trimmed(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("video_id,title,description\nx800001,\u200b,\ufeff\n"
                    "x800002,Sea\u200d\U0001F30A,\u2060Hello\u00a0\n"
                    "x800003,[]\u200b,\n", encoding="utf-8")
    result = validate(load_sheet(path))
    first, second = result.rows()
    assert first.changes == {}  # looks blank: keep, with a warning, never an invisible title
    assert second.changes == {"title": SetValue("Sea\u200d\U0001F30A"),  # inside: kept
                              "description": SetValue("Hello")}
    assert [(i.row, i.code) for i in result.issues] == [
        (2, "invisible_char"), (2, "invisible_char"), (3, "invisible_char"),
        (4, "not_clearable")]  # "[]" once trimmed: the title cannot be cleared


def test_a_named_encoding_never_garbles_a_utf8_file(run_cli, tmp_path):
    path = tmp_path / "u8.csv"
    path.write_text("video_id,title\nx800001,Café crème\n", encoding="utf-8")
    result = validate(load_sheet(path, encoding="cp1252"))
    assert next(result.rows()).changes["title"] == SetValue("Café crème")
    assert "not as --encoding cp1252" in result.warnings[0].message
    for codec in ("base64", "rot13", "undefined"):
        assert run_cli("validate", str(path), "--encoding", codec).code == 2


def test_central_european_text_is_not_read_as_western(run_cli, tmp_path):
    path = tmp_path / "cz.csv"
    path.write_bytes("video_id,title\nx800001,Přítelkyně z Brna\n".encode("cp1250"))
    refused = run_cli("validate", str(path))
    assert refused.code == 2 and "Pøítelkynì" in refused.err and "cp1250" in refused.err
    named = validate(load_sheet(path, encoding="cp1250"))
    assert next(named.rows()).changes["title"] == SetValue("Přítelkyně z Brna")


@pytest.mark.parametrize("cell", ["#ARG!", "#N/D!", "#ЗНАЧ!", "#SAKNAS!", " #N/A", "#TOP10!"])
def test_error_words_of_more_languages_and_with_spaces(cell, tmp_path):
    path = tmp_path / "err.csv"
    path.write_text(f"video_id,title\nx800001,{cell}\n", encoding="utf-8")
    assert [i.code for i in validate(load_sheet(path)).errors] == ["excel_error"]


def test_hashtags_and_titles_that_are_not_errors(tmp_path):
    path = tmp_path / "tags.csv"
    path.write_text("video_id,title,hashtags\nx800001,#1 hit,\"#wow, #travel\"\n",
                    encoding="utf-8")
    assert validate(load_sheet(path)).ok


def test_a_header_holding_an_error_is_refused(run_cli, tmp_path):
    path = tmp_path / "head.csv"
    path.write_text("video_id,#REF!\nx800001,new title\n", encoding="utf-8")
    result = run_cli("validate", str(path))
    assert result.code == 2 and "column B holds the spreadsheet error #REF!" in result.err


def test_ten_digits_that_are_also_a_date_and_hour_are_refused():
    seconds, reason = parse_date("2026120118", UTC)
    assert seconds is None and "YYYYMMDDHH (2026-12-01T18:00)" in reason
    assert parse_date("1796144400", UTC)[0] == 1796144400
    assert parse_date("0001796144400", UTC)[0] is None
