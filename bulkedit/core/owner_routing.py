"""Routing by the video's owner (issue 30, point 2, third rule): pure decisions over plain
values, no configuration file and no network (run/owner_lookup.py reads the owners).

When every configured account lists its channels, a row with no `#account` cell and no
sheet account goes through the account listing its video's owner channel. An owner no
account lists is refused (`unowned_video`): its video belongs to none of this
configuration's accounts, and no key of it may write there. A video the lookup did not
find falls to `default_account` (the planner then says it was not found), else it reaches
no account (`no_account`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bulkedit.core.routing import Route

OWNER_FIELD = "owner"  # the field the lookup reads: the channel (user) a video belongs to


def channel_accounts(channels: Mapping[str, Sequence[str]]) -> dict[str, str] | None:
    """Each channel's account, when every account lists channels (None: some account lists
    none, so no owner can be called unowned and the lookup is off). A channel two accounts
    list is refused by the configuration check (`shared_channels`)."""
    if not channels or not all(channels.values()):
        return None
    return {channel: account for account, listed in channels.items() for channel in listed}


def shared_channels(channels: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Channels listed by more than one account, with those accounts."""
    seen: dict[str, list[str]] = {}
    for account, listed in channels.items():
        for channel in listed:
            seen.setdefault(channel, []).append(account)
    return {channel: names for channel, names in seen.items() if len(names) > 1}


def owner_route(video_id: str, owner: str | None, by_channel: Mapping[str, str],
                fallback: str | None) -> Route:
    """The account of a row routed by its video's owner: `owner` the channel the lookup
    read (None: the video was not found)."""
    if owner is None:
        if fallback is not None:
            return Route(fallback, by="default_account")
        return Route(None, "no_account",
                     f"video {video_id} was not found, so its owner cannot route it: check "
                     "the id, write its account in an #account column, pass --account "
                     "NAME, or set default_account in bulkedit.toml's [api]")
    account = by_channel.get(owner)
    if account is None:
        listed = sorted(set(by_channel.values()))
        return Route(None, "unowned_video",
                     f"video {video_id} belongs to the channel {owner}, which no configured "
                     f"account lists (accounts: {', '.join(listed)}): add {owner} to the "
                     "channels of the account that owns it in bulkedit.toml, or leave the "
                     "row out (--skip-invalid sends the others)")
    return Route(account, by="owner")
