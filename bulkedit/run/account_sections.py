"""The [accounts.NAME] sections of bulkedit.toml, read and checked (issue 30, point 1);
run/accounts.py resolves them into the accounts a command uses."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bulkedit.core.errors import UsageError
from bulkedit.core.routing import DEFAULT_ACCOUNT, name_problem, unknown_name_message

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
