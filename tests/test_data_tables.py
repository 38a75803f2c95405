"""Data tables are behaviour (issue 28, point 2): every entry of every table the validator
reads — the yes/no words, the allowed values, the read-only names, the aliases, the null
markers, the field facts, the examples and the template's default columns — goes through
`validate` here, one sheet row per entry.

The entries come from tests/data/tables.json, a snapshot written by
`python tools/data_tables.py`, not from the code: a word dropped from a list, a limit
changed or an alias lost fails here (the snapshot test says which table differs, the
entry tests say what a user would see), until the snapshot is rewritten on purpose.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
from pathlib import Path

import pytest

from bulkedit.core.types import CLEAR, PatchList, SetValue
from bulkedit.core.validation import ValidationOptions, validate
from bulkedit.sheets.load import load_sheet
from bulkedit.sheets.templates import write_template

ROOT = Path(__file__).resolve().parent.parent
TABLES = json.loads((ROOT / "tests" / "data" / "tables.json").read_text(encoding="utf-8"))
NOW = 1748736000  # 2025-06-01T00:00:00Z: the examples' dates are in the future of this


def _tool():
    spec = importlib.util.spec_from_file_location("data_tables", ROOT / "tools" / "data_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(headers: list[str], rows: list[list[str]], **options):
    """validate() over a CSV of `rows` (the public path: loader, then validator)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    options.setdefault("now", NOW)
    sheet = load_sheet(io.BytesIO(out.getvalue().encode()), name="tables.csv")
    return validate(sheet, ValidationOptions(**options))


def ids(count: int) -> list[str]:
    return [f"x8t{n:05d}" for n in range(count)]


def one_per_row(cells: list[str]) -> list[list[str]]:
    """A sheet row per cell, each with its own video id (rows 2, 3, …)."""
    return [[f"x8t{n:05d}", cell] for n, cell in enumerate(cells)]


def changes_by_row(result) -> dict[int, dict]:
    return {row.row: row.changes for row in result.rows()}


def problems(result) -> dict[tuple[int, str], str]:
    return {(i.row, i.column): i.code for i in result.issues}


def test_the_snapshot_is_the_codes_tables():
    tool = _tool()
    current = tool.tables()
    differ = sorted(name for name in current.keys() | TABLES.keys()
                    if current.get(name) != TABLES.get(name))
    assert differ == [], ("these tables differ from tests/data/tables.json; if the change is "
                          f"meant, run python tools/data_tables.py: {differ}")


@pytest.mark.parametrize(("table", "meaning"), [("true_words", True), ("false_words", False)])
def test_every_yes_no_word_in_every_case_reads_as_its_meaning(table, meaning):
    words = TABLES[table]
    cells = [form for word in words for form in (word, word.upper(), word.title())]
    result = run(["video_id", "private"], one_per_row(cells))
    assert problems(result) == {}
    read = {cell: changes_by_row(result)[row + 2]["private"]
            for row, cell in enumerate(cells)}
    assert read == {cell: SetValue(meaning) for cell in cells}


def test_a_word_in_no_list_is_refused():
    result = run(["video_id", "private"], [[ids(1)[0], "peut-être"]])
    assert problems(result) == {(2, "private"): "type"}


@pytest.mark.parametrize("field", sorted(name for name in TABLES["enum_values"]
                                         if TABLES["fields"][name]["access"] != "refused"))
def test_every_allowed_value_of_every_enum_is_taken_in_any_case(field):
    values = TABLES["enum_values"][field]
    doubtful = set(TABLES["fields"][field]["doubtful"])
    cells = [form for value in values for form in (value, value.upper())]
    result = run(["video_id", field], one_per_row(cells),
                 allow_live_fields=True)
    read = changes_by_row(result)
    assert {cell: read[row + 2][field] for row, cell in enumerate(cells)} == {
        cell: SetValue(cell.lower()) for cell in cells}
    # Doubtful values are taken with a warning, the others without a word.
    assert {cells[row - 2].lower() for row, _ in problems(result)} == doubtful
    assert set(problems(result).values()) <= {"doubtful_value"}


@pytest.mark.parametrize("field", sorted(name for name in TABLES["enum_values"]
                                         if TABLES["fields"][name]["access"] != "refused"))
def test_a_value_outside_an_enum_is_refused(field):
    result = run(["video_id", field], [[ids(1)[0], "zzz-not-a-value"]], allow_live_fields=True)
    assert problems(result) == {(2, field): "enum"}


def test_every_read_only_name_is_refused_as_a_header_and_named_so():
    # `id` is read-only too, but as a header it is the id column (the id aliases' test).
    names = [n for n in TABLES["read_only_fields"] if n not in TABLES["id_aliases"]] + [
        "views_last_week", "thumbnail_720_url", "first_frame_60_url", "preview_480p_url",
        "stream_h264_url"]  # the families READ_ONLY_FIELDS' patterns stand for
    result = run(["video_id", *names], [[ids(1)[0], *("1" for _ in names)]])
    codes = {issue.column: issue.code for issue in result.header_errors}
    assert codes == dict.fromkeys(names, "read_only")


def test_a_name_outside_the_read_only_families_is_an_unknown_column():
    near = ["views_last_", "thumbnail_x_url", "first_frame__url",
            "preview_p_url", "preview_480_url", "stream__url", "x_views_last_week"]
    result = run(["video_id", "title", *near], [[ids(1)[0], "A title", *("1" for _ in near)]])
    assert {i.column: i.code for i in result.header_errors} == dict.fromkeys(
        near, "unknown_column")


@pytest.mark.parametrize("access", ["refused", "live_only"])
def test_every_field_bulkedit_will_not_send_is_refused_as_a_header(access):
    names = sorted(n for n, facts in TABLES["fields"].items() if facts["access"] == access)
    # With one field it may send, so that the sheet is not also "no field to change".
    result = run(["video_id", "title", *names], [[ids(1)[0], "A title", *("" for _ in names)]])
    code = {"refused": "refused_field", "live_only": "live_only"}[access]
    assert {i.column: i.code for i in result.header_errors} == dict.fromkeys(names, code)


def test_every_field_alias_is_read_as_its_field():
    aliases = TABLES["field_aliases"]
    cells = {"allow_embed": "yes", "channel": "news"}
    result = run(["video_id", *aliases], [[ids(1)[0], *(cells[t] for t in aliases.values())]])
    assert problems(result) == {}
    assert set(next(result.rows()).changes) == set(aliases.values())


@pytest.mark.parametrize("alias", TABLES["id_aliases"])
def test_every_id_column_name_is_the_id_column(alias):
    cell = "https://www.dailymotion.com/video/x8abc12" if alias == "url" else "x8abc12"
    result = run([alias, "title"], [[cell, "A title"]])
    assert problems(result) == {}
    assert [row.video_id for row in result.rows()] == ["x8abc12"]


def test_every_null_marker_in_any_case_is_refused():
    markers = [form for m in TABLES["null_markers"] for form in (m, m.upper())]
    markers += TABLES["cased_null_markers"]
    result = run(["video_id", "title"], one_per_row(markers))
    assert {row: code for (row, _), code in problems(result).items()} == {
        row + 2: "null_marker" for row in range(len(markers))}


@pytest.mark.parametrize(("table", "field"), [("language_aliases", "language"),
                                               ("country_aliases", "country")])
def test_every_name_people_write_for_a_code_offers_that_code(table, field):
    aliases = TABLES[table]
    names = list(aliases)
    result = run(["video_id", field], one_per_row(names))
    offered = {names[issue.row - 2]: issue.message for issue in result.issues}
    assert set(offered) == set(names)  # each refused: a name is not a code
    wrong = {name: message for name, message in offered.items()
             if f"did you mean '{aliases[name]}' (" not in message}
    assert wrong == {}


def test_every_example_the_schema_shows_is_a_valid_cell_of_its_field():
    examples = TABLES["examples"]
    names = [n for n in examples if TABLES["fields"][n]["access"] == "writable"]
    result = run(["video_id", *names], [[ids(1)[0], *(examples[n] for n in names)]])
    errors = {issue.column: issue.message for issue in result.errors}
    assert errors == {}
    assert set(next(result.rows()).changes) == set(names)


def test_the_default_template_has_its_columns_and_each_takes_its_example(tmp_path):
    path = tmp_path / "template.csv"
    write_template(path)
    headers = next(csv.reader(path.read_text(encoding="utf-8-sig").splitlines()))
    assert headers == ["video_id", *TABLES["default_template_fields"]]
    row = [ids(1)[0], *(TABLES["examples"].get(name, "") for name in headers[1:])]
    result = run(headers, [row])
    assert result.errors == []
    assert set(next(result.rows()).changes) == set(TABLES["default_template_fields"])


def _writable(kind: str) -> list[str]:
    return sorted(n for n, facts in TABLES["fields"].items()
                  if facts["access"] == "writable" and facts["kind"] == kind)


@pytest.mark.parametrize("field", [n for n in _writable("text")
                                   if TABLES["fields"][n]["max_length"]])
def test_every_text_field_takes_its_longest_value_and_refuses_one_more(field):
    limit = TABLES["fields"][field]["max_length"]
    result = run(["video_id", field], [[ids(2)[0], "a" * limit], [ids(2)[1], "a" * (limit + 1)]])
    assert problems(result) == {(3, field): "too_long"}


@pytest.mark.parametrize("field", [n for n in _writable("list")
                                   if TABLES["fields"][n]["max_items"]])
def test_every_list_field_takes_its_most_items_and_refuses_one_more(field):
    facts = TABLES["fields"][field]
    item = {"video id": "x8abc{:02d}", "language": None}.get(facts["item_kind"], "t{}")
    if item is None:
        pytest.skip("a list of language codes has no item limit to reach")
    limit = facts["max_items"]
    cells = [", ".join(item.format(n) for n in range(count)) for count in (limit, limit + 1)]
    result = run(["video_id", field], one_per_row(cells))
    assert problems(result) == {(3, field): "too_many"}


@pytest.mark.parametrize("field", [n for n in _writable("list")
                                   if TABLES["fields"][n]["max_length"]])
def test_every_list_item_takes_its_longest_value_and_refuses_one_more(field):
    limit = TABLES["fields"][field]["max_length"]
    result = run(["video_id", field], [[ids(2)[0], "a" * limit], [ids(2)[1], "a" * (limit + 1)]])
    assert problems(result) == {(3, field): "bad_item"}


@pytest.mark.parametrize("field", sorted(n for n, f in TABLES["fields"].items()
                                         if f["access"] == "writable"))
def test_every_field_clears_with_brackets_exactly_when_it_can(field):
    result = run(["video_id", field], [[ids(1)[0], "[]"]])
    if TABLES["fields"][field]["clear_wire"] is None:
        assert problems(result) == {(2, field): "not_clearable"}
    else:
        assert problems(result) == {} and next(result.rows()).changes == {field: CLEAR}


@pytest.mark.parametrize("field", _writable("list"))
def test_a_list_is_patched_with_plus_and_minus_exactly_when_it_can_be(field):
    facts = TABLES["fields"][field]
    item = {"video id": "x8abc12", "language": "fr"}.get(facts["item_kind"], "word")
    result = run(["video_id", field], [[ids(1)[0], f"+{item}"]])
    if facts["patchable"]:
        assert problems(result) == {}
        assert next(result.rows()).changes == {field: PatchList((item,), ())}
    else:
        assert (2, field) in problems(result)


@pytest.mark.parametrize("field", _writable("number"))
def test_every_number_field_keeps_its_bounds(field):
    facts = TABLES["fields"][field]
    rows = []
    if facts["minimum"] is not None:
        rows.append((str(facts["minimum"] - 1), "out_of_range"))
    if facts["maximum"] is not None:
        rows.append((str(facts["maximum"] + 1), "out_of_range"))
    if facts["integer"]:
        rows.append(("1.5", "type"))
    result = run(["video_id", field], one_per_row([cell for cell, _ in rows]))
    assert problems(result) == {(row + 2, field): code for row, (_, code) in enumerate(rows)}


@pytest.mark.parametrize("field", sorted(n for n, f in TABLES["fields"].items()
                                         if f["sensitive"]))
def test_a_secret_field_is_never_quoted_in_a_problem(field):
    limit = TABLES["fields"][field]["max_length"]
    secret = "s3cret" + "x" * limit
    result = run(["video_id", field], [[ids(1)[0], secret]])
    assert [i.code for i in result.issues] == ["too_long"]
    assert all("s3cret" not in f"{i.value} {i.message}" for i in result.issues)


@pytest.mark.parametrize("field", sorted(n for n, f in TABLES["fields"].items()
                                         if f["kind"] == "bool" and f["access"] == "writable"))
def test_only_the_irreversible_flags_warn_when_set_true(field):
    result = run(["video_id", field], [[ids(1)[0], "true"]])
    expected = {(2, field): "irreversible"} if TABLES["fields"][field]["irreversible_true"] \
        else {}
    assert problems(result) == expected


def test_what_bulkedit_fields_tells_of_each_field_is_pinned(run_cli):
    """The summary, notes, limits and example `bulkedit fields` prints are what the user
    reads to fill a sheet: an emptied or changed note fails here."""
    result = run_cli("fields", "--format", "json", "--all")
    assert result.code == 0
    shown = {entry["field"]: {key: entry[key] for key in TABLES["fields_shown"]["title"]}
             for entry in json.loads(result.out)["fields"]}
    assert shown == TABLES["fields_shown"]


@pytest.mark.parametrize("field", sorted(n for n, f in TABLES["fields"].items()
                                         if f["access"] != "writable"))
def test_a_field_bulkedit_will_not_send_is_refused_with_its_reason(field):
    result = run(["video_id", "title", field], [[ids(1)[0], "A title", ""]])
    [issue] = result.header_errors
    assert TABLES["fields_shown"][field]["notes"] in issue.message
