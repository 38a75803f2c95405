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
    assert (plan.row, plan.video_id) == (2, "x8abc12")


def test_video_ids_compare_trimmed_like_text():
    for name in ("player_next_video", "thumbnail_url", "title"):
        assert normal(FIELDS[name], " x8abc12 ") == "x8abc12", name
    plan = plan_row(row(player_next_video=SetValue("x8abc13")),
                    {**LIVE, "player_next_video": "x8abc13 "})
    assert plan.status is RowStatus.NOOP


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


# ----------------------------------------------------------------------------- refusals
# Each decision plan_row makes against the live values, as a user would meet it.


def problems_of(plan) -> list[tuple[str, str]]:
    return [(p.field, p.code) for p in plan.problems]


def test_explicit_true_is_refused_unless_allowed_and_false_or_unchanged_is_fine():
    from bulkedit.core.planning import PlanRules

    live = {**LIVE, "explicit": False}
    refused = plan_row(row(explicit=SetValue(True), title=SetValue("New")), live)
    assert refused.status is RowStatus.REFUSED
    assert problems_of(refused) == [("explicit", "irreversible")]
    assert refused.problems[0].is_error and "--allow-irreversible" in refused.problems[0].message
    assert plan_row(row(explicit=SetValue(True)), {**LIVE, "explicit": True}).status is (
        RowStatus.NOOP)  # already explicit: nothing to refuse
    allowed = plan_row(row(explicit=SetValue(True)), live, PlanRules(allow_irreversible=True))
    assert allowed.status is RowStatus.CHANGE and allowed.form == {"explicit": "true"}
    assert plan_row(row(explicit=SetValue(False)), {**LIVE, "explicit": True}).status is (
        RowStatus.CHANGE)


def test_a_past_expiry_that_deletes_the_video_is_refused():
    from bulkedit.core.planning import PlanRules

    rules = PlanRules(now=2_000_000_000)
    past, future = 1_999_999_999, 2_000_000_001
    deleting = {**LIVE, "expiry_date": None, "expiry_date_deletion": None}  # default: on
    plan = plan_row(row(expiry_date=SetValue(past)), deleting, rules)
    assert problems_of(plan) == [("expiry_date", "past_expiry_deletes")]
    assert plan.status is RowStatus.REFUSED and "--allow-past-expiry" in plan.problems[0].message
    assert plan_row(row(expiry_date=SetValue(future)), deleting, rules).status is (
        RowStatus.CHANGE)
    assert plan_row(row(expiry_date=SetValue(2_000_000_000)), deleting, rules).status is (
        RowStatus.CHANGE)  # now is not the past
    kept = {**deleting, "expiry_date_deletion": False}
    assert plan_row(row(expiry_date=SetValue(past)), kept, rules).status is RowStatus.CHANGE
    assert plan_row(row(expiry_date=SetValue(past), expiry_date_deletion=SetValue(False)),
                    deleting, rules).status is RowStatus.CHANGE
    assert plan_row(row(expiry_date=SetValue(past)), deleting,
                    PlanRules(now=2_000_000_000, allow_past_expiry=True)).status is (
        RowStatus.CHANGE)
    # Turning deletion on for a video whose live expiry is already past deletes it too.
    expired = {**LIVE, "expiry_date": past, "expiry_date_deletion": False}
    turned_on = plan_row(row(expiry_date_deletion=SetValue(True)), expired, rules)
    assert problems_of(turned_on) == [("expiry_date_deletion", "past_expiry_deletes")]
    unset = {**LIVE, "expiry_date": 4102444800, "expiry_date_deletion": False}  # "no expiry"
    assert plan_row(row(expiry_date_deletion=SetValue(True)), unset, rules).status is (
        RowStatus.CHANGE)


def test_a_field_the_api_would_not_read_is_sent_as_asked_with_a_warning():
    from bulkedit.core.types import UNKNOWN

    live = {**LIVE, "tags": UNKNOWN, "title": UNKNOWN}
    plan = plan_row(row(title=SetValue("New")), live)
    assert plan.status is RowStatus.CHANGE and plan.form == {"title": "New"}
    assert problems_of(plan) == [("title", "live_unknown")]
    assert not plan.problems[0].is_error
    patched = plan_row(row(tags=PatchList(("a",), ())), live)
    assert patched.status is RowStatus.REFUSED
    assert problems_of(patched) == [("tags", "live_unknown")] and patched.problems[0].is_error
    cleared = plan_row(row(tags=CLEAR), live)
    assert cleared.status is RowStatus.CHANGE and cleared.form == {"tags": ""}
    explicit = plan_row(row(explicit=SetValue(True)), {**LIVE, "explicit": UNKNOWN})
    assert explicit.status is RowStatus.REFUSED


def test_geoblocking_patches_that_could_mean_two_things_are_refused():
    unrestricted = {**LIVE, "geoblocking": ["allow"]}
    plan = plan_row(row(geoblocking=PatchList(("us",), ())), unrestricted)
    assert problems_of(plan) == [("geoblocking", "ambiguous_patch")]
    assert "'deny +us'" in plan.problems[0].message and "'allow +us'" in plan.problems[0].message
    denied = {**LIVE, "geoblocking": ["deny", "fr"]}
    minus = plan_row(row(geoblocking=PatchList((), ("fr",))), denied)
    assert "'deny -fr'" in minus.problems[0].message
    wrong_mode = plan_row(row(geoblocking=PatchList(("us",), (), "allow")), denied)
    assert problems_of(wrong_mode) == [("geoblocking", "geoblocking_mode")]
    assert "not an allow list" in wrong_mode.problems[0].message
    allowed = {**LIVE, "geoblocking": ["allow", "fr"]}
    assert "not a deny list" in plan_row(row(geoblocking=PatchList(("us",), (), "deny")),
                                         allowed).problems[0].message
    emptied = plan_row(row(geoblocking=PatchList((), ("fr",))), allowed)
    assert problems_of(emptied) == [("geoblocking", "no_country_left")]
    assert emptied.problems[0].message.endswith(
        "leaves no allowed country, which Dailymotion reads as 'everywhere'; to hide the "
        "video everywhere set private to true, or write the whole list")
    granted = plan_row(row(geoblocking=PatchList(("us",), (), "allow")), unrestricted)
    assert granted.status is RowStatus.CHANGE and granted.form == {"geoblocking": "allow,us"}
    assert problems_of(granted) == [("geoblocking", "who_may_watch")]
    assert "only us may watch" in granted.problems[0].message
    nothing = plan_row(row(geoblocking=PatchList((), ("fr",), "allow")), unrestricted)
    assert nothing.status is RowStatus.NOOP
    assert plan_row(row(geoblocking=PatchList((), ("fr",), "deny")), denied).form == {
        "geoblocking": "allow"}


def test_a_removal_that_misses_by_case_is_warned():
    plan = plan_row(row(tags=PatchList((), ("A",))), LIVE)
    assert plan.status is RowStatus.NOOP
    assert problems_of(plan) == [("tags", "patch_case")]
    assert "-A removes nothing: the live list has a" in plan.problems[0].message
    assert plan_row(row(tags=PatchList((), ("a",))), LIVE).problems == ()


def test_values_compare_as_the_api_means_them():
    geo = FIELDS["geoloc"]
    assert normal(geo, [1.0000001, 2]) == normal(geo, (1.0, 2.0000004))
    assert normal(geo, [1.00001, 2]) != normal(geo, (1.0, 2.0))
    assert normal(FIELDS["channel"], " News ") == "news"
    assert normal(FIELDS["channel"], "") is None and normal(FIELDS["title"], "  ") is None
    assert normal(FIELDS["private"], 0) is False and normal(FIELDS["private"], 1) is True
    assert normal(FIELDS["soundtrack_popularity"], "7") == 7.0
    assert normal(FIELDS["publish_date"], 0) is None  # the "no date" value
    assert normal(FIELDS["tags"], "a, b,,") == frozenset({"a", "b"})
    assert normal(FIELDS["tags"], [" a", "b "]) == frozenset({"a", "b"})


def test_fields_read_for_a_plan_include_what_decides_an_expiry():
    from bulkedit.core.planning import fields_to_read

    assert fields_to_read(["title"]) == {"title"}
    assert fields_to_read(["expiry_date"]) == {"expiry_date", "expiry_date_deletion"}
    assert fields_to_read(["expiry_date_deletion", "tags"]) == {
        "expiry_date", "expiry_date_deletion", "tags"}


def test_drift_since_a_review_ignores_unknowns_and_equivalent_forms():
    from bulkedit.core.planning import drifted
    from bulkedit.core.types import UNKNOWN

    reviewed = {"title": "A", "tags": ["x", "y"], "channel": "news", "private": False}
    now = {"title": "B", "tags": ["y", "x"], "channel": UNKNOWN, "private": False}
    assert drifted(["title", "tags", "channel", "private"], reviewed, now) == [
        ("title", "A", "B")]
    assert drifted(["title"], {"title": UNKNOWN}, {"title": "B"}) == []


# ------------------------------------------------ edges a mutation run showed unpinned (#17)

def test_a_refused_change_is_not_among_the_row_s_diffs():
    from bulkedit.core.types import UNKNOWN

    refused = plan_row(row(explicit=SetValue(True), title=SetValue("New")),
                       {**LIVE, "explicit": False})
    assert [d.field for d in refused.diffs] == ["title"]
    unknown = plan_row(row(explicit=SetValue(True), title=SetValue("New")),
                       {**LIVE, "explicit": UNKNOWN})
    assert unknown.status is RowStatus.REFUSED and [d.field for d in unknown.diffs] == ["title"]


def test_a_geoblocking_patch_refused_alone_says_what_the_live_value_is():
    plan = plan_row(row(geoblocking=PatchList(("us",), ())), {**LIVE, "geoblocking": ["allow"]})
    assert plan.status is RowStatus.REFUSED and plan.diffs == ()
    assert plan.problems[0].message.startswith(
        "the live geoblocking is everywhere (no restriction), where a plain +/- patch")
    denied = plan_row(row(geoblocking=PatchList((), ("us",))),
                      {**LIVE, "geoblocking": ["deny", "us", "fr"]})
    assert denied.problems[0].message.startswith("the live geoblocking is deny, fr, us, where")


def test_adding_to_a_list_of_allowed_countries_needs_no_warning():
    plan = plan_row(row(geoblocking=PatchList(("us",), ())), {**LIVE, "geoblocking": ["fr"]})
    assert plan.status is RowStatus.CHANGE and plan.form == {"geoblocking": "allow,fr,us"}
    assert plan.problems == ()


def test_a_cleared_field_is_planned_as_cleared():
    plan = plan_row(row(title=SetValue("New"), tags=CLEAR), LIVE)
    assert [(d.field, d.new) for d in plan.diffs] == [("title", "New"), ("tags", CLEAR)]
    assert resolve(FIELDS["tags"], CLEAR, ["a"]) is CLEAR


def test_expiry_deletion_on_a_video_without_an_expiry_date_is_a_change():
    for live_expiry in (None, True, "soon"):
        plan = plan_row(row(expiry_date_deletion=SetValue(True)),
                        {**LIVE, "expiry_date": live_expiry, "expiry_date_deletion": False},
                        )
        assert plan.status is RowStatus.CHANGE, live_expiry


def test_a_write_only_field_is_always_a_change():
    """The API never returns a password: a clear or a password it may already have is
    sent, never planned away as "no change"."""
    for change, wire in ((CLEAR, ""), (SetValue("pw-1"), "pw-1")):
        plan = plan_row(TypedRow(2, "x1", {"password": change}), {"password": None})
        assert plan.status is RowStatus.CHANGE and plan.form == {"password": wire}
    title = plan_row(TypedRow(2, "x1", {"title": SetValue("T")}), {"title": "T"})
    assert title.status is RowStatus.NOOP  # a field that reads back is compared


def test_a_live_title_with_spaces_at_either_end_is_the_same_title():
    # The API keeps what it was sent; the sheet's cell is trimmed. A live " Summer" must
    # not be rewritten as "Summer" on every run (nor "Summer " — LIVE's title).
    for live in (" Summer", "Summer ", "  Summer  "):
        plan = plan_row(row(title=SetValue("Summer")), {**LIVE, "title": live})
        assert plan.status is RowStatus.NOOP, live


def test_a_removal_that_misses_by_case_is_warned_whatever_the_case_of_either_side():
    live = {**LIVE, "tags": ["Concert", "live"]}
    plan = plan_row(row(tags=PatchList((), ("CONCERT",))), live)
    assert plan.status is RowStatus.NOOP
    assert problems_of(plan) == [("tags", "patch_case")]
    assert "-CONCERT removes nothing: the live list has Concert" in plan.problems[0].message
