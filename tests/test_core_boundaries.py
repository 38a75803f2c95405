"""Exact boundaries of the pure core that a one-line change could move unnoticed (issue 17
lists them from its mutation run): each pins what a user would see, through validate()."""

from __future__ import annotations

import io

import pytest

from bulkedit.core.types import CLEAR, PatchList, SetValue
from bulkedit.core.validation import validate
from bulkedit.sheets.load import load_sheet


def issues(text: str) -> list[tuple[int, str, str]]:
    sheet = load_sheet(io.BytesIO(text.encode()), name="edits.csv")
    return [(i.row, i.column, i.code) for i in validate(sheet).issues
            if i.severity.value == "error"]


def test_a_title_of_255_characters_passes_and_256_do_not():
    found = issues("video_id,title\nx7zq1a," + "a" * 255 + "\nx7zq1b," + "b" * 256 + "\n")
    assert found == [(3, "title", "too_long")]


def test_a_day_that_does_not_exist_is_refused_not_rolled_over():
    found = issues("video_id,publish_date\nx7zq1a,2026-02-30T10:00:00+01:00\n"
                   "x7zq1b,2028-02-29T10:00:00+01:00\n")
    assert found == [(2, "publish_date", "bad_date")]  # 2028 is a leap year


def test_an_expiry_on_the_publish_moment_is_refused():
    found = issues("video_id,publish_date,expiry_date\n"
                   "x7zq1a,2027-03-01T10:00:00Z,2027-03-01T10:00:00Z\n"
                   "x7zq1b,2027-03-01T10:00:00Z,2027-03-01T10:00:01Z\n")
    assert found == [(2, "expiry_date", "date_order")]


def test_list_items_are_checked_through_validate_not_only_parse_cell():
    found = issues('video_id,ai_subtitle_languages,player_next_videos\n'
                   'x7zq1a,"en, zz9","x7zq1b, NOTANID"\n'
                   'x7zq1b,"en, fr","x7zq1c"\n')
    assert found == [(2, "ai_subtitle_languages", "bad_item"),
                     (2, "player_next_videos", "bad_item")]


def test_duplicate_rows_are_not_counted_valid():
    sheet = load_sheet(io.BytesIO(b"video_id,title\nx7zq1a,One\nx7zq1a,Two\nx7zq1b,Three\n"),
                       name="edits.csv")
    result = validate(sheet)
    assert result.valid_count == 1 == len(list(result.rows()))


def test_a_row_with_only_warnings_is_still_sent():
    sheet = load_sheet(io.BytesIO("video_id,title\nx7zq1a,\u200bTitle\n".encode()),
                       name="edits.csv")
    result = validate(sheet)
    assert [i.severity.value for i in result.issues] == ["warning"]
    assert [row.video_id for row in result.rows()] == ["x7zq1a"]


def test_a_control_character_in_a_text_column_is_an_error():
    assert issues("video_id,description\nx7zq1a,Bell\x07here\n") == [
        (2, "description", "control_char")]


# ----------------------------------------------------------------------------- schema limits
# Each documented limit of schema.py, at its edge, as the user meets it in validate().


def test_the_list_limits_bite_at_their_edges():
    tags_ok = ", ".join(f"#t{i}" for i in range(150))
    tags_over = ", ".join(f"#t{i}" for i in range(151))
    long_tag = "#" + "h" * 149
    found = issues("video_id,hashtags,player_next_videos\n"
                   f'x7zq1a,"{tags_ok}","{", ".join(f"x7zq{i:03d}" for i in range(150))}"\n'
                   f'x7zq1b,"{tags_over}","{", ".join(f"x7zq{i:03d}" for i in range(151))}"\n'
                   f'x7zq1c,"{long_tag}",\n'
                   f'x7zq1d,"{long_tag}h",\n')
    assert found == [(3, "hashtags", "too_many"), (3, "player_next_videos", "too_many"),
                     (5, "hashtags", "bad_item")]


def test_the_text_limits_bite_at_their_edges():
    found = issues("video_id,password,content_provider,content_provider_id,soundtrack_isrc\n"
                   f"x7zq1a,{'p' * 255},{'c' * 255},{'i' * 255},{'s' * 150}\n"
                   f"x7zq1b,{'p' * 256},{'c' * 256},{'i' * 256},{'s' * 151}\n")
    assert found == [(3, "password", "too_long"), (3, "content_provider", "too_long"),
                     (3, "content_provider_id", "too_long"), (3, "soundtrack_isrc",
                                                              "too_long")]


def test_the_number_limits_bite_at_their_edges():
    found = issues("video_id,soundtrack_popularity\nx7zq1a,0\nx7zq1b,-1\nx7zq1c,2.5\n")
    assert [(row, code) for row, _, code in found] == [(3, "out_of_range"), (4, "type")]


def test_patches_work_only_on_the_lists_that_take_them():
    found = issues('video_id,hashtags,custom_classification,geoblocking,'
                   'player_next_videos\n'
                   'x7zq1a,"+#new","+kids","+fr",\n'
                   'x7zq1b,,,,"+x7zq1c"\n')
    assert found == [(3, "player_next_videos", "patch_not_allowed")]


# ----------------------------------------------------------------------------- cells


def test_a_point_on_the_edge_of_the_map_is_a_place_and_past_it_is_not():
    found = issues('video_id,geoloc\nx7zq1a,"180, 90"\nx7zq1b,"-180, -90"\n'
                   'x7zq1c,"180.0001, 0"\nx7zq1d,"0, 90.0001"\nx7zq1e,"-180.5, 0"\n'
                   'x7zq1f,"0, -90.5"\n')
    assert [row for row, _, _ in found] == [4, 5, 6, 7]


def test_a_thumbnail_address_of_2048_characters_passes_and_2049_do_not():
    base = "https://example.com/"
    found = issues("video_id,thumbnail_url\n"
                   f"x7zq1a,{base}{'a' * (2048 - len(base))}\n"
                   f"x7zq1b,{base}{'a' * (2049 - len(base))}\n")
    assert [(row, column) for row, column, _ in found] == [(3, "thumbnail_url")]


def test_upper_case_video_ids_are_refused_not_lowered():
    found = issues("video_id,title\nX7ZQ1A,Shouting\nx7zq1a,Fine\n")
    assert [(row, column) for row, column, _ in found] == [(2, "video_id")]


def test_the_masked_secret_is_never_sent_back_as_a_password():
    found = issues("video_id,password\nx7zq1a,***\nx7zq1b,s3cret!\n")
    assert found == [(2, "password", "masked_secret")]


def test_a_json_list_cell_takes_texts_without_commas():
    found = issues('video_id,tags\nx7zq1a,"[""-80s"", ""rock""]"\nx7zq1b,"[1, 2]"\n'
                   'x7zq1c,"[""a, b""]"\nx7zq1d, [ ]\n')
    # [1, 2] was split into the tags "[1" and "2]" by the fast path, and sent (issue 17)
    assert [(row, code) for row, _, code in found] == [(3, "type"), (4, "comma_in_item")]
    sheet = load_sheet(io.BytesIO(b'video_id,tags\nx7zq1a,"[""-80s"", ""rock""]"\n'
                                  b'x7zq1b,[]\n'), name="edits.csv")
    first, second = validate(sheet).rows()
    assert first.changes["tags"].value == ("-80s", "rock")  # type: ignore[union-attr]
    assert second.changes["tags"] is CLEAR


def test_the_same_item_twice_in_a_list_is_sent_once():
    sheet = load_sheet(io.BytesIO(b'video_id,tags\nx7zq1a,"rock, pop, rock"\n'),
                       name="edits.csv")
    (row,) = validate(sheet).rows()
    assert row.changes["tags"].value == ("rock", "pop")  # type: ignore[union-attr]


def test_a_date_in_the_past_is_refused_and_now_is_not_the_past():
    import time

    def warnings(text: str) -> list[str]:
        sheet = load_sheet(io.BytesIO(text.encode()), name="edits.csv")
        return [i.code for i in validate(sheet).issues]

    assert warnings("video_id,publish_date\nx7zq1a,2020-01-01T00:00:00Z\n") == ["past_date"]
    future = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))
    assert warnings(f"video_id,publish_date\nx7zq1a,{future}\n") == []


def test_a_slashed_date_is_read_only_when_both_orders_agree():
    found = issues("video_id,publish_date\nx7zq1a,03/04/2031 10:00\nx7zq1b,05/05/2031 10:00\n"
                   "x7zq1c,13/04/2031 10:00\nx7zq1d,31/02/2031 10:00\n")
    assert [(row, code) for row, _, code in found] == [(2, "bad_date"), (4, "bad_date"),
                                                       (5, "bad_date")]


def test_more_field_limits_at_their_edges():
    found = issues("video_id,custom_classification,advertising_custom_target,soundtrack_isrc\n"
                   f"x7zq1a,{'c' * 150},{'t' * 255},A\n"
                   f"x7zq1b,{'c' * 151},{'t' * 256},\n")
    assert [(row, column) for row, column, _ in found] == [
        (3, "custom_classification"), (3, "advertising_custom_target")]


def test_live_ad_breaks_are_whole_numbers_from_zero():
    from bulkedit.core.validation import ValidationOptions

    sheet = load_sheet(io.BytesIO(b"video_id,live_ad_break_launch\nx7zq1a,0\nx7zq1b,-1\n"
                                  b"x7zq1c,1.5\n"), name="edits.csv")
    codes = [(i.row, i.code) for i in
             validate(sheet, ValidationOptions(allow_live_fields=True)).issues]
    assert codes == [(3, "out_of_range"), (4, "type")]


# ----------------------------------------------------------------------------- validation


def test_rows_across_the_chunk_boundary_keep_their_own_values():
    from bulkedit.core.validation import _CHUNK

    count = _CHUNK + 3
    lines = ["video_id,title,tags"]
    for i in range(count):
        tags = "+new" if i in (_CHUNK - 1, _CHUNK, _CHUNK + 1) else f"t{i}"  # overrides
        lines.append(f"x{i:06d},Title {i},{tags}")
    sheet = load_sheet(io.BytesIO(("\n".join(lines) + "\n").encode()), name="edits.csv")
    rows = list(validate(sheet).rows())
    assert len(rows) == count
    for i in (0, _CHUNK - 2, _CHUNK - 1, _CHUNK, _CHUNK + 1, _CHUNK + 2):
        row = rows[i]
        assert (row.row, row.video_id) == (i + 2, f"x{i:06d}")
        assert row.changes["title"].value == f"Title {i}"  # type: ignore[union-attr]
        tags = row.changes["tags"]
        if i in (_CHUNK - 1, _CHUNK, _CHUNK + 1):
            assert tags == PatchList(("new",), ())
        else:
            assert tags.value == (f"t{i}",)  # type: ignore[union-attr]


@pytest.mark.parametrize("text", [
    "2027-03-01T10:00:00+01:00", "2027-03-01T10:00:00-03:30", "2027-03-01T10:00:00+05:45",
    "2027-03-01T10:00:00Z", "2027-03-01 10:00:00+00:00", "2027-12-31T23:59:59+14:00",
    "2027-01-01T00:00:00-12:00", "2027-03-01T10:00:00+01:30"])
def test_the_fast_date_path_reads_what_the_grammar_reads(text):
    from datetime import UTC

    from bulkedit.core.cells import parse_date

    sheet = load_sheet(io.BytesIO(f"video_id,publish_date\nx7zq1a,{text}\n".encode()),
                       name="edits.csv")
    (row,) = validate(sheet).rows()
    expected, _ = parse_date(text, UTC)
    assert row.changes["publish_date"] == SetValue(expected)


def test_warnings_and_ids_of_a_validation():
    sheet = load_sheet(io.BytesIO("video_id,title\nx7zq1a,\u200bHi\n,Nobody\n"
                                  "https://dai.ly/x7zq1b,Url\n".encode()), name="edits.csv")
    result = validate(sheet)
    assert [i.code for i in result.warnings] == ["invisible_char"]
    assert [i.row for i in result.errors] == [3]
    assert result.ids() == ["x7zq1a", None, "x7zq1b"]


def test_an_offset_of_24_hours_is_refused_by_the_fast_path_too():
    assert issues("video_id,publish_date\nx7zq1a,2027-03-01T10:00:00+24:00\n") == [
        (2, "publish_date", "bad_date")]


def test_problems_never_quote_a_secret_and_long_values_are_cut_at_200():
    sheet = load_sheet(io.BytesIO(b"video_id,password,title\nx7zq1a,#VALUE!,A\n"
                                  + b"x7zq1b,," + b"a" * 300 + b"\n"), name="edits.csv")
    found = {i.column: i for i in validate(sheet).issues}
    assert found["password"].value == "***" and "#VALUE!" not in found["password"].message
    assert found["title"].value == "a" * 200 + "…"
    short = load_sheet(io.BytesIO(b"video_id,title\nx7zq1a," + b"b" * 256 + b"\n"),
                       name="edits.csv")
    (issue,) = validate(short).issues
    assert issue.value == "b" * 200 + "…"


def test_a_repeated_row_names_the_row_it_repeats():
    sheet = load_sheet(io.BytesIO(b"video_id,title\nx7zq1a,A\nx7zq1b,B\nx7zq1a,A\nx7zq1a,A\n"),
                       name="edits.csv")
    result = validate(sheet)
    assert [(i.row, i.code) for i in result.issues] == [(4, "duplicate_row"),
                                                        (5, "duplicate_row")]
    assert all("already on row 2" in i.message for i in result.issues)
    assert not any(i.is_error for i in result.issues)
