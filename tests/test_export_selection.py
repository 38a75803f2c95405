"""Which account exports what (run/export.py `account_selections`), on plain values: one
account exports what was asked or its channels; several each export their own channels,
and anything that cannot say whose a row is, is refused before anything is read."""

from __future__ import annotations

import re

import pytest

from bulkedit.core.errors import UsageError
from bulkedit.run.export import Selection, account_selections

FR, DE = ("fr", ("x1a", "x1b")), ("de", ("x1c",))


def owners(asked: list[tuple[str, Selection]]) -> list[tuple[str, list[str]]]:
    return [(name, selection.owners) for name, selection in asked]


def test_one_account_exports_what_was_asked_whatever_its_channels():
    asked = account_selections(Selection(owners=["x9z"], created_after=5), [FR])
    assert owners(asked) == [("fr", ["x9z"])]
    assert asked[0][1].created_after == 5


def test_one_account_asked_for_nothing_exports_its_channels():
    asked = account_selections(Selection(private=True), [FR])
    assert owners(asked) == [("fr", ["x1a", "x1b"])]
    assert asked[0][1].private is True  # the other filters kept


def test_one_account_with_no_channels_asked_for_nothing_is_refused():
    with pytest.raises(UsageError, match=r"say which videos.*channels in the configuration"):
        account_selections(Selection(), [("fr", ())])


def test_several_accounts_each_export_the_asked_channels_they_list():
    asked = account_selections(Selection(owners=["x1c", "x1a"]), [FR, DE])
    assert owners(asked) == [("fr", ["x1a"]), ("de", ["x1c"])]


def test_several_accounts_asked_for_nothing_each_export_their_channels():
    assert owners(account_selections(Selection(), [FR, DE])) == [
        ("fr", ["x1a", "x1b"]), ("de", ["x1c"])]


def test_an_account_asked_for_none_of_its_channels_reads_nothing():
    assert owners(account_selections(Selection(owners=["x1c"]), [FR, DE])) == [
        ("de", ["x1c"])]


@pytest.mark.parametrize(("selection", "chosen", "said"), [
    (Selection(ids=["x8a"]), [FR, DE], "--ids with several accounts (fr, de)"),
    (Selection(owners=["x1z"]), [FR, DE], "--owner x1z with several accounts (fr, de): "
                                          "the channel is in none of their channels"),
    (Selection(owners=["x1c"]), [FR, DE, ("it", ("x1c",))],
     "the channel is listed by de and it"),
    (Selection(), [FR, ("it", ())], "[accounts.it] lists no channels"),
])
def test_what_cannot_say_whose_a_row_is_is_refused_with_the_fix(selection, chosen, said):
    with pytest.raises(UsageError, match=re.escape(said)) as refused:
        account_selections(selection, chosen)
    assert "--account NAME" in str(refused.value) or "give --owner" in str(refused.value)
