"""Numbers a locale reads two ways (issue 25, point 5): `12.000` is twelve thousand in a
German sheet and twelve in an English one. Refused unless --decimal-separator decides."""

from __future__ import annotations

import pytest
from conftest import apply, sheet

from bulkedit.core.cells import parse_cell
from bulkedit.core.doubts import read_number
from bulkedit.core.schema import FIELDS, Kind
from bulkedit.core.types import SetValue
from bulkedit.sandbox.store import video_id

NUMBER_FIELDS = [n for n, s in FIELDS.items() if s.kind is Kind.NUMBER]
# (cell, with a decimal point, with a decimal comma): one separator, once, 1-3 digits
# before it (not a lone 0) and exactly 3 after.
AMBIGUOUS = [
    ("12.000", 12, 12000), ("1.500", 1.5, 1500), ("100.000", 100, 100000),
    ("12,000", 12000, 12), ("1,500", 1500, 1.5), ("-12.000", -12, -12000),
]
# (cell, its one reading): no thousands reading, or only one.
UNAMBIGUOUS = [
    ("12", 12), ("0", 0), ("12.5", 12.5), ("1,5", 1.5), ("12.25", 12.25), ("0.500", 0.5),
    ("1234.567", 1234.567), ("1.234.567", 1234567), ("1,234,567", 1234567),
    ("1,234.5", 1234.5), ("1.234,5", 1234.5), ("12 000", 12000), ("1e3", 1000),
    ("1,2E+05", 120000),
]


def number(text: str, decimal_separator: str | None = None):
    """The number a cell holds: the reader every number-kind field and coordinate uses."""
    return read_number(text, decimal_separator)


@pytest.mark.parametrize("field", NUMBER_FIELDS)
@pytest.mark.parametrize(("text", "point", "comma"), AMBIGUOUS)
def test_a_number_with_two_readings_is_refused_naming_both(field, text, point, comma):
    change, problems = parse_cell(FIELDS[field], text)
    assert change is None and problems[0].code == "ambiguous_number"
    message = problems[0].message
    assert f"{point:g}" in message and f"{comma:g}" in message
    assert "--decimal-separator . or --decimal-separator ," in message


@pytest.mark.parametrize(("text", "point", "comma"), AMBIGUOUS)
def test_the_decimal_separator_decides(text, point, comma):
    assert number(text, ".").value == point
    assert number(text, ",").value == comma
    spec = FIELDS["soundtrack_popularity"]  # whole numbers from 0
    for separator, value in ((".", point), (",", comma)):
        change, problems = parse_cell(spec, text, decimal_separator=separator)
        if value >= 0 and float(value).is_integer():
            assert change == SetValue(int(value)) and problems == ()
        else:
            assert change is None and problems[0].code in ("type", "out_of_range")


@pytest.mark.parametrize(("text", "value"), UNAMBIGUOUS)
def test_a_number_with_one_reading_is_read(text, value):
    reading = number(text)
    assert reading.value == value and reading.code == ""


@pytest.mark.parametrize(("text", "separator"), [
    ("12.5", ","), ("1,5", "."), ("1.234.567", "."), ("1,234,567", ","), ("1,234.5", ","),
    ("1.234,5", "."), ("1,2E+05", "."),
])
def test_a_number_written_with_the_other_convention_is_refused_under_the_option(text, separator):
    reading = number(text, separator)
    assert reading.value is None and reading.code == "type"
    assert f"--decimal-separator {separator}" in reading.reason


def test_plain_integers_keep_working_and_a_decimal_comma_is_named():
    spec = FIELDS["soundtrack_popularity"]
    assert parse_cell(spec, "100") == (SetValue(100), ())
    assert parse_cell(spec, "1.234.567") == (SetValue(1234567), ())
    change, problems = parse_cell(spec, "1,5")
    assert change is None and "read as 1.5, with a decimal comma" in problems[0].message
    for text in ("12..0", "1.2.3", "1,23,4", "++1", "1_000", "inf"):
        assert parse_cell(spec, text)[1][0].code == "type", text


def test_coordinates_take_a_decimal_comma_and_never_a_thousands_reading():
    geo = FIELDS["geoloc"]
    assert parse_cell(geo, "139,691; 35,689") == (SetValue((139.691, 35.689)), ())
    assert parse_cell(geo, "139.691, 35.689") == (SetValue((139.691, 35.689)), ())
    assert parse_cell(geo, "139.691, 35.689", decimal_separator=",")[1][0].code == "type"
    assert parse_cell(geo, "139,691, 35,689")[1][0].code == "type"  # which comma is which?


def test_apply_sends_nothing_for_an_ambiguous_number(run_cli, api, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, [{"video_id": video_id(1), "soundtrack_popularity": "12.000"},
                            {"video_id": video_id(2), "soundtrack_popularity": "1.500"}])
    refused = apply(run_cli, sandbox, path)
    assert refused.code == 2 and "Nothing was sent" in refused.out
    assert "12.000 reads two ways" in refused.out
    assert sum(sandbox.counters.requests.values()) == 0
