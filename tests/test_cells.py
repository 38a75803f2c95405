"""The sheet grammar, cell by cell, with plain values (DESIGN.md §4)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bulkedit.core.cells import (
    csv_safe,
    csv_unescape,
    format_date,
    parse_bool,
    parse_cell,
    parse_date,
    parse_video_id,
)
from bulkedit.core.schema import EXPIRY_DATE_RESET, FIELDS, PUBLISH_DATE_RESET
from bulkedit.core.types import CLEAR, PatchList, SetValue, Severity


def ok(field: str, text: str, tz=UTC):
    change, problems = parse_cell(FIELDS[field], text, tz)
    assert not [p for p in problems if p.severity is Severity.ERROR], problems
    return change


def problem(field: str, text: str) -> tuple[str, str]:
    change, problems = parse_cell(FIELDS[field], text)
    assert change is None and problems, (change, problems)
    return problems[0].code, problems[0].message


# ----------------------------------------------------------------------------- clear

def test_clear_mark_clears_clearable_fields():
    assert ok("description", "[]") is CLEAR
    assert ok("tags", " [] ") is CLEAR
    assert FIELDS["publish_date"].clear_wire == PUBLISH_DATE_RESET
    assert FIELDS["expiry_date"].clear_wire == EXPIRY_DATE_RESET


@pytest.mark.parametrize("field", ["title", "channel", "private", "language"])
def test_clear_mark_refused_where_field_cannot_be_cleared(field):
    code, message = problem(field, "[]")
    assert code == "not_clearable"
    assert "leave the cell blank" in message


# ----------------------------------------------------------------------------- text

def test_text_keeps_inner_text_and_checks_length():
    assert ok("title", "Summer in Lisbon") == SetValue("Summer in Lisbon")
    assert ok("description", "line one\nline two") == SetValue("line one\nline two")
    assert ok("title", "é" * 255) == SetValue("é" * 255)
    code, message = problem("title", "x" * 256)
    assert code == "too_long" and "at most 255" in message and "by 1" in message
    assert problem("description", "d" * 3001)[0] == "too_long"


# ----------------------------------------------------------------------------- bool

@pytest.mark.parametrize("text", ["true", "TRUE", "Yes", "y", "1", "True"])
def test_true_words(text):
    assert ok("private", text) == SetValue(True)


@pytest.mark.parametrize("text", ["false", "FALSE", "No", "n", "0"])
def test_false_words(text):
    assert ok("private", text) == SetValue(False)


def test_bool_rejects_other_words():
    code, message = problem("private", "maybe")
    assert code == "type" and "true or false" in message
    assert "VRAI/FAUX" in message and "WAHR/FALSCH" in message  # the accepted forms, named
    assert parse_bool("peut-être") is None


# ----------------------------------------------------------------------------- enum

def test_enum_is_case_insensitive_and_normalised():
    assert ok("channel", "Travel") == SetValue("travel")


def test_enum_did_you_mean():
    code, message = problem("channel", "sprot")
    assert code == "enum" and "did you mean 'sport'?" in message


def test_doubtful_channel_is_accepted_with_a_warning():
    change, problems = parse_cell(FIELDS["channel"], "kids")
    assert change == SetValue("kids")
    assert [p.severity for p in problems] == [Severity.WARNING]


def test_language_codes_come_from_iso_639():
    assert ok("language", "en") == SetValue("en")
    assert ok("language", "FRA") == SetValue("fra")
    assert ok("language", "yue") == SetValue("yue")  # ISO 639-3 only (Cantonese)
    code, message = problem("language", "english")
    assert code == "enum" and "ISO 639" in message


def test_country_codes_come_from_iso_3166():
    assert ok("country", "FR") == SetValue("fr")
    assert problem("country", "xx")[0] == "enum"


# ----------------------------------------------------------------------------- lists

def test_list_replaces_trims_and_drops_empty_and_repeated_items():
    assert ok("tags", "travel, lisbon ,, travel,") == SetValue(("travel", "lisbon"))


def test_list_patch_adds_and_removes():
    assert ok("tags", "+summer, -winter, +beach") == PatchList(("summer", "beach"), ("winter",))


def test_list_mixing_patch_and_plain_items_is_an_error():
    code, message = problem("tags", "+summer, winter")
    assert code == "mixed_patch" and "start every item with + or -" in message


def test_list_patch_needs_an_item():
    assert problem("tags", "+, -x")[0] == "empty_item"


def test_list_item_length_and_count():
    assert problem("tags", "a" * 151)[0] == "bad_item"
    assert problem("tags", ",".join(f"t{i}" for i in range(151)))[0] == "too_many"
    assert ok("tags", ",".join(f"t{i}" for i in range(150))) is not None


def test_custom_classification_takes_at_most_three_values():
    assert ok("custom_classification", "a, b, c") == SetValue(("a", "b", "c"))
    code, message = problem("custom_classification", "a, b, c, d")
    assert code == "too_many" and "at most 3" in message


def test_a_tag_cannot_contain_a_comma():
    code, message = problem("tags", '"rock, pop", jazz')
    assert code == "comma_in_item" and "comma" in message


def test_list_of_languages_and_of_video_ids():
    assert ok("ai_subtitle_languages", "EN, fra") == SetValue(("en", "fra"))
    assert problem("ai_subtitle_languages", "en, klingon")[0] == "bad_item"
    assert ok("player_next_videos", "x8abc12, x8abc13") == SetValue(("x8abc12", "x8abc13"))
    assert problem("player_next_videos", "x8abc12, 42")[0] == "bad_item"


# ----------------------------------------------------------------------------- geoblocking

def test_geoblocking_mode_defaults_to_allow_and_codes_are_lowered():
    assert ok("geoblocking", "FR, us") == SetValue(("allow", "fr", "us"))
    assert ok("geoblocking", "deny, US, ca") == SetValue(("deny", "us", "ca"))
    assert ok("geoblocking", "allow") == SetValue(("allow",))


def test_geoblocking_mode_only_first():
    code, message = problem("geoblocking", "fr, deny, us")
    assert code == "geoblocking_mode" and "first" in message


def test_geoblocking_country_must_be_iso():
    code, message = problem("geoblocking", "deny, uk")
    assert code == "bad_country" and "gb" in message
    assert problem("geoblocking", "deny, zz")[0] == "bad_country"


def test_geoblocking_patch():
    assert ok("geoblocking", "+FR, -us") == PatchList(("fr",), ("us",))
    assert problem("geoblocking", "+deny, +fr")[0] == "geoblocking_mode"


# ----------------------------------------------------------------------------- dates

def test_iso_dates_with_and_without_offsets():
    tz = ZoneInfo("Europe/Paris")
    assert parse_date("2026-12-01T18:00:00+01:00", UTC)[0] == 1796144400
    assert parse_date("2026-12-01T17:00:00Z", UTC)[0] == 1796144400
    assert parse_date("2026-12-01 18:00", tz)[0] == 1796144400  # read in --timezone
    assert parse_date("2026-12-01", UTC)[0] == int(datetime(2026, 12, 1, tzinfo=UTC).timestamp())


@pytest.mark.parametrize("text", ["2026-12-01T10:00:00+05:60", "2026-12-01T10:00+0560",
                                  "2026-12-01T10:00:00-01:75", "2026-12-01T10:00:00+05:30:60",
                                  "2026W01T10+05:60", "2026-12-01T10:00:00+05:30:60,5"])
def test_an_offset_with_60_minutes_is_refused_not_carried_into_the_hour(text):
    # Python reads +05:60 as +06:00: sent, the video would go out an hour off.
    seconds, reason = parse_date(text, UTC)
    assert seconds is None and "is not a time zone offset" in reason and "+05:30" in reason
    assert problem("publish_date", text)[0] == "bad_date"


def test_offsets_at_their_edges_still_read():
    at_ten = int(datetime(2026, 12, 1, 10, tzinfo=UTC).timestamp())
    assert parse_date("2026-12-01T10:00:00+05:59", UTC)[0] == at_ten - 5 * 3600 - 59 * 60
    assert parse_date("2026-12-01T10:00:00-00:59", UTC)[0] == at_ten + 59 * 60
    assert parse_date("2026-12-01T10:00:00+0530", UTC)[0] == at_ten - 5 * 3600 - 30 * 60
    assert parse_date("2026-12-01T10:00:00+05", UTC)[0] == at_ten - 5 * 3600
    with_seconds = at_ten - 5 * 3600 - 30 * 60 - 15
    assert parse_date("2026-12-01T10:00:00+05:30:15", UTC)[0] == with_seconds
    assert parse_date("2026-12-01T10:00:00+05:30:15,0", UTC)[0] == with_seconds  # comma
    assert parse_date("2026-12-01T10:00:00.25-00:30", UTC)[0] == at_ten + 30 * 60
    assert parse_date("2026W492T10+00:30", UTC)[0] == at_ten - 30 * 60  # a week date


def test_unix_seconds_and_excel_integral_floats():
    assert parse_date("1796144400", UTC)[0] == 1796144400
    assert parse_date("1796144400.0", UTC)[0] == 1796144400


def test_date_mistakes_explain_the_fix():
    assert "Excel serial" in parse_date("45000", UTC)[1]
    assert "milliseconds" in parse_date("1796144400000", UTC)[1]
    assert "2026-12-01 (day first) or 2026-01-12 (month first)" in parse_date("01/12/2026",
                                                                              UTC)[1]
    assert "2026-12-01T18:30 (day first) or 2026-01-12T18:30 (month first)" in parse_date(
        "01/12/2026 18:30", UTC)[1]
    assert problem("publish_date", "tomorrow")[0] == "bad_date"


def test_a_date_that_reads_one_way_only_says_so_and_still_needs_the_order():
    # 13/04 is no month-first date, but the sheet's next row may be 12/04: refused, with
    # the one reading named rather than "either way round".
    for text, iso, order in (("13/04/2031", "2031-04-13", "dmy"),
                             ("04/13/2031", "2031-04-13", "mdy"),
                             ("13/04/2031 18:30", "2031-04-13T18:30", "dmy")):
        seconds, reason = parse_date(text, UTC)
        assert seconds is None and "either way" not in reason
        assert iso in reason and f"--date-order {order}" in reason
        assert parse_date(text, UTC, order)[0] == int(
            datetime.fromisoformat(iso).replace(tzinfo=UTC).timestamp())


def test_date_cell_is_unix_seconds():
    assert ok("publish_date", "2026-12-01T18:00:00+01:00") == SetValue(1796144400)
    assert format_date(1796144400) == "2026-12-01T17:00:00+00:00"


# ------------------------------------------------------------------- numbers, urls, points

def test_numbers():
    assert ok("soundtrack_popularity", "100") == SetValue(100)
    assert problem("soundtrack_popularity", "1.5")[0] == "type"
    assert problem("soundtrack_popularity", "-1")[0] == "out_of_range"
    assert problem("soundtrack_popularity", "lots")[0] == "type"
    assert problem("soundtrack_popularity", "nan")[0] == "null_marker"  # pandas' missing value


def test_urls():
    assert ok("thumbnail_url", "https://example.com/t.jpg") == SetValue("https://example.com/t.jpg")
    assert problem("thumbnail_url", "example.com/t.jpg")[0] == "bad_url"
    assert problem("thumbnail_url", "javascript:alert(1)")[0] == "bad_url"


def test_geo_point():
    assert ok("geoloc", "9.14W, 38.71N") == SetValue((-9.14, 38.71))
    assert problem("geoloc", "-9.14, 38.71")[0] == "geoloc_order"  # a place in both orders
    code, message = problem("geoloc", "38.71, -190")
    assert code == "out_of_range" and "longitude comes first" in message
    assert problem("geoloc", "north")[0] == "type"


# ----------------------------------------------------------------------------- ids

@pytest.mark.parametrize("text", [
    "x8abc12", " x8abc12 ", "https://www.dailymotion.com/video/x8abc12",
    "http://dailymotion.com/video/x8abc12_summer-in-lisbon", "https://dai.ly/x8abc12",
    "https://www.dailymotion.com/embed/video/x8abc12?autoplay=1",
    "https://geo.dailymotion.com/player.html?video=x8abc12",
])
def test_video_ids_and_urls(text):
    assert parse_video_id(text) == ("x8abc12", None)


def test_private_ids_are_refused_with_an_explanation():
    video_id, found = parse_video_id("k1KqUqDdmllgej374a2")
    assert video_id is None and found.code == "private_id" and "public id" in found.message


def test_bad_ids():
    assert parse_video_id("X8ABC12")[1].message == "video ids are lower case; write x8abc12"
    assert parse_video_id("12345")[1].code == "bad_id"
    assert parse_video_id("https://vimeo.com/x8abc12")[1].code == "bad_id"


# ----------------------------------------------------------------------------- excel safety

@pytest.mark.parametrize("value", ["=1+2", "+33 1", "-winter", "@SUM(A1)", "\t=x", "\r=x",
                                   "'=x", "''+y", "'plain", "plain", ""])
def test_csv_escape_round_trips(value):
    written = csv_safe(value)
    assert not written.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert csv_unescape(written) == value


def test_invisible_classes_cover_every_format_and_space_character():
    import re
    import sys
    import unicodedata

    from bulkedit.core.charclasses import INVISIBLE_CHARS, SPACE_CHARS

    invisible, space = re.compile(INVISIBLE_CHARS), re.compile(SPACE_CHARS)
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        category = unicodedata.category(char)
        if category == "Cf" or (category == "Zs" and char != " "):
            assert invisible.match(char), f"U+{code:04X} {unicodedata.name(char, '')}"
        if category == "Zs" and char != " ":
            assert space.match(char), f"U+{code:04X}"
    for char in "\u034f\u115f\u1160\u17b4\u2800\u3164\ufe0f\uffa0\U000e0100":
        assert invisible.match(char)
    assert not invisible.match(" ") and not invisible.match("é")


# ----------------------------------------------------------------------------- issue 17
# What rollback sheets, diff reports and exports write (to_cell), and the date reader's
# edges: each must read back to the value the API had.


def test_live_values_are_written_so_that_they_read_back_the_same():
    from bulkedit.core.cells import CLEAR_MARK, to_cell

    cases = [
        ("tags", ("rock", "pop"), "rock, pop"),
        ("tags", ["+plus", "a"], '["+plus", "a"]'),  # would read back as a patch
        ("tags", ["-minus"], '["-minus"]'),
        ("tags", ["[x"], '["[x"]'),
        ("tags", [" padded"], '[" padded"]'),
        ("tags", ['say "hi"'], '["say \\"hi\\""]'),
        ("tags", ["été"], "été"),
        ("tags", [], CLEAR_MARK), ("tags", None, CLEAR_MARK),
        ("geoblocking", ["DENY", "FR"], "deny, fr"),
        ("geoblocking", ["allow"], CLEAR_MARK), ("geoblocking", ["deny"], CLEAR_MARK),
        ("geoblocking", None, CLEAR_MARK),
        ("title", "", CLEAR_MARK), ("title", None, CLEAR_MARK), ("title", "Hi", "Hi"),
        ("private", True, "true"), ("private", False, "false"),
        ("geoloc", (-9.14, 38.71), "9.14W, 38.71N"), ("geoloc", [1, 2], "1E, 2N"),
        ("soundtrack_popularity", 7.0, "7"), ("soundtrack_popularity", 7.5, "7.5"),
        ("channel", "News", "news"),
        ("publish_date", 1796144400, "2026-12-01T17:00:00+00:00"),
    ]
    for name, value, cell in cases:
        assert to_cell(FIELDS[name], value) == cell, (name, value)
    assert to_cell(FIELDS["title"], CLEAR) == CLEAR_MARK
    for name, value, cell in cases:  # and back
        # (items are trimmed when read: a live tag " padded" comes back as "padded")
        if cell != CLEAR_MARK and name not in ("geoloc", "channel", "geoblocking") and (
                value not in ([" padded"], 7.5)):  # popularity is whole: 7.5 is never live
            change, _ = parse_cell(FIELDS[name], cell)
            expected = tuple(value) if isinstance(value, list | tuple) else value
            assert change == SetValue(expected if name != "soundtrack_popularity"
                                      else value), (name, cell, change)


def test_the_documented_reset_dates_read_as_no_date():
    from bulkedit.core.cells import CLEAR_MARK, is_unset_date, to_cell

    assert is_unset_date("publish_date", 631151999) and not is_unset_date(
        "publish_date", 631152000)  # before 1990: the "no publish date" value
    assert is_unset_date("expiry_date", 2147483648) and not is_unset_date(
        "expiry_date", 2147483647)  # after 2038-01-19: the "no expiry" value
    assert not is_unset_date("expiry_date", 0) and not is_unset_date("publish_date",
                                                                      2147483648)
    assert to_cell(FIELDS["publish_date"], 0) == CLEAR_MARK
    assert to_cell(FIELDS["expiry_date"], 4102444800) == CLEAR_MARK
    assert to_cell(FIELDS["expiry_date"], 1796144400) == "2026-12-01T17:00:00+00:00"


def test_digits_are_read_as_a_date_only_where_they_cannot_mean_anything_else():
    assert parse_date("20261201", UTC)[0] == int(datetime(2026, 12, 1, tzinfo=UTC).timestamp())
    assert "20260230 is not" in parse_date("20260230", UTC)[1]
    assert parse_date("1000000000", UTC)[0] == 1_000_000_000  # the smallest unix seconds
    assert "not a date" in parse_date("0999999999", UTC)[1]
    # 2026120110 is both 2026-12-01 10:00 and unix seconds of 2034: refused as ambiguous
    assert "YYYYMMDDHH" in parse_date("2026120110", UTC)[1]
    assert parse_date("2026123124", UTC)[0] == 2026123124  # hour 24: only unix seconds
    assert parse_date("1104537599", UTC)[0] == 1104537599  # before 2005: not a date-hour
    assert "Excel serial" in parse_date("12345", UTC)[1]
    assert "not a date" in parse_date("123456", UTC)[1]
    assert "milliseconds" in parse_date("179614440000", UTC)[1]
    assert "not a date" in parse_date("179614440000000", UTC)[1]


def test_implausible_and_past_dates_are_explained():
    from bulkedit.core.cells import date_problems

    def codes(name: str, seconds: int, now: float = 0.0) -> list[str]:
        return [p.code for p in date_problems(FIELDS[name], seconds, now)]

    assert codes("publish_date", 1104537600) == [] == codes("expiry_date", 2147483647)
    assert codes("publish_date", 1104537599) == ["implausible_date"]  # 2004-12-31
    assert codes("expiry_date", 2147483648) == ["implausible_date"]  # past 2038-01-19
    (far,) = date_problems(FIELDS["publish_date"], 631152000, 0.0)
    assert "reads as 1990-01-01T00:00:00+00:00" in far.message
    (huge,) = date_problems(FIELDS["publish_date"], 10**13, 0.0)
    assert "reads as 10000000000000" in huge.message
    (past,) = date_problems(FIELDS["publish_date"], 1796144400, now=1796144401)
    assert past.code == "past_date" and past.severity is Severity.WARNING
    assert "published at once" in past.message
    (gone,) = date_problems(FIELDS["expiry_date"], 1796144400, now=1796144401)
    assert "deleted" in gone.message
    assert gone.message.endswith("plan and apply refuse that without --allow-past-expiry")
    assert codes("publish_date", 1796144400, now=1796144400) == []  # now is not the past


def test_clock_changes_are_refused_with_the_reason():
    paris = ZoneInfo("Europe/Paris")
    assert "does not exist" in parse_date("2026-03-29 02:30", paris)[1]
    assert "happens twice" in parse_date("2026-10-25 02:30", paris)[1]
    assert parse_date("2026-10-25 02:30", UTC)[0] is not None


def test_a_slashed_date_in_a_given_order():
    assert parse_date("03/04/2031 10:00", UTC, "dmy")[0] == int(
        datetime(2031, 4, 3, 10, tzinfo=UTC).timestamp())
    assert parse_date("03/04/2031", UTC, "mdy")[0] == int(
        datetime(2031, 3, 4, tzinfo=UTC).timestamp())
    assert "not a date in mdy order" in parse_date("13/04/2031", UTC, "mdy")[1]
    assert "two digits" in parse_date("03/04/31", UTC)[1]
    assert "not a date" in parse_date("33/44/2031", UTC)[1]
    assert parse_date("05/05/2031", UTC)[0] == int(datetime(2031, 5, 5, tzinfo=UTC).timestamp())


def test_geoblocking_cells_that_could_be_misread_are_refused_with_the_form_to_use():
    assert ok("geoblocking", "deny, +us") == PatchList(("us",), (), "deny")  # = "deny +us"
    code, message = problem("geoblocking", "deny +us, fr")
    assert code == "mixed_patch" and "after 'deny', start every country with + or -" in message
    code, message = problem("geoblocking", "+us, fr")
    assert code == "mixed_patch" and "mixes +/- patch items with plain items" in message
    code, message = problem("geoblocking", "+us +ca")
    assert code == "bad_country" and "holds several items" in message
    code, message = problem("geoblocking", "+us ca")
    assert code == "bad_country" and "separate them with commas, like us, ca" in message
    code, message = problem("geoblocking", "+usa")
    assert code == "bad_country" and "not an ISO 3166-1 alpha-2 country code" in message
    assert ok("geoblocking", "allow, fr") == SetValue(("allow", "fr"))


def test_json_and_id_list_cells_keep_every_item_check():
    code, message = problem("custom_classification", '["a", "b", "c", "d"]')
    assert code == "too_many" and "4 items" in message
    assert ok("custom_classification", '["a", "b", "c"]') == SetValue(("a", "b", "c"))
    assert problem("player_next_videos", '["x7zq1a", "nope"]')[0] == "bad_item"
    assert problem("player_next_videos", "x7zq1a, nope")[0] == "bad_item"
    long_item = "t" * 151
    code, message = problem("tags", long_item)
    assert code == "bad_item" and message.startswith(f"item '{'t' * 30}…' is 151 characters")
    assert ok("tags", "t" * 150) == SetValue(("t" * 150,))
    code, message = problem("tags", "ok, bad\x07item")
    assert code == "bad_item" and "control character (U+0007)" in message


def test_invisible_characters_around_list_items_are_removed_with_a_warning():
    change, problems = parse_cell(FIELDS["tags"], "rock, \u200bpop")
    assert change == SetValue(("rock", "pop"))
    assert [p.severity for p in problems] == [Severity.WARNING]
    assert "removed invisible" in problems[0].message and "around items" in problems[0].message
    change, problems = parse_cell(FIELDS["title"], "Hello world\u200b")
    assert change == SetValue("Hello world") and "removed invisible" in problems[0].message


def test_zones_ids_points_and_spreadsheet_errors():
    from bulkedit.core.cells import zone_named

    assert zone_named("utc") is UTC and zone_named("UTC") is UTC
    assert zone_named("Europe/Paris") == ZoneInfo("Europe/Paris")
    assert parse_video_id("k2abcdefghijklmnopq")[0] is None
    assert parse_video_id("k2abcdefghijklmnopq")[1].code == "private_id"
    assert problem("geoloc", "nan, 1")[0] == "type" and problem("geoloc", "1, nan")[0] == "type"
    from bulkedit.core.cells import excel_error_problem

    found = excel_error_problem("#VALUE!")
    assert found.code == "excel_error" and "'#VALUE!" in found.message
    typed = excel_error_problem("#NAME?", formula="+rock")
    assert "Excel read what you typed, +rock, as a formula" in typed.message


def test_digits_that_could_be_a_date_and_hour_only_inside_2005_to_2038():
    assert "YYYYMMDDHH" in parse_date("2005010100", UTC)[1]  # 2005-01-01 00:00, plausible
    assert "YYYYMMDDHH" in parse_date("2038011903", UTC)[1]
    assert parse_date("2039010100", UTC)[0] == 2039010100  # 2039: only unix seconds
    assert parse_date("2004123123", UTC)[0] == 2004123123  # 2004: only unix seconds


# ------------------------------------------------ edges a mutation run showed unpinned (#17)

def test_an_invisible_character_in_a_coded_cell_is_removed_with_a_warning():
    # Coded values (yes/no, ids, languages) lose invisible characters anywhere, free text
    # only at its ends (inside, an emoji's zero-width joiner is meant).
    change, problems = parse_cell(FIELDS["private"], "ye\u200bs")
    assert change == SetValue(True)
    assert [p.code for p in problems] == ["invisible_char"]
    assert "U+200B ZERO WIDTH SPACE" in problems[0].message
    video_id, warning = parse_video_id("x8abc12\u200b")
    assert video_id == "x8abc12" and warning is not None and warning.code == "invisible_char"
    assert "U+200B" in warning.message
    change, problems = parse_cell(FIELDS["ai_subtitle_languages"], "e\u200bn, fr")
    assert change == SetValue(("en", "fr")) and problems[0].code == "invisible_char"
    change, _ = parse_cell(FIELDS["language"], "f\u200br")
    assert change == SetValue("fr")
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert ok("tags", f"{family}, home") == SetValue((family, "home"))


def test_a_cell_of_invisible_characters_only_is_blank_with_a_warning():
    change, problems = parse_cell(FIELDS["private"], "\u200b")
    assert change is None and [p.code for p in problems] == ["invisible_char"]
    change, problems = parse_cell(FIELDS["title"], "\u200b\ufeff")
    assert change is None and [p.severity for p in problems] == [Severity.WARNING]


def test_a_day_first_date_with_seconds_keeps_them():
    assert parse_date("01/12/2026 18:30:15", UTC, "dmy")[0] == int(
        datetime(2026, 12, 1, 18, 30, 15, tzinfo=UTC).timestamp())


def test_ten_digits_that_could_be_a_date_and_hour_name_both_readings():
    reason = parse_date("2031121518", UTC)[1]
    assert "2031-12-15T18:00" in reason and format_date(2031121518) in reason


@pytest.mark.parametrize("number", ["20261301", "20260231", "20260200"])
def test_eight_digits_that_are_no_date_say_they_were_read_as_yyyymmdd(number):
    assert parse_date(number, UTC)[1].startswith(
        f"8 digits are read as a date YYYYMMDD, and {number} is not one")


def test_six_and_seven_digits_are_no_excel_day_number():
    assert "Excel serial" in parse_date("45000", UTC)[1]
    for number in ("123456", "1234567"):
        assert parse_date(number, UTC)[1].startswith("a number that is not a date")


def test_dates_far_outside_are_shown_as_dates_while_a_date_can_show_them():
    from bulkedit.core.cells import date_problems

    def shown(seconds: int) -> str:
        (found,) = date_problems(FIELDS["publish_date"], seconds, 0.0)
        return found.message.split(",")[0]

    assert shown(-62135596800) == "reads as 0001-01-01T00:00:00+00:00"  # the first one
    assert shown(-62135596801) == "reads as -62135596801"
    assert shown(253402300799) == "reads as 9999-12-31T23:59:59+00:00"  # the last one
    assert shown(253402300800) == "reads as 253402300800"


def test_a_number_at_its_maximum_is_taken_and_above_it_refused():
    from dataclasses import replace

    # No field has a documented maximum today; the rule is there for the one that will.
    spec = replace(FIELDS["soundtrack_popularity"], maximum=100)
    assert parse_cell(spec, "100") == (SetValue(100), ())
    change, problems = parse_cell(spec, "101")
    assert change is None and (problems[0].code, problems[0].message) == (
        "out_of_range", "must be at most 100")


def test_a_text_at_its_minimum_length_is_taken_and_below_it_refused():
    from dataclasses import replace

    assert ok("title", "A") == SetValue("A") and ok("soundtrack_isrc", "U") == SetValue("U")
    spec = replace(FIELDS["title"], min_length=3)
    assert parse_cell(spec, "abc") == (SetValue("abc"), ())
    change, problems = parse_cell(spec, "ab")
    assert change is None and (problems[0].code, problems[0].message) == (
        "too_short", "title needs at least 3 characters")


def test_a_list_item_with_a_control_character_is_named_by_its_first_30_characters():
    item = "a" * 29 + "b\x07tail"
    code, message = problem("tags", f"rock, {item}")
    assert code == "bad_item" and message.startswith(f"item '{'a' * 29}b' contains")
    assert "U+0007" in message


def test_repeated_and_empty_list_items_are_dropped():
    assert ok("tags", "rock, rock, , pop,") == SetValue(("rock", "pop"))
    # Also when trimming invisible characters leaves an item empty or repeated.
    change, problems = parse_cell(FIELDS["tags"], "rock, \u200b, rock\u200b, pop")
    assert change == SetValue(("rock", "pop")) and problems[0].code == "invisible_char"


def test_a_tag_that_starts_with_a_bracket_is_a_tag_not_a_json_list():
    assert ok("tags", "[live] concert, music") == SetValue(("[live] concert", "music"))
    assert ok("tags", "music, concert [live]") == SetValue(("music", "concert [live]"))


def test_a_patch_item_is_checked_like_a_plain_one():
    code, message = problem("tags", "+rock, +" + "t" * 151)
    assert code == "bad_item" and "151 characters; the limit is 150" in message


def test_a_date_cell_refused_says_why():
    code, message = problem("publish_date", "45000")
    assert code == "bad_date" and "Excel serial" in message


def test_a_video_id_cell_takes_a_url_and_names_a_bad_one():
    assert ok("player_next_video", "https://dai.ly/x8abc12") == SetValue("x8abc12")
    assert problem("player_next_video", "X8ABC12") == (
        "bad_id", "video ids are lower case; write x8abc12")


def test_a_live_item_with_a_comma_is_written_as_json_so_it_never_reads_back_as_two():
    from bulkedit.core.cells import to_cell

    written = to_cell(FIELDS["tags"], ["café, crème", "thé"])
    assert written == '["café, crème", "thé"]'  # and its letters stay readable
    # Read back, it is refused (the API would split it), never taken as three tags.
    assert parse_cell(FIELDS["tags"], written)[1][0].code == "comma_in_item"


def test_up_to_twenty_allowed_values_are_spelled_out_and_more_are_not():
    from dataclasses import replace

    def refusal(count: int) -> str:
        spec = replace(FIELDS["channel"], allowed=tuple(f"v{i:02d}" for i in range(count)))
        change, problems = parse_cell(spec, "nothing")
        assert change is None
        return problems[0].message

    assert refusal(20).endswith("allowed: " + ", ".join(f"v{i:02d}" for i in range(20)))
    assert refusal(21) == "not an allowed value"


# ------------------------------------------ issue 28's seed-29 sample: what a user reads

def test_a_local_time_the_clocks_skip_or_repeat_is_refused_with_the_offset_to_write():
    paris = ZoneInfo("Europe/Paris")
    assert parse_cell(FIELDS["publish_date"], "2026-03-29T02:30", paris)[1][0].message == (
        "2026-03-29 02:30 does not exist in Europe/Paris (the clocks change); write the "
        "offset, like 2026-10-25T02:30:00+01:00")
    assert parse_cell(FIELDS["publish_date"], "2026-10-25 02:30", paris)[1][0].message == (
        "2026-10-25 02:30 happens twice in Europe/Paris (the clocks change); write the "
        "offset, like 2026-10-25T02:30:00+01:00")


def test_a_control_character_says_how_to_get_rid_of_it():
    assert problem("title", "Summer\x07 live") == (
        "control_char", "contains an invisible control character (U+0007); delete it "
                        "(retype the cell if you cannot see it)")


def test_a_tag_ending_in_a_bracket_is_a_tag_not_a_json_list():
    """`rock; live [2024]` ends with `]` but does not start with `[`: the separators are
    found (and split with --split-lists), as in any cell."""
    assert problem("tags", "rock; live [2024]") == (
        "list_separator", 'the items are separated by semicolons (;), but tags takes '
                          'commas: use "rock, live [2024]" (commas), or pass --split-lists '
                          "to split such cells")
    change, problems = parse_cell(FIELDS["tags"], "rock; live [2024]", split_lists=True)
    assert change == SetValue(("rock", "live [2024]")) and not problems
    assert ok("tags", "rock, live [2024]") == SetValue(("rock", "live [2024]"))


def test_an_item_holding_a_separator_is_shown_by_its_first_60_characters():
    item = "x" * 70 + ";y"
    assert problem("tags", f'["{item}"]') == (
        "separator_in_item", f'the item "{"x" * 60}" holds a ; | tab or line break, which '
                             "other programs put between items; write each item on its own")


def test_a_patch_item_with_two_signs_is_not_a_country_code():
    """`++us` is one item: not "several country codes" (a hint for `us ca`)."""
    assert problem("geoblocking", "+fr, ++us") == (
        "bad_country", "'+us' is not an ISO 3166-1 alpha-2 country code like fr or us")
    assert problem("geoblocking", "deny, +-fr") == (
        "bad_country", "'-fr' is not an ISO 3166-1 alpha-2 country code like fr or us")
    assert problem("geoblocking", "+fr, +us ca")[1] == (
        "'us ca' holds several country codes; separate them with commas, like us, ca")
