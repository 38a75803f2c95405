"""The keys a command sends with when bulkedit.toml names several accounts (issue 30).

`api_access` gives one key (the account `default`); with `[accounts.NAME]` sections a run's
key is its rows' account's, known once the sheet is read, so the command hands the run a
way to read it (`CredentialsFor`) instead of a key. `--sandbox` starts a sandbox with one
key per account, each owning the account's channels, as the real API would refuse an edit
of another account's video.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from bulkedit.client.transport import Credentials
from bulkedit.core.errors import UsageError

if TYPE_CHECKING:
    from bulkedit.core.policy import ApiLimits
    from bulkedit.run.accounts import Account, Accounts
    from bulkedit.run.config import Resolved, Settings
    from bulkedit.run.runner import CredentialsFor


@contextlib.contextmanager
def api_access(args: argparse.Namespace, resolved: Resolved,
               from_settings: Callable[[], Credentials] | None = None
               ) -> Iterator[tuple[Credentials, str]]:
    """Credentials and base URL: a throw-away sandbox (--sandbox), a credentials file
    (--credentials), bulkedit.toml's named variables (`from_settings`), or the env."""
    if args.sandbox:
        from bulkedit.sandbox import SandboxConfig, running_sandbox

        if getattr(args, "api_base", None):
            raise UsageError("--sandbox and --api-base say two places to send to; give one "
                             "(--sandbox starts a local sandbox for this run)")

        strict = getattr(args, "profile", "kind") == "strict"
        with running_sandbox(SandboxConfig.strict() if strict else SandboxConfig()) as sandbox:
            key, secret = sandbox.key
            yield Credentials(key, secret), sandbox.base_url
        return
    if getattr(args, "credentials", None):
        credentials = Credentials.from_file(Path(args.credentials))
    else:
        credentials = from_settings() if from_settings else Credentials.from_env()
    yield credentials, resolved.api_base


def account_names(args: argparse.Namespace) -> list[str] | None:
    """--account NAME, as given (None: not given; BULKEDIT_ACCOUNT may say)."""
    return getattr(args, "account", None) or None


def sandbox_key(account: Account) -> Credentials:
    """The key the sandbox of `--sandbox` gives an account (never a real one)."""
    return Credentials(f"sandbox-{account.name}-key", f"sandbox-{account.name}-secret")


def configured_accounts(args: argparse.Namespace, settings: Settings) -> Accounts:
    """The configured accounts with this command's flags and environment."""
    import os
    from types import SimpleNamespace

    from bulkedit.run.accounts import resolve_accounts
    from bulkedit.run.config import LIMITS

    flags = SimpleNamespace(api_base=getattr(args, "api_base", None),
                            allow_api_host=list(getattr(args, "allow_api_host", None) or []),
                            **{name: getattr(args, name, None) for name in LIMITS})
    return resolve_accounts(settings, flags, os.environ)


@contextlib.contextmanager
def keys_for_run(args: argparse.Namespace, settings: Settings, resolved: Resolved
                 ) -> Iterator[tuple[Credentials | CredentialsFor, str | None]]:
    """The key(s) and the API base (None: each account's own) a run is given."""
    if not settings.accounts:  # the one account `default`: as it always was
        with api_access(args, resolved, settings.credentials if settings.source else None
                        ) as (credentials, base):
            yield credentials, base
        return
    if getattr(args, "credentials", None):
        # One file, one key: for the one account the run goes through.
        yield Credentials.from_file(Path(args.credentials)), getattr(args, "api_base", None)
        return
    if getattr(args, "sandbox", False):
        with account_sandbox(args, configured_accounts(args, settings)) as base:
            yield sandbox_key, base
        return

    def own_key(account: Account) -> Credentials:
        return account.credentials()

    yield own_key, getattr(args, "api_base", None)


@contextlib.contextmanager
def account_sandbox(args: argparse.Namespace, accounts: Accounts) -> Iterator[str]:
    """A sandbox for this command with one key per account (`sandbox_key`); its base."""
    from bulkedit.sandbox import ApiKey, SandboxConfig, running_sandbox

    if getattr(args, "api_base", None):
        raise UsageError("--sandbox and --api-base say two places to send to; give one "
                         "(--sandbox starts a local sandbox for this run)")
    keys = [ApiKey(sandbox_key(a).api_key, sandbox_key(a).api_secret, owners=a.channels)
            for a in accounts.accounts]
    strict = getattr(args, "profile", "kind") == "strict"
    config = SandboxConfig.strict(extra_keys=keys) if strict else SandboxConfig(
        extra_keys=keys)
    with running_sandbox(config) as sandbox:
        yield sandbox.base_url


Key = tuple[str, Credentials, str, "ApiLimits"]  # account, its key, its API base, limits


@contextlib.contextmanager
def one_key_each(args: argparse.Namespace, settings: Settings, resolved: Resolved,
                 command: str) -> Iterator[list[Key]]:
    """The accounts a command that talks to each in turn uses (export, doctor): those
    --account names, else the default one, else every one; each with its key, API base
    and limits. A name no account has is refused before anything is sent."""
    import os

    from bulkedit.core.routing import DEFAULT_ACCOUNT
    from bulkedit.run.accounts import chosen_names

    if not settings.accounts:
        chosen_names(account_names(args), os.environ, (DEFAULT_ACCOUNT,))
        with api_access(args, resolved, settings.credentials if settings.source else None
                        ) as (credentials, base):
            yield [(DEFAULT_ACCOUNT, credentials, base, resolved.limits)]
        return
    accounts = configured_accounts(args, settings)
    used = accounts.used(chosen_names(account_names(args), os.environ, accounts.names()))
    if getattr(args, "credentials", None):
        if len(used) > 1:
            raise UsageError(f"--credentials gives one key: {command} one account with it "
                             "(--account NAME)")
        given = Credentials.from_file(Path(args.credentials))
        yield [(used[0].name, given, used[0].api_base, used[0].limits)]
        return
    if getattr(args, "sandbox", False):
        with account_sandbox(args, accounts) as base:
            yield [(a.name, sandbox_key(a), base, a.limits) for a in used]
        return
    yield [(a.name, a.credentials(), a.api_base, a.limits) for a in used]
