"""Several Dailymotion accounts in one configuration (issue 30, point 1).

`[accounts.NAME]` sections of bulkedit.toml inherit `[api]` (base, rate or `auto`,
concurrency, timeouts, retries) and override any of it. Credentials come, as everywhere
else, by the names of environment variables (`key_env`, `secret_env`) or from a private
credentials file (`credentials_file`), never as values. A configuration without such
sections is the one account `default`, unchanged. Names are simple identifiers
(core/routing.py); an unknown one is refused with the closest, before anything is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bulkedit.client.transport import Credentials
from bulkedit.core.errors import AccountKeyMissing, UsageError
from bulkedit.core.policy import ApiLimits
from bulkedit.core.routing import DEFAULT_ACCOUNT, Routing, unknown_name_message
from bulkedit.run.config import read_credentials, resolve

ACCOUNT_ENV = "BULKEDIT_ACCOUNT"  # the accounts a command uses, when --account is not given


@dataclass(frozen=True)
class Account:
    """One account as a command uses it: its limits, its API, where its key is. Never
    the key itself: `credentials()` reads it when a command needs it."""

    name: str
    limits: ApiLimits
    api_base: str
    key_env: str
    secret_env: str
    credentials_file: Path | None = None
    channels: tuple[str, ...] = ()
    rate_from: str = "default"  # where its rate comes from: "flag", a file, "default"

    def credentials(self, environ: Mapping[str, str] | None = None) -> Credentials:
        found, missing = read_credentials(self.credentials_file, self.key_env,
                                          self.secret_env, environ)
        if found is None:
            raise AccountKeyMissing(f"account {self.name}: no API credentials: set "
                             f"{' and '.join(missing)} in the environment (bulkedit.toml "
                             f"names them for this account)")
        return found

    @property
    def key_source(self) -> str:
        """Where the key is, in words that never hold it."""
        if self.credentials_file is not None:
            return f"file {self.credentials_file}"
        return f"${self.key_env}, ${self.secret_env}"

    def as_dict(self) -> dict[str, Any]:
        rate = self.limits.rate
        return {"account": self.name, "api_base": self.api_base,
                "key_env": None if self.credentials_file else self.key_env,
                "secret_env": None if self.credentials_file else self.secret_env,
                "credentials_file": str(self.credentials_file) if self.credentials_file
                else None,
                "channels": list(self.channels),
                "rate": rate if rate == "auto" else float(rate),
                "rate_from": self.rate_from, "concurrency": self.limits.concurrency}


@dataclass(frozen=True)
class Accounts:
    """The configured accounts: named ones, or the one `default` of a configuration
    without [accounts.NAME] sections."""

    accounts: tuple[Account, ...]
    default_account: str | None = None
    named: bool = False  # the configuration has [accounts.NAME] sections

    def names(self) -> tuple[str, ...]:
        return tuple(account.name for account in self.accounts)

    def get(self, name: str, where: str = "--account") -> Account:
        for account in self.accounts:
            if account.name == name:
                return account
        raise UsageError(unknown_name_message(name, self.names(), where))

    def routing(self, chosen: Sequence[str] = ()) -> Routing:
        return Routing(self.names(), self.default_account, tuple(chosen))

    def used(self, chosen: Sequence[str] = ()) -> tuple[Account, ...]:
        """The accounts a command talks to: those chosen, else the default one, else
        (a command that checks them all) every one."""
        if chosen:
            return tuple(self.get(name) for name in chosen)
        fallback = self.routing().fallback
        return (self.get(fallback),) if fallback else self.accounts


def chosen_names(given: Sequence[str] | None, environ: Mapping[str, str],
                 accounts: Sequence[str]) -> tuple[str, ...]:
    """--account NAME (repeatable) > $BULKEDIT_ACCOUNT (one name, or several with commas);
    each checked against the configuration, with the closest name when it is not one."""
    where = "--account"
    names: list[str] = [n.strip() for n in given or ()]
    if not names and environ.get(ACCOUNT_ENV, "").strip():
        where = ACCOUNT_ENV
        names = [n.strip() for n in environ[ACCOUNT_ENV].split(",")]
    if any(not n for n in names):
        raise UsageError(f"{where}: an empty account name; give names like brand_fr"
                         + (" separated by commas" if where == ACCOUNT_ENV else ""))
    for name in names:
        if name not in accounts:
            raise UsageError(unknown_name_message(name, accounts, where))
    return tuple(dict.fromkeys(names))


def resolve_accounts(settings: Any, flags: SimpleNamespace,
                     environ: Mapping[str, str]) -> Accounts:
    """Each account's limits and base: flag > environment > [accounts.NAME] > [api] >
    default (config.resolve's order, with the account's section over [api])."""
    if not settings.accounts:
        resolved = resolve(flags, settings, dict(environ))
        account = Account(DEFAULT_ACCOUNT, resolved.limits, resolved.api_base,
                          settings.key_env, settings.secret_env, settings.credentials_file,
                          rate_from=resolved.sources["rate"])
        return Accounts((account,), settings.default_account)
    found = []
    sources: dict[tuple[str, str], str] = {}
    for name, said in settings.accounts.items():
        own = {key: value for key, value in said.items() if key != "channels"}
        if "allow_hosts" in own:
            own["allow_hosts"] = [*settings.allow_hosts, *own["allow_hosts"]]
        if "credentials_file" in own:  # its own file, not [api]'s variables
            pass
        elif "key_env" in own or "secret_env" in own:
            own["credentials_file"] = None
        section = replace(settings, **own)
        resolved = resolve(flags, section, dict(environ))
        account = Account(name, resolved.limits, resolved.api_base, section.key_env,
                          section.secret_env, section.credentials_file,
                          tuple(said.get("channels", ())), resolved.sources["rate"])
        where = (("file", str(account.credentials_file)) if account.credentials_file
                 else ("variable", account.key_env))
        if where in sources:
            raise UsageError(f"{settings.source}: accounts {sources[where]} and {name} take "
                             f"their key from the same {where[0]} ({where[1]}); give each "
                             "account its own key_env and secret_env, or its own "
                             "credentials_file")
        sources[where] = name
        found.append(account)
    return Accounts(tuple(found), settings.default_account, named=True)
