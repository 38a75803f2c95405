"""`bulkedit accounts --check`: each account's key tried with one token request and one
read (its first channel's videos, or the key's own), every account at once in one event
loop. Never a write, never a secret in what comes back: only what the API said."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bulkedit.client.connect import connect
from bulkedit.client.transport import Credentials, DailymotionClient
from bulkedit.core import protocol
from bulkedit.core.errors import ApiError, BulkEditError
from bulkedit.run.accounts import Account

KeyOf = Callable[[Account], Credentials]


@dataclass(frozen=True)
class AccountCheck:
    account: str
    api_base: str
    token: str  # "granted", "refused", "not tried"
    read: str  # "ok (N videos of CHANNEL)", "refused", "not tried"
    problem: str = ""
    calls: int = 0

    @property
    def ok(self) -> bool:
        return not self.problem

    def as_dict(self) -> dict[str, Any]:
        return {"account": self.account, "api_base": self.api_base, "token": self.token,
                "read": self.read, "ok": self.ok, "problem": self.problem or None,
                "calls": self.calls}


async def check_accounts(accounts: Sequence[Account], key_of: KeyOf,
                         base_of: Callable[[Account], str]) -> list[AccountCheck]:
    """One check per account, all at once; in the accounts' order."""
    return list(await asyncio.gather(*(
        _check(account, key_of, base_of(account)) for account in accounts)))


async def _check(account: Account, key_of: KeyOf, base: str) -> AccountCheck:
    try:
        credentials = key_of(account)
    except BulkEditError as error:  # a variable not set, a credentials file not private
        return AccountCheck(account.name, base, "not tried", "not tried", str(error))
    async with connect(credentials, base, account.limits) as dispatcher:
        client = dispatcher.client
        assert isinstance(client, DailymotionClient)
        return await _token_and_read(client, account, base)


async def _token_and_read(client: DailymotionClient, account: Account, base: str
                          ) -> AccountCheck:
    try:
        await client.tokens.get()
    except (ApiError, BulkEditError) as error:
        return AccountCheck(account.name, base, "refused", "not tried",
                            f"the token request was refused: {error}", client.calls)
    channel = account.channels[0] if account.channels else "me"
    try:
        listing = await client.send(protocol.owner_videos_request(channel, [], limit=1))
    except (ApiError, BulkEditError) as error:
        return AccountCheck(account.name, base, "granted", "refused",
                            f"the read of {channel}'s videos was refused: {error}",
                            client.calls)
    total = listing.get("total") if isinstance(listing, dict) else None
    seen = (f"{total} videos" if isinstance(total, int) else "videos listed") \
        + (f" of {channel}" if channel != "me" else " of the key's channel")
    return AccountCheck(account.name, base, "granted", f"ok ({seen})", calls=client.calls)
