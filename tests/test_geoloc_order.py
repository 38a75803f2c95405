"""Coordinates valid in both orders (issue 25): the API takes longitude, latitude, and
people copy latitude, longitude from maps. A bare pair that is a place either way round
is refused with both readings; hemisphere letters say which number is which."""

from __future__ import annotations

import pytest
from conftest import apply, sheet

from bulkedit.core.cells import parse_cell, to_cell
from bulkedit.core.schema import FIELDS
from bulkedit.core.types import SetValue
from bulkedit.sandbox.store import video_id

GEO = FIELDS["geoloc"]


def read(text: str, **options):
    return parse_cell(GEO, text, **options)


@pytest.mark.parametrize("text", ["2.35, 48.85", "48.85, 2.35", "-9.14, 38.71", "0, 45",
                                  "-90, 90", "2,35; 48,85"])
def test_a_bare_pair_valid_in_both_orders_is_refused_with_both_readings(text):
    change, problems = read(text)
    assert change is None and problems[0].code == "geoloc_order"
    message = problems[0].message
    assert "a place in both orders" in message
    assert message.count("longitude") >= 2 and message.count("latitude") >= 2


def test_the_refusal_shows_the_forms_that_read_one_way():
    message = read("2.35, 48.85")[1][0].message
    assert "2.35E, 48.85N" in message and "48.85E, 2.35N" in message
    assert read("2.35E, 48.85N") == (SetValue((2.35, 48.85)), ())


@pytest.mark.parametrize(("text", "point"), [
    ("48.85N, 2.35E", (2.35, 48.85)), ("2.35E, 48.85N", (2.35, 48.85)),
    ("48.85 N, 2.35 E", (2.35, 48.85)), ("48.85°N, 2.35°E", (2.35, 48.85)),
    ("N48.85, E2.35", (2.35, 48.85)), ("38.71n, 9.14w", (-9.14, 38.71)),
    ("33.87S, 151.21E", (151.21, -33.87)), ("38,71N; 9,14W", (-9.14, 38.71)),
])
def test_hemisphere_letters_read_in_any_order(text, point):
    assert read(text) == (SetValue(point), ())


@pytest.mark.parametrize("text", ["48.85N, 2.35", "48.85N, 2.35S", "2.35E, 48.85W",
                                  "-48.85N, 2.35E", "95N, 2E", "2E, 181E"])
def test_letters_that_do_not_say_one_point_are_refused(text):
    change, problems = read(text)
    assert change is None and problems[0].code in ("type", "out_of_range")
    assert read("48.85N, 2.35E")[0] == SetValue((2.35, 48.85))  # where letters do say it


def test_a_pair_valid_in_one_order_only():
    # As written (longitude first), the only reading: read.
    assert read("139.69, 35.68") == (SetValue((139.69, 35.68)), ())
    # Only the other way round (latitude first, as maps copy it): refused, with the form.
    change, problems = read("35.68, 139.69")
    assert change is None and problems[0].code == "geoloc_order"
    assert "139.69E, 35.68N" in problems[0].message
    # The same point either way: nothing to ask.
    assert read("10, 10") == (SetValue((10.0, 10.0)), ())


def test_live_values_are_written_with_letters_and_read_back_the_same():
    for point in ((-9.14, 38.71), (2.35, 48.85), (0.0, 0.0), (180.0, -90.0), (139.69, 35.68)):
        assert read(to_cell(GEO, point)) == (SetValue(point), ())
        assert to_cell(GEO, point)[-1] in "NS"  # with its letters, never a bare pair


def test_apply_sends_nothing_for_a_pair_valid_in_both_orders(run_cli, api, tmp_path):
    sandbox = api()
    path = sheet(tmp_path, [{"video_id": video_id(3), "geoloc": "2.35, 48.85"}])
    refused = apply(run_cli, sandbox, path)
    assert refused.code == 2 and "a place in both orders" in refused.out
    assert sum(sandbox.counters.requests.values()) == 0
    assert sandbox.video(video_id(3))["geoloc"] is None
    sent = apply(run_cli, sandbox, sheet(tmp_path, [{"video_id": video_id(3),
                                                     "geoloc": "48.85N, 2.35E"}]))
    assert sent.code == 0 and sandbox.video(video_id(3))["geoloc"] == [2.35, 48.85]
