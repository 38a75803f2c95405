"""A cell that is what a program writes for "no value" (issue 25, point 6): never sent
as text, never taken for blank or [] either; 'None (with an apostrophe) is the text."""

from __future__ import annotations

import io

import pytest

from bulkedit.core.cells import parse_cell, to_cell
from bulkedit.core.doubts import CASED_NULL_MARKERS, NULL_MARKERS
from bulkedit.core.schema import FIELDS, Kind
from bulkedit.core.types import SetValue
from bulkedit.core.validation import ValidationOptions, validate
from bulkedit.sheets.load import load_sheet

# Every entry of the table, in the cases exporters write it.
MARKERS = ["NULL", "null", "Null", "\\N", "(null)", "<null>", "[NULL]", "NaN", "nan", "NAN",
           "None", "none", "NaT", "<NA>", "N/A", "n/a", "undefined", "<nil>", "NA"]
WRITABLE = [name for name, spec in FIELDS.items() if spec.writable]


def test_the_list_covers_the_table():
    assert {m.lower() for m in MARKERS} >= set(NULL_MARKERS)
    assert set(MARKERS) >= set(CASED_NULL_MARKERS)


@pytest.mark.parametrize("marker", MARKERS)
@pytest.mark.parametrize("field", WRITABLE)
def test_a_null_marker_is_refused_in_every_field(field, marker):
    spec = FIELDS[field]
    change, problems = parse_cell(spec, f" {marker} ")
    assert change is None and [p.code for p in problems] == ["null_marker"]
    message = problems[0].message
    assert "leave the cell blank to keep the value" in message
    assert ("or write [] to clear it" in message) == spec.clearable
    if spec.kind in (Kind.TEXT, Kind.LIST):
        assert f"write '{marker} (with an apostrophe" in message


@pytest.mark.parametrize("marker", MARKERS)
def test_an_apostrophe_sends_the_marker_as_text(marker):
    assert parse_cell(FIELDS["title"], f"'{marker}") == (SetValue(marker), ())
    assert parse_cell(FIELDS["title"], f"''{marker}") == (SetValue(f"'{marker}"), ())
    assert parse_cell(FIELDS["tags"], f"'{marker}") == (SetValue((marker,)), ())
    # bulkedit's own sheets (rollback, export) write it so, and read it back the same
    for value in (marker, f"'{marker}"):
        assert parse_cell(FIELDS["title"], to_cell(FIELDS["title"], value))[0] == SetValue(value)
    assert parse_cell(FIELDS["tags"], to_cell(FIELDS["tags"], [marker]))[0] == SetValue((marker,))


def test_a_code_that_is_also_a_marker_needs_the_apostrophe():
    # nan is Min Nan Chinese and nat is Hungworo in ISO 639-3; NA is R's missing value.
    for text, field in (("nan", "language"), ("nat", "language"), ("NA", "country")):
        change, problems = parse_cell(FIELDS[field], text)
        assert change is None and f"write '{text}" in problems[0].message
        assert parse_cell(FIELDS[field], f"'{text}")[0] == SetValue(text.lower())
    assert parse_cell(FIELDS["country"], "na") == (SetValue("na"), ())  # Namibia, lower case
    assert to_cell(FIELDS["language"], "nan") == "'nan"


def test_words_that_merely_contain_a_marker_are_values():
    for text in ("Null and void", "None of the above", "Nana", "NULL!", "nullify"):
        assert parse_cell(FIELDS["title"], text) == (SetValue(text), ())
    assert parse_cell(FIELDS["title"], "None")[0] is None  # the marker itself is not


def test_a_marker_item_in_a_list_is_refused():
    change, problems = parse_cell(FIELDS["tags"], "travel, nan, lisbon")
    assert change is None and problems[0].code == "null_marker"
    assert parse_cell(FIELDS["tags"], '["travel", "nan"]') == (SetValue(("travel", "nan")), ())


def test_validate_finds_markers_on_the_fast_paths_and_excel_errors_stay_errors():
    text = ("video_id,title,tags,description,channel,soundtrack_popularity\n"
            "x8abc12,NULL,\\N,None,nan,NaN\n"
            "x8abc13,#NULL!,\"a, None\",'None,news,7\n"
            "x8abc14,Fine,\"a, b\",,news,\n")
    sheet = load_sheet(io.BytesIO(text.encode()), name="edits.csv")
    result = validate(sheet, ValidationOptions())
    assert [(i.row, i.column, i.code) for i in result.issues] == [
        (2, "title", "null_marker"), (2, "tags", "null_marker"),
        (2, "description", "null_marker"), (2, "channel", "null_marker"),
        (2, "soundtrack_popularity", "null_marker"),
        (3, "title", "excel_error"), (3, "tags", "null_marker")]
    assert [r.row for r in result.rows()] == [4]


def test_cli_validate_refuses_null_markers(run_cli, tmp_path):
    path = tmp_path / "edits.csv"
    path.write_text("video_id,title,country\nx8abc12,NULL,\\N\n", encoding="utf-8")
    result = run_cli("validate", str(path))
    assert result.code == 1
    assert "NULL is a null marker" in result.out and "Nothing was sent" in result.out
