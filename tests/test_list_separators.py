"""List cells written with another separator than the comma, or only separators (issue 25,
point 4): refused with the split shown as the fix, split when the user asks."""

from __future__ import annotations

import io
import json

import pytest

from bulkedit.core.cells import parse_cell, to_cell
from bulkedit.core.schema import FIELDS, Kind
from bulkedit.core.types import PatchList, SetValue
from bulkedit.core.validation import ValidationOptions, validate
from bulkedit.sheets.load import load_sheet

LIST_FIELDS = [name for name, spec in FIELDS.items()
               if spec.kind in (Kind.LIST, Kind.COUNTRY_LIST) and spec.writable]
# (cell, the comma list it would be): one entry per separator an exporter writes.
SEPARATED = [
    ("a; b; c", "a, b, c"),
    ("a;b;c", "a, b, c"),
    ("a|b|c", "a, b, c"),
    ("a | b", "a, b"),
    ("a\nb\nc", "a, b, c"),  # Alt+Enter in Excel
    ("a\r\nb", "a, b"),  # a line break saved on Windows
    ("a\tb", "a, b"),
    ("a / b / c", "a, b, c"),
    ("a /b", "a, b"),
    ("a；b", "a, b"),  # full-width semicolon
    ("a，b", "a, b"),  # full-width comma
    ("a、b", "a, b"),  # ideographic comma
    ("a، b", "a, b"),  # Arabic comma
    ("a, b; c", "a, b, c"),  # commas and another separator
]


def cell(field: str, text: str, **options):
    return parse_cell(FIELDS[field], text, **options)


def sheet_issues(text: str, **options):
    sheet = load_sheet(io.BytesIO(text.encode()), name="edits.csv")
    result = validate(sheet, ValidationOptions(**options))
    return result, [(i.row, i.column, i.code) for i in result.issues]


@pytest.mark.parametrize(("text", "fixed"), SEPARATED)
def test_another_separator_is_refused_with_the_comma_list_as_the_fix(text, fixed):
    change, problems = cell("tags", text)
    assert change is None and problems[0].code == "list_separator"
    assert f'use "{fixed}" (commas), or pass --split-lists' in problems[0].message


@pytest.mark.parametrize(("text", "fixed"), SEPARATED)
def test_split_lists_splits_at_the_separator(text, fixed):
    change, problems = cell("tags", text, split_lists=True)
    assert problems == () and change == SetValue(tuple(fixed.split(", ")))


@pytest.mark.parametrize("field", LIST_FIELDS)
def test_every_list_field_refuses_another_separator(field):
    item = {"geoblocking": ("fr", "us"), "player_next_videos": ("x8abc12", "x8abc13"),
            "ai_subtitle_languages": ("en", "fr")}.get(field, ("a", "b"))
    for separator in ("; ", "|", "\n", " / "):
        change, problems = cell(field, separator.join(item))
        assert change is None and problems[0].code == "list_separator", (field, separator)
        change, problems = cell(field, separator.join(item), split_lists=True)
        assert problems == () and change is not None, (field, separator)


@pytest.mark.parametrize("field", LIST_FIELDS)
@pytest.mark.parametrize("text", [",", " , , ", ";", "; ;", "|", "\n", ", ;", '[""]', '[" ", ""]'])
def test_a_cell_of_separators_only_is_refused_saying_blank_keeps_and_brackets_clear(field, text):
    for split_lists in (False, True):
        change, problems = cell(field, text, split_lists=split_lists)
        if text.startswith("[") and FIELDS[field].kind is Kind.COUNTRY_LIST:
            assert change is None  # no JSON form for country lists: refused all the same
            continue
        assert change is None and problems[0].code == "only_separators", (field, text)
        assert "leave it blank to keep" in problems[0].message
        assert "write [] to clear it" in problems[0].message


def test_hashtags_separated_by_spaces():
    change, problems = cell("hashtags", "#travel #lisbon #summer")
    assert change is None and problems[0].code == "list_separator"
    assert '"#travel, #lisbon, #summer"' in problems[0].message
    assert cell("hashtags", "#travel  #lisbon", split_lists=True)[0] == SetValue(
        ("#travel", "#lisbon"))
    assert cell("tags", "#a #b, c", split_lists=True)[0] == SetValue(("#a", "#b", "c"))


@pytest.mark.parametrize(("text", "items", "separated"), [
    ("AC/DC", ("AC/DC",), "AC / DC"),  # a slash without spaces is part of the item
    ("24/7, news", ("24/7", "news"), "24 /7, news"),
    ("#1 hit", ("#1 hit",), "#1 #hit"),  # one hashtag inside a tag
    ("rock #live", ("rock #live",), "#rock #live"),  # text then a hashtag
    ("C#, F#", ("C#", "F#"), "C#; F#"),
    ("https://example.com/a", ("https://example.com/a",), "https://example.com/a | b"),
])
def test_characters_that_belong_to_an_item_are_not_separators(text, items, separated):
    assert cell("tags", text) == (SetValue(items), ())
    # ...while the same characters with spaces, or between hashtags, separate items
    assert cell("tags", separated)[1][0].code == "list_separator"


def test_patches_with_another_separator():
    change, problems = cell("tags", "+summer; -winter")
    assert change is None and '"+summer, -winter"' in problems[0].message
    assert cell("tags", "+summer; -winter", split_lists=True)[0] == PatchList(
        ("summer",), ("winter",))
    assert cell("geoblocking", "deny +us; -fr", split_lists=True)[0] == PatchList(
        ("us",), ("fr",), "deny")
    change, problems = cell("geoblocking", "deny; us; ca")
    assert change is None and '"deny, us, ca"' in problems[0].message


def test_country_codes_separated_by_spaces():
    change, problems = cell("geoblocking", "fr us ca")
    assert change is None and problems[0].code == "list_separator"
    assert '"fr, us, ca"' in problems[0].message
    assert cell("geoblocking", "deny fr us", split_lists=True)[0] == SetValue(
        ("deny", "fr", "us"))


def test_an_item_that_may_hold_the_character_is_written_as_json():
    change, problems = cell("tags", "rock / pop")
    assert change is None and 'write it as ["rock / pop"]' in problems[0].message
    items = ("rock / pop", "東京、大阪")
    assert cell("tags", json.dumps(items, ensure_ascii=False)) == (SetValue(items), ())
    # and what bulkedit writes (rollback, export) reads back the same
    text = to_cell(FIELDS["tags"], ["rock / pop", "jazz"])
    assert cell("tags", text) == (SetValue(("rock / pop", "jazz")), ())


@pytest.mark.parametrize("item", ["a;b", "a|b", "a\nb", "a\tb"])
def test_no_item_ever_holds_a_semicolon_bar_or_line_break(item):
    for text in (item, json.dumps([item])):
        for split_lists in (False, True):
            change, _ = cell("tags", text, split_lists=split_lists)
            assert not (isinstance(change, SetValue) and item in change.value)
    assert cell("tags", json.dumps([item]))[1][0].code == "separator_in_item"


def test_the_fast_path_sends_such_cells_to_the_grammar():
    result, found = sheet_issues('video_id,tags,hashtags\n'
                                 'x8abc12,"a; b",#x #y\n'
                                 'x8abc13,",",\n'
                                 'x8abc14,"a, b","#x, #y"\n')
    assert found == [(2, "tags", "list_separator"), (2, "hashtags", "list_separator"),
                     (3, "tags", "only_separators")]
    assert [r.changes for r in result.rows()] == [
        {"tags": SetValue(("a", "b")), "hashtags": SetValue(("#x", "#y"))}]
    result, found = sheet_issues('video_id,tags\nx8abc12,"a; b"\nx8abc13,"c|d"\n',
                                 split_lists=True)
    assert found == [] and [r.changes["tags"] for r in result.rows()] == [
        SetValue(("a", "b")), SetValue(("c", "d"))]


def test_cli_validate_lists_each_cell_with_row_column_and_code(run_cli, tmp_path):
    path = tmp_path / "edits.csv"
    path.write_text('video_id,tags,geoblocking\nx8abc12,"a; b",\nx8abc13,",","fr|us"\n',
                    encoding="utf-8")
    report = tmp_path / "problems.json"
    result = run_cli("validate", str(path), "--report", str(report))
    assert result.code == 1
    assert 'use "a, b" (commas), or pass --split-lists' in result.out
    problems = json.loads(report.read_text(encoding="utf-8"))
    rows = problems if isinstance(problems, list) else problems["problems"]
    assert [(p["row"], p["column"], p["code"]) for p in rows] == [
        (2, "tags", "list_separator"), (3, "tags", "only_separators"),
        (3, "geoblocking", "list_separator")]
