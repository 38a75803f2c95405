"""Planning with plain values: equal values never count as a change; patches resolve."""

from __future__ import annotations

from bulkedit.core.planning import FieldDiff, RowStatus, normal, plan_row, resolve
from bulkedit.core.schema import FIELDS
from bulkedit.core.types import CLEAR, PatchList, SetValue, TypedRow

LIVE = {"id": "x8abc12", "title": "Summer ", "description": "", "tags": ["a", "b"],
        "channel": "travel", "country": "FR", "private": False, "publish_date": None,
        "geoblocking": ["allow"], "geoloc": [-9.14, 38.71], "soundtrack_popularity": 7}


def row(**changes) -> TypedRow:
    return TypedRow(2, "x8abc12", changes)


def test_equal_values_are_no_change():
    plan = plan_row(row(title=SetValue("Summer"), tags=SetValue(("b", "a", "a")),
                        channel=SetValue("travel"), country=SetValue("fr"),
                        private=SetValue(False), description=CLEAR, publish_date=CLEAR,
                        geoblocking=CLEAR, geoloc=SetValue((-9.14, 38.71)),
                        soundtrack_popularity=SetValue(7)), LIVE)
    assert plan.status is RowStatus.NOOP and plan.form == {}


def test_only_changed_fields_are_sent():
    plan = plan_row(row(title=SetValue("Winter"), private=SetValue(False),
                        publish_date=SetValue(1796144400)), LIVE)
    assert plan.status is RowStatus.CHANGE
    assert plan.diffs == (FieldDiff("title", "Summer ", "Winter"),
                          FieldDiff("publish_date", None, 1796144400))
    assert plan.form == {"title": "Winter", "publish_date": "1796144400"}
    assert plan.changed_fields == ("title", "publish_date")


def test_list_patches_resolve_against_the_live_list():
    plan = plan_row(row(tags=PatchList(("c", "a"), ("b",))), LIVE)
    assert plan.form == {"tags": "a,c"}
    assert plan_row(row(tags=PatchList(("a",), ("z",))), LIVE).status is RowStatus.NOOP


def test_geoblocking_patches_and_equivalent_forms():
    geo = FIELDS["geoblocking"]
    assert resolve(geo, PatchList(("us",), (), "deny"), ["deny", "fr"]) == ("deny", "fr", "us")
    assert resolve(geo, PatchList((), ("fr",), "deny"), ["deny", "fr"]) == ("allow",)
    assert resolve(geo, PatchList(("us",), ()), ["allow", "fr"]) == ("allow", "fr", "us")
    assert normal(geo, ["deny"]) == normal(geo, None) == normal(geo, ("allow",)) == normal(
        geo, CLEAR)
    assert normal(geo, ["allow", "FR", "us"]) == normal(geo, ("allow", "us", "fr"))
    assert normal(geo, ["deny", "fr"]) != normal(geo, ["allow", "fr"])


def test_missing_video_is_not_found():
    assert plan_row(row(title=SetValue("x")), None).status is RowStatus.NOT_FOUND


# ----------------------------------------------------------------------------- rollback
# What the rollback sheet can and cannot undo (issue 17: `explicit` could be dropped from
# the changes it cannot undo, unnoticed).


def test_the_rollback_sheet_says_which_changes_it_cannot_undo():
    from bulkedit.core.planning import PlanRules, not_restorable, rollback_cell
    from bulkedit.core.types import UNKNOWN

    live = {**LIVE, "explicit": False, "password": None}
    changes = row(title=SetValue("Winter"), explicit=SetValue(True),
                  password=SetValue("s3cret"), description=SetValue("New"))
    assert plan_row(changes, live).status is RowStatus.REFUSED  # explicit: asked for first
    plan = plan_row(changes, live, PlanRules(allow_irreversible=True))
    assert plan.status is RowStatus.CHANGE
    assert not_restorable([plan]) == [("x8abc12", "explicit"), ("x8abc12", "password")]
    cells = {diff.field: rollback_cell(diff) for diff in plan.diffs}
    assert cells["title"] == "Summer " and cells["description"] == "[]"
    assert cells["explicit"] is None and cells["password"] is None
    assert rollback_cell(FieldDiff("title", UNKNOWN, "Winter")) is None  # never read


def test_a_cleared_field_that_cannot_be_cleared_cannot_be_restored_to_empty():
    from bulkedit.core.planning import rollback_cell

    assert rollback_cell(FieldDiff("channel", None, "news")) is None
    assert rollback_cell(FieldDiff("tags", [], ["a"])) == "[]"
    assert rollback_cell(FieldDiff("private", False, True)) == "false"
