"""Routing by the video's owner, as a pure decision over plain values
(core/owner_routing.py)."""

from __future__ import annotations

from bulkedit.core.owner_routing import channel_accounts, owner_route, shared_channels

CHANNELS = {"fr": ("x1ch000", "x1ch003"), "de": ("x1ch001",)}


def test_the_lookup_is_on_only_when_every_account_lists_its_channels():
    assert channel_accounts(CHANNELS) == {"x1ch000": "fr", "x1ch003": "fr", "x1ch001": "de"}
    assert channel_accounts({"fr": ("x1ch000",), "de": ()}) is None
    assert channel_accounts({}) is None


def test_an_owned_video_goes_through_the_account_listing_its_channel():
    by_channel = channel_accounts(CHANNELS)
    assert by_channel is not None
    found = owner_route("x1", "x1ch003", by_channel, "de")
    assert (found.account, found.code, found.by) == ("fr", None, "owner")
    assert owner_route("x2", "x1ch001", by_channel, None).account == "de"


def test_an_owner_no_account_lists_is_refused_even_with_a_default_account():
    by_channel = channel_accounts(CHANNELS)
    assert by_channel is not None
    found = owner_route("x9", "x1ch002", by_channel, "fr")
    assert (found.account, found.code) == (None, "unowned_video")
    assert "x1ch002" in found.message and "de, fr" in found.message


def test_a_video_not_found_falls_to_the_default_account_else_reaches_none():
    by_channel = channel_accounts(CHANNELS)
    assert by_channel is not None
    assert owner_route("x9", None, by_channel, "de").account == "de"
    found = owner_route("x9", None, by_channel, None)
    assert (found.account, found.code) == (None, "no_account")
    assert "not found" in found.message


def test_a_channel_two_accounts_list_is_found():
    assert shared_channels({"fr": ("a", "b"), "de": ("b",)}) == {"b": ["fr", "de"]}
    assert shared_channels(CHANNELS) == {}
