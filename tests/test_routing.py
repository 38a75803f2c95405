"""Routing rows to accounts (core/routing.py, issue 30 point 2): pure rules, plain values."""

from __future__ import annotations

import pytest

from bulkedit.core.routing import (
    Routing,
    accounts_of,
    is_account_column,
    name_problem,
    route,
    route_cells,
)

TWO = ("brand_fr", "brand_de")


def test_first_match_wins_cell_then_sheet_account_then_default():
    routing = Routing(TWO, default_account="brand_fr", chosen=("brand_de",))
    assert route("brand_fr", Routing(TWO, "brand_de")).account == "brand_fr"  # the cell
    assert route("", routing) == route("", routing)
    assert (route("", routing).account, route("", routing).by) == ("brand_de", "--account")
    assert (route("  ", Routing(TWO, "brand_fr")).account,
            route("", Routing(TWO, "brand_fr")).by) == ("brand_fr", "default_account")


def test_a_row_that_reaches_no_account_is_refused_with_its_fix():
    found = route("", Routing(TWO))
    assert found.account is None and found.code == "no_account"
    assert "#account" in found.message and "--account NAME" in found.message
    assert "default_account" in found.message and "brand_fr, brand_de" in found.message


def test_an_unknown_name_is_refused_with_the_closest():
    found = route("brand_dee", Routing(TWO, "brand_fr"))
    assert (found.account, found.code) == (None, "unknown_account")
    assert "did you mean 'brand_de'?" in found.message


def test_with_a_single_account_another_name_is_refused_not_ignored():
    alone = Routing(("default",))
    assert route("", alone).account == "default"  # the one account is the default
    found = route("brand_fr", alone)
    assert (found.account, found.code) == (None, "unknown_account")
    assert "has one: 'default'" in found.message and "[accounts.brand_fr]" in found.message


def test_accounts_given_limit_the_run_to_them():
    routing = Routing(("a", "b", "c"), default_account="c", chosen=("a", "b"))
    assert route("a", routing).account == "a"
    assert route("c", routing).code == "account_not_chosen"
    # Several given: none is the sheet's, and the default is not among them.
    blank = route("", routing)
    assert blank.code == "no_account" and "several" in blank.message


def test_one_decision_per_distinct_cell_and_the_counts():
    routing = Routing(TWO, "brand_fr")
    routes = route_cells(["", "brand_de", " brand_de ", "nope", ""], 5, routing)
    assert [r.account for r in routes] == ["brand_fr", "brand_de", "brand_de", None,
                                           "brand_fr"]
    assert routes[1] is routes[2]  # decided once
    assert accounts_of(routes) == {"brand_fr": 2, "brand_de": 2}
    assert [r.account for r in route_cells(None, 3, routing)] == ["brand_fr"] * 3


@pytest.mark.parametrize("header", ["#account", "# Account", "#ACCOUNT", " #account "])
def test_the_account_column_is_found_by_its_header(header):
    assert is_account_column(header)


@pytest.mark.parametrize("header", ["account", "#accounts", "#notes", "##account"])
def test_other_headers_are_not_the_account_column(header):
    assert not is_account_column(header)


@pytest.mark.parametrize("name", ["brand_fr", "de", "a-1"])
def test_simple_names(name):
    assert name_problem(name) is None


@pytest.mark.parametrize("name", ["Brand", "1fr", "fr/de", "", "a b", "x" * 41, "fr.de"])
def test_names_that_are_not_simple_are_refused(name):
    assert "not a simple name" in (name_problem(name) or "")


def test_a_routing_cannot_name_an_account_it_does_not_have():
    with pytest.raises(ValueError):
        Routing(TWO, default_account="brand_it")


def test_the_inbox_folder_is_the_sheet_s_account_and_a_row_naming_another_is_refused():
    folder = Routing(TWO, default_account="brand_fr", chosen=("brand_fr", "brand_de"),
                     folder="brand_de")
    assert (route("", folder).account, route("", folder).by) == ("brand_de", "inbox folder")
    assert route("brand_de", folder).account == "brand_de"
    other = route("brand_fr", folder)
    assert (other.account, other.code) == (None, "account_not_folder")
    assert other.message == (
        "#account 'brand_fr' in a sheet of the inbox folder brand_de/, whose sheets go "
        "through the account brand_de: write brand_de or leave the cell blank, or put the "
        "sheet in the folder brand_fr/ (or in the inbox itself)")
    assert route("brand_it", folder).code == "unknown_account"  # still said as unknown
    with pytest.raises(ValueError, match="brand_it"):
        Routing(TWO, folder="brand_it")
