"""The validator over whole sheets: every problem at once, typed rows for planning."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

from conftest import write_xlsx

from bulkedit.core.routing import Routing
from bulkedit.core.types import CLEAR, PatchList, SetValue, Severity, TypedRow
from bulkedit.core.validation import ValidationOptions, validate
from bulkedit.sheets.load import load_sheet

NOW = 1748736000  # 2025-06-01T00:00:00Z: "the past" is before this in these tests


def check(text: str, **options):
    sheet = load_sheet(io.BytesIO(text.encode()), name="edits.csv")
    options.setdefault("now", NOW)
    return validate(sheet, ValidationOptions(**options))


def where(result) -> list[tuple[int, str, str]]:
    return [(i.row, i.column, i.code) for i in result.issues]


def test_valid_sheet_gives_typed_rows_in_order():
    result = check('video_id,title,tags,private,description,geoblocking\n'
                   'x8abc12,Hello,"a, b",yes,[],\n'
                   'https://dai.ly/x8abc13,,+c,no,,"deny,fr"\n')
    assert result.ok and result.issues == []
    assert list(result.rows()) == [
        TypedRow(2, "x8abc12", {"title": SetValue("Hello"), "tags": SetValue(("a", "b")),
                                "private": SetValue(True), "description": CLEAR}),
        TypedRow(3, "x8abc13", {"tags": PatchList(("c",), ()), "private": SetValue(False),
                                "geoblocking": SetValue(("deny", "fr"))}),
    ]


def test_blank_cells_keep_the_field():
    result = check("video_id,title,channel\nx8abc12,  ,\n")
    assert list(result.rows()) == [TypedRow(2, "x8abc12", {})]


def test_every_problem_is_reported_at_once_with_row_and_column():
    result = check("video_id,title,channel,private,publish_date\n"
                   "x8abc12,ok,sprot,maybe,tomorrow\n"
                   "X8ABC13," + "t" * 300 + ",news,yes,2026-12-01\n"
                   ",ok,news,,\n")
    assert where(result) == [(2, "channel", "enum"), (2, "private", "type"),
                             (2, "publish_date", "bad_date"), (3, "video_id", "bad_id"),
                             (3, "title", "too_long"), (4, "video_id", "required")]
    assert result.valid_count == 0 and not result.ok
    assert result.issues[0].value == "sprot"
    assert "did you mean 'sport'?" in result.issues[0].message


def test_header_problems():
    result = check("video_id,titel,duration,url,start_time,# note\nx8abc12,a,1,b,c,d\n")
    assert where(result) == [(1, "titel", "unknown_column"), (1, "duration", "read_only"),
                             (1, "url", "refused_field"), (1, "start_time", "live_only")]
    assert "did you mean 'title'?" in result.issues[0].message
    assert "replaces the video file" in result.issues[2].message
    # A header problem blocks every row: no row counts as valid, whatever its cells.
    assert len(result.header_errors) == 4 and result.valid_count == 0 and not result.ok


def test_live_fields_with_the_option():
    result = check("video_id,start_time\nx8abc12,2026-12-01T20:00Z\n", allow_live_fields=True)
    assert result.ok
    assert next(result.rows()).changes == {"start_time": SetValue(1796155200)}


def test_explicit_true_is_a_warning_until_planning_knows_the_live_value():
    text = "video_id,explicit\nx8abc12,true\nx8abc13,false\n"
    result = check(text)
    assert where(result) == [(2, "explicit", "irreversible")]
    assert result.issues[0].severity is Severity.WARNING and result.ok
    assert "--allow-irreversible" in result.issues[0].message
    assert [r.video_id for r in result.rows()] == ["x8abc12", "x8abc13"]
    assert check(text, allow_irreversible=True).issues == []


def test_missing_id_column_and_no_fields():
    assert where(check("title\nHello\n")) == [(1, "", "missing_id_column")]
    assert where(check("video_id,# note\nx8abc12,hi\n")) == [(1, "", "no_fields")]


def test_same_video_twice():
    result = check("video_id,title\nx8abc12,A\nx8abc13,B\nhttps://dai.ly/x8abc12,A\n"
                   "x8abc14,C\nx8abc14,D\n")
    assert where(result) == [(4, "video_id", "duplicate_row"), (5, "video_id", "duplicate_id"),
                             (6, "video_id", "duplicate_id")]
    assert result.issues[0].severity is Severity.WARNING
    assert "row 6" in result.issues[1].message and "row 5" in result.issues[2].message
    assert [r.row for r in result.rows()] == [2, 3]


def test_expiry_must_follow_publish():
    result = check("video_id,publish_date,expiry_date\nx8abc12,2026-12-01,2026-11-01\n"
                   "x8abc13,2026-12-01,2027-01-01\nx8abc14,,2026-01-01\n")
    assert where(result) == [(2, "expiry_date", "date_order")]


def test_timezone_applies_to_dates_without_offset():
    result = check("video_id,publish_date\nx8abc12,2026-07-01 12:00\n",
                   timezone=ZoneInfo("Europe/Paris"))
    assert next(result.rows()).changes["publish_date"] == SetValue(
        int(dt.datetime(2026, 7, 1, 10, 0, tzinfo=dt.UTC).timestamp()))


def test_an_offset_of_60_minutes_is_refused_on_the_vectorised_path_too():
    # The fast path hands such a cell to the grammar; the grammar must not read +06:00.
    result = check("video_id,publish_date\nx8abc12,2026-12-01T10:00:00+05:60\n"
                   "x8abc13,2026-12-01T10:00:00+05:59\n")
    assert where(result) == [(2, "publish_date", "bad_date")]
    assert "+05:60 is not a time zone offset" in result.issues[0].message
    assert [r.changes["publish_date"] for r in result.rows()] == [SetValue(
        int(dt.datetime(2026, 12, 1, 4, 1, tzinfo=dt.UTC).timestamp()))]


def test_password_values_are_never_echoed():
    result = check("video_id,password\nx8abc12," + "p" * 300 + "\n")
    assert [(i.code, i.value) for i in result.issues] == [("too_long", "***")]


def test_long_values_are_shortened_in_issues():
    result = check("video_id,description\nx8abc12," + "d" * 5000 + "\n")
    assert len(result.issues[0].value) == 201


def test_xlsx_typed_cells_validate(tmp_path):
    path = write_xlsx(tmp_path / "t.xlsx", [
        ["video_id", "private", "publish_date", "soundtrack_popularity"],
        ["x8abc12", True, dt.datetime(2026, 12, 1, 18, 0), 7],
    ])
    result = validate(load_sheet(path), ValidationOptions(timezone=ZoneInfo("Europe/Paris")))
    assert result.ok
    assert next(result.rows()).changes == {
        "private": SetValue(True), "publish_date": SetValue(1796144400),
        "soundtrack_popularity": SetValue(7)}


def test_many_rows_cross_chunk_boundaries():
    lines = ["video_id,title,private"]
    lines += [f"x{i:07d},Title {i},{'yes' if i % 2 else 'no'}" for i in range(20_000)]
    lines[12_346] = "x0012345,Title,perhaps"  # row 12347 in Excel
    result = check("\n".join(lines) + "\n")
    assert where(result) == [(12_347, "private", "type")]
    rows = list(result.rows())
    assert len(rows) == 19_999 and result.valid_count == 19_999
    assert rows[-1] == TypedRow(20_001, "x0019999", {"title": SetValue("Title 19999"),
                                                     "private": SetValue(True)})
    assert rows[12_344].row == 12_346 and rows[12_345].row == 12_348


# ------------------------------------------------ edges a mutation run showed unpinned (#17)

def test_a_past_expiry_warns_of_the_refusal_or_of_the_deletion_it_was_allowed():
    text = "video_id,expiry_date\nx8abc12,2020-01-01T00:00:00Z\n"
    (refused,) = check(text).issues
    assert refused.code == "past_date" and refused.severity is Severity.WARNING
    assert refused.message.endswith("plan and apply refuse that without --allow-past-expiry")
    (allowed,) = check(text, allow_past_expiry=True).issues
    assert allowed.message.endswith("with --allow-past-expiry, plan and apply will send it")


def test_a_header_problem_leaves_no_row_to_send_however_good_its_cells():
    result = check("video_id,title,titel\nx8abc12,Hi,x\nx8abc13,Ho,y\n")
    assert where(result) == [(1, "titel", "unknown_column")]
    assert result.invalid_rows == frozenset() and result.valid_count == 0
    assert list(result.rows()) == [] and result.ids() == ["x8abc12", "x8abc13"]


def test_without_an_id_column_every_row_has_no_id():
    result = check("title\nHello\nWorld\nAgain\n")
    assert result.ids() == [None, None, None] and list(result.rows()) == []


def test_a_value_of_200_characters_is_shown_whole_and_longer_ones_cut():
    shown = check("video_id,private\nx8abc12," + "y" * 200 + "\n").issues[0].value
    assert shown == "y" * 200
    shown = check("video_id,private\nx8abc12," + "y" * 201 + "\n").issues[0].value
    assert shown == "y" * 200 + "…"


def test_what_the_loader_noticed_is_among_the_problems():
    sheet = load_sheet(io.BytesIO("video_id,title\nx8abc12,Café\n".encode("cp1252")),
                       name="edits.csv")
    result = validate(sheet, ValidationOptions(now=NOW))
    assert [i.code for i in result.issues] == ["encoding"] == [i.code for i in sheet.issues]


def test_the_missing_id_column_message_names_every_accepted_spelling():
    (issue,) = check("title\nHello\n").issues
    assert "also accepted: id, xid, video, url)" in issue.message


def test_a_column_without_a_header_or_a_comment_column_is_not_checked():
    result = check("video_id,title,,# note\nx8abc12,Hi,,#N/A\n")
    assert result.issues == [] and [r.changes for r in result.rows()] == [
        {"title": SetValue("Hi")}]


def test_an_error_literal_in_an_unknown_column_is_only_a_header_problem():
    result = check("video_id,titel\nx8abc12,#N/A\n")
    assert where(result) == [(1, "titel", "unknown_column")]


def test_an_error_literal_in_a_field_is_named_as_such():
    (issue,) = check("video_id,title\nx8abc12,#N/A\n").issues
    assert issue.code == "excel_error" and issue.value == "#N/A"
    # In a CSV the apostrophe would be sent as typed: the fix is Excel's text formula.
    assert 'write ="#N/A"' in issue.message and "'#N/A" not in issue.message


def test_an_error_literal_as_the_video_id_is_one_problem_not_two():
    assert where(check("video_id,title\n#N/A,Hi\n")) == [(2, "video_id", "excel_error")]


def test_min_length_is_checked_on_the_vectorised_path(monkeypatch):
    from dataclasses import replace

    from bulkedit.core.schema import FIELDS

    monkeypatch.setitem(FIELDS, "title", replace(FIELDS["title"], min_length=3))
    result = check("video_id,title\nx8abc12,a\nx8abc13,ab\nx8abc14,abc\n")
    assert where(result) == [(2, "title", "too_short"), (3, "title", "too_short")]


def test_rows_without_an_id_are_never_duplicates_of_each_other():
    result = check("video_id,title\n,A\n,A\nx8abc12,B\n")
    assert where(result) == [(2, "video_id", "required"), (3, "video_id", "required")]


def test_a_row_both_invalid_and_a_duplicate_is_left_out_once():
    # valid_count once subtracted such a row twice (-1 valid rows): test_fuzz_csv's failure.
    result = check("video_id,private\nx8abc12,maybe\nx8abc12,maybe\nx8abc13,yes\n")
    assert result.valid_count == 1 == len(list(result.rows()))
    assert result.skipped_rows == frozenset({1}) and result.invalid_rows == frozenset({0, 1})


def test_a_column_with_values_but_no_header_is_named_once():
    result = check("video_id,title,\nx8abc12,Hi,stuff\n")
    assert [i.code for i in result.issues] == ["no_header"]
    assert "column C has values but no header" in result.issues[0].message


def test_malformed_dates_are_refused_as_dates_never_an_error():
    cells = ["2026//01", "2026/01//02", "2026--01-02", "2026-01-02T", "2026-1-2", "//",
             "2026-13-01", "2026-02-30", "26-12-01", "2026-12-01T25:00", "T18:00",
             "2026-12-01 18:00 +", "2026-W60", "2026-12-01T18:00+1:00"]
    text = "video_id,publish_date\n" + "".join(f"x8d{n:04d},{c}\n" for n, c in enumerate(cells))
    result = check(text)
    assert where(result) == [(row + 2, "publish_date", "bad_date") for row in range(len(cells))]


def test_a_geoblocking_patch_may_start_with_its_mode_and_a_comma():
    result = check('video_id,geoblocking\nx8abc12,"allow, +us"\nx8abc13,"deny, -fr, +de"\n'
                   'x8abc14,"allow,+us,-ca"\n')
    assert result.issues == []
    assert [row.changes["geoblocking"] for row in result.rows()] == [
        PatchList(("us",), (), "allow"), PatchList(("de",), ("fr",), "deny"),
        PatchList(("us",), ("ca",), "allow")]


def test_a_misspelt_header_is_offered_the_field_it_is_near():
    near = {"descripton": "description", "tag": "tags", "privat": "private",
            "Titel": "title", "chanel": "channel", "publsh_date": "publish_date",
            "geoblockng": "geoblocking", "is_created_for_kid": "is_created_for_kids"}
    result = check("video_id," + ",".join(near) + "\nx8abc12" + ",x" * len(near) + "\n")
    offered = {i.column: i.message for i in result.issues if i.code == "unknown_column"}
    assert {header: f"did you mean '{field}'?" in offered.get(header, "")
            for header, field in near.items()} == dict.fromkeys(near, True)


def test_the_cells_on_the_grammars_edges_say_what_to_write():
    """Survivors of issue 28's mutation sample, each a cell a user could write."""
    result = check('video_id,geoblocking,tags,soundtrack_popularity\n'
                   'x8abc12,"deny +us, ca","café, NULL",1e999\n'
                   'x8abc13,fr us,,\n'
                   + "x" + "a" * 20 + ",,,\n"   # the longest id: 20 characters after the x
                   + "x" + "a" * 21 + ",,,\n")  # one more is not an id
    messages = {(i.row, i.column): (i.code, i.message) for i in result.issues}
    assert messages[(2, "geoblocking")] == (
        "mixed_patch", "after 'deny', start every country with + or - to patch the deny "
        "list (like deny +us, -fr), or write the whole list without +/-")
    # The JSON the hint offers keeps the user's letters as they are.
    assert messages[(2, "tags")] == (
        "null_marker", "the item NULL is a null marker (what SQL tools and JSON put for a "
        'missing value); remove it, or write the list as JSON, like ["café", "NULL"], to '
        "send it as an item")
    assert messages[(2, "soundtrack_popularity")] == ("type", "not a finite number")
    assert messages[(3, "geoblocking")][0] == "list_separator"
    assert (4, "video_id") not in messages
    assert messages[(5, "video_id")][0] == "bad_id"


def test_a_sheet_with_no_field_to_change_says_how_to_add_one():
    result = check("video_id,# note\nx8abc12,hello\n")
    assert [(i.code, i.message) for i in result.header_errors] == [(
        "no_fields", "the sheet has no field to change; add columns named after video fields "
        "(see `bulkedit fields`)")]


def test_a_cell_that_looks_like_a_date_is_a_date_only_in_a_date_field():
    # The fast ISO 8601 path is for date fields only: in a coded field (channel, language,
    # country) such a cell is refused like any other value, and in a text field it is
    # sent as typed (found by mutate.py --check-equivalents: the mutant that ran the fast
    # path for every coded field had been listed as equivalent).
    iso = "2026-12-01T18:00:00+01:00"
    result = check(f"video_id,title,channel,language,country,publish_date\n"
                   f"x8abc12,{iso},{iso},{iso},{iso},{iso}\n")
    assert where(result) == [(2, "channel", "enum"), (2, "language", "enum"),
                             (2, "country", "enum")]
    result = check(f"video_id,title,publish_date\nx8abc12,{iso},{iso}\n")
    assert next(result.rows()).changes == {"title": SetValue(iso),
                                           "publish_date": SetValue(1796144400)}


def test_an_impossible_month_or_hour_with_an_offset_is_refused_not_a_crash():
    # The vectorised ISO path must hand a cell Arrow cannot parse to the grammar (a
    # strptime that raised instead would end `validate` with a traceback).
    result = check("video_id,publish_date\nx8abc12,2026-13-01T10:00:00+01:00\n"
                   "x8abc13,2026-12-01T25:00:00Z\nx8abc14,2026-12-01T10:00:00Z\n")
    assert where(result) == [(2, "publish_date", "bad_date"), (3, "publish_date", "bad_date")]
    assert result.issues[0].message.startswith("not a date; write ISO 8601 like 2026-12-01")
    assert [r.video_id for r in result.rows()] == ["x8abc14"]


def test_an_unreadable_password_cell_says_what_to_write_without_echoing_it():
    (issue,) = check("video_id,password\nx8abc12,#N/A\n").issues
    assert (issue.code, issue.value) == ("excel_error", "***")
    assert issue.message == ("this password cell could not be read as typed (excel_error); "
                             "write the password itself, as text")


def test_a_routed_sheet_counts_the_rows_each_account_sends():
    result = check("video_id,#account,title\nx8abc12,brand_de,a\nx8abc13,,b\n"
                   "x8abc14,brand_de,c\nbad id,brand_de,d\n",
                   routing=Routing(("brand_fr", "brand_de"), "brand_fr"))
    assert where(result) == [(5, "video_id", "bad_id")]
    assert result.accounts() == {"brand_de": 2, "brand_fr": 1}  # the invalid row left out
    assert check("video_id,title\nx8abc12,a\n").accounts() == {}  # no routing: none
