"""`bulkedit accounts`: the configured accounts (name, where the key is, channels, rate),
and with --check each key tried with one token request and one read; a table or --json.
It never prints a secret: only the names of the variables or the file that hold it."""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path
from typing import Any, TextIO

from bulkedit.cli.account_access import (
    account_names,
    account_sandbox,
    configured_accounts,
    sandbox_key,
)
from bulkedit.cli.console import print_table
from bulkedit.cli.jsonout import dumps
from bulkedit.core.errors import ExitCode, UsageError


def _rate(account: Any) -> str:
    rate = account.limits.rate
    return "auto" if rate == "auto" else ("no limit" if not rate else f"{rate:g}/s")


def run_accounts(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from bulkedit.cli.commands import settings_of
    from bulkedit.run.accounts import chosen_names

    settings, _ = settings_of(args, err)
    accounts = configured_accounts(args, settings)
    chosen = chosen_names(account_names(args), os.environ, accounts.names())
    shown = [accounts.get(name) for name in chosen] if chosen else list(accounts.accounts)
    fallback = accounts.routing().fallback
    checks = _checks(args, accounts, shown) if args.check else None
    if args.json:
        listed = []
        for position, account in enumerate(shown):
            entry = {**account.as_dict(), "default": account.name == fallback}
            if checks is not None:
                entry["check"] = checks[position].as_dict()
            listed.append(entry)
        out.write(dumps({"settings_file": str(settings.source) if settings.source else None,
                         "accounts": listed}))
    else:
        columns = ["account", "key from", "channels", "rate", "api"]
        marked = accounts.named and fallback is not None
        rows = [[account.name + (" (default)" if marked and account.name == fallback else ""),
                 account.key_source, ", ".join(account.channels) or "(not listed)",
                 _rate(account), account.api_base] for account in shown]
        if checks is not None:
            columns = ["account", "key from", "token", "read", "problem"]
            rows = [[row[0], "sandbox key" if args.sandbox else row[1], check.token,
                     check.read, check.problem or "none"]
                    for row, check in zip(rows, checks, strict=True)]
        print_table(out, columns, rows, widths={"key from": 60, "problem": 160, "api": 80})
        if not settings.accounts:
            out.write("No [accounts.NAME] section in "
                      + (str(settings.source) if settings.source else "a settings file")
                      + ": the one account is 'default' ([api]'s settings).\n")
        elif fallback is None:
            out.write("No default_account: each row names its account (#account), or the "
                      "command is given --account NAME.\n")
        if checks is not None:
            calls = sum(check.calls for check in checks)
            bad = [check.account for check in checks if not check.ok]
            out.write(f"{len(checks) - len(bad)} of {len(checks)} accounts answered; "
                      f"{calls} API calls, nothing written.\n")
    if checks is not None and any(not check.ok for check in checks):
        return ExitCode.PROBLEMS
    return ExitCode.OK


def _checks(args: argparse.Namespace, accounts: Any, shown: list[Any]) -> list[Any]:
    from bulkedit.client.transport import Credentials
    from bulkedit.run.account_check import check_accounts

    if getattr(args, "credentials", None):
        if len(shown) > 1:
            raise UsageError("--credentials gives one key: check one account with it "
                             "(--account NAME)")
        given = Credentials.from_file(Path(args.credentials))
        return asyncio.run(check_accounts(shown, lambda _: given, lambda a: a.api_base))
    if getattr(args, "sandbox", False):
        with account_sandbox(args, accounts) as base:
            return asyncio.run(check_accounts(shown, sandbox_key, lambda _: base))
    return asyncio.run(check_accounts(shown, lambda account: account.credentials(),
                                      lambda account: account.api_base))
