"""Several Dailymotion accounts in one configuration (issue 30, point 1).

`[accounts.NAME]` sections of bulkedit.toml inherit `[api]` (base, rate or `auto`,
concurrency, timeouts, retries) and override any of it. Credentials come, as everywhere
else, by the names of environment variables (`key_env`, `secret_env`) or from a private
credentials file (`credentials_file`), never as values. A configuration without such
sections is the one account `default`, unchanged. Names are simple identifiers
(core/routing.py); an unknown one is refused with the closest, before anything is sent.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bulkedit.client.transport import Credentials
from bulkedit.core.errors import UsageError
from bulkedit.core.policy import ApiLimits
from bulkedit.core.routing import DEFAULT_ACCOUNT, Routing, name_problem, unknown_name_message

ACCOUNT_ENV = "BULKEDIT_ACCOUNT"  # the accounts a command uses, when --account is not given
# What an [accounts.NAME] section may say: [api]'s settings, and its channels.
ACCOUNT_KEYS = ("base", "allow_hosts", "key_env", "secret_env", "credentials_file",
                "channels", "rate", "max_rate", "concurrency", "timeout", "max_attempts",
                "backoff", "batch_size")
_SECRETS = {"api_key", "api_secret", "key", "secret", "client_secret", "token"}

Convert = Callable[[str, str, Any], Any]  # (section, setting, value) -> checked value


def read_sections(path: Path, sections: Mapping[str, Any], convert: Convert
                  ) -> dict[str, dict[str, Any]]:
    """Each [accounts.NAME] section's settings, checked as [api]'s are (`convert`)."""
    found: dict[str, dict[str, Any]] = {}
    for name, values in sections.items():
        where = f"accounts.{name}"
        problem = name_problem(name)
        if problem is not None:
            raise UsageError(f"{path}: [{where}]: {problem}")
        if not isinstance(values, dict):
            raise UsageError(f"{path}: accounts.{name} is a section: write [accounts.{name}] "
                             "on a line of its own, its settings below it")
        said: dict[str, Any] = {}
        for key, value in values.items():
            if key in _SECRETS:
                raise UsageError(f"{path}: [{where}] {key}: credentials never go in the "
                                 "configuration file; name the environment variables that "
                                 "hold them (key_env, secret_env) or a private credentials "
                                 "file (credentials_file)")
            if key not in ACCOUNT_KEYS:
                raise UsageError(f"{path}: [{where}] has no setting '{key}'; known: "
                                 + ", ".join(ACCOUNT_KEYS))
            if key == "channels":
                if not isinstance(value, list) or not all(
                        isinstance(v, str) and v.strip() for v in value):
                    raise UsageError(f'{path}: [{where}] channels is a list of channel ids, '
                                     'like ["x2abc", "x3def"]')
                said[key] = tuple(v.strip() for v in value)
                continue
            said[key] = convert(where, key, value)
        found[name] = said
    return found


def check_default(path: Path, name: str, accounts: Mapping[str, Any]) -> None:
    names = list(accounts) or [DEFAULT_ACCOUNT]
    if name not in names:
        raise UsageError(f"{path}: [api] default_account: "
                         + unknown_name_message(name, names, "account"))


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
        if self.credentials_file is not None:
            return Credentials.from_file(self.credentials_file)
        env = os.environ if environ is None else environ
        key, secret = env.get(self.key_env, "").strip(), env.get(self.secret_env, "").strip()
        if not key or not secret:
            missing = [n for n, v in ((self.key_env, key), (self.secret_env, secret)) if not v]
            raise UsageError(f"account {self.name}: no API credentials: set "
                             f"{' and '.join(missing)} in the environment (bulkedit.toml "
                             f"names them for this account)")
        return Credentials(key, secret)

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
    from bulkedit.run.config import resolve

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
