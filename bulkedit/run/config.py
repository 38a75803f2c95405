"""bulkedit.toml: settings for unattended runs. Credentials never live in it: it names the
environment variables that hold them."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from bulkedit.client.transport import ENV_BASE, ENV_KEY, ENV_SECRET, Credentials
from bulkedit.core.errors import UsageError
from bulkedit.core.policy import ApiLimits, Rate, parse_rate
from bulkedit.core.protocol import PARTNER_API, checked_api_base
from bulkedit.run.account_sections import check_default, read_sections
from bulkedit.run.config_lookup import find_config

DEFAULT_FILE = "bulkedit.toml"
_SECRET_KEYS = {"api_key", "api_secret", "key", "secret", "client_secret", "token"}


LIMITS = tuple(f.name for f in fields(ApiLimits))


@dataclass
class Settings:
    """What bulkedit.toml says; None where it says nothing."""

    # [api]
    base: str | None = None
    allow_hosts: list[str] = field(default_factory=list)  # API hosts besides Dailymotion's
    key_env: str = ENV_KEY
    secret_env: str = ENV_SECRET
    credentials_file: Path | None = None  # a private TOML file with api_key and api_secret
    default_account: str | None = None  # the account of rows nothing else routes
    rate: Rate | None = None  # a number, or "auto"
    max_rate: float | None = None
    concurrency: int | None = None
    timeout: float | None = None
    max_attempts: int | None = None
    backoff: float | None = None
    batch_size: int | None = None
    # [batch]
    inbox: Path | None = None
    done: Path | None = None
    failed: Path | None = None
    log: Path | None = None
    state_dir: Path | None = None
    summaries: Path | None = None
    settle: float | None = None  # seconds a sheet must have stopped changing to be taken
    # [run] (also accepted under [batch], where they were first): how every run reads and
    # sends a sheet. None: the file does not say, the engine's default holds.
    timezone: str | None = None
    skip_invalid: bool | None = None
    verify: bool | None = None  # read the written fields back (default on)
    canary: int | None = None  # rows sent and read back first (default: 3, off locally)
    allow_irreversible: bool | None = None
    allow_live_fields: bool | None = None
    allow_past_expiry: bool | None = None
    date_order: str | None = None  # "dmy" or "mdy"
    encoding: str | None = None  # the CSVs' encoding, when it is not found
    hidden: str | None = None  # hidden/filtered rows: "refuse", "skip" or "include"
    spread_merged: bool | None = None
    strip_apostrophes: bool | None = None
    decimal_separator: str | None = None  # "." or ","
    split_lists: bool | None = None
    # [run]: requests per second over every account of a run together (None: no cap)
    global_rate: float | None = None
    # [accounts.NAME]: what each account's section says, checked (run/accounts.py).
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    # [serve] (bulkedit/serve/): who may use the review page; checked there, when it starts
    users: list[dict[str, Any]] | None = None
    max_upload_mb: float | None = None
    # true: a sheet is approved by someone other than the person who uploaded it
    require_second_person: bool | None = None
    source: Path | None = field(default=None, repr=False)
    _said: dict[str, str] = field(default_factory=dict, repr=False)  # run key -> section

    def run_keys(self) -> dict[str, str]:
        """The run settings the file says, and the section each is in."""
        return dict(self._said)

    def credentials(self, environ: Mapping[str, str] | None = None) -> Credentials:
        found, _ = read_credentials(self.credentials_file, self.key_env, self.secret_env,
                                    environ)
        if found is None:
            raise UsageError(f"no API credentials: set {self.key_env} and {self.secret_env} "
                             "in the environment of the job")
        return found


def read_credentials(credentials_file: Path | None, key_env: str, secret_env: str,
                     environ: Mapping[str, str] | None = None
                     ) -> tuple[Credentials | None, list[str]]:
    """The key and secret from the private file, else from the two variables named; with
    None, the names of the variables that are not set (each caller says it its way)."""
    if credentials_file is not None:
        return Credentials.from_file(credentials_file), []
    env = os.environ if environ is None else environ
    key, secret = env.get(key_env, "").strip(), env.get(secret_env, "").strip()
    if not key or not secret:
        return None, [name for name, value in ((key_env, key), (secret_env, secret))
                      if not value]
    return Credentials(key, secret), []


RUN_KEYS = ("timezone", "skip_invalid", "verify", "canary", "allow_irreversible",
            "allow_live_fields", "allow_past_expiry", "date_order", "encoding", "hidden",
            "spread_merged", "strip_apostrophes", "decimal_separator", "split_lists")
_SECTIONS = {
    "api": ("base", "allow_hosts", "key_env", "secret_env", "credentials_file",
            "default_account", *LIMITS),
    "run": (*RUN_KEYS, "global_rate"),
    "batch": ("inbox", "done", "failed", "log", "state_dir", "summaries", "settle",
              *RUN_KEYS, "global_rate"),
    "serve": ("users", "max_upload_mb", "require_second_person"),
}
_PATHS = {"inbox", "done", "failed", "log", "state_dir", "summaries", "credentials_file"}


def load_settings(path: Path | None, environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from `path` (--config), else from the file the lookup finds
    (run/config_lookup.py: $BULKEDIT_CONFIG, ./bulkedit.toml, the user's), else the
    defaults."""
    found = find_config(path, environ).path
    if found is None:
        return Settings()
    path = found
    try:
        status = os.stat(path)
        # It decides where the credentials go: only the user may have written it.
        if status.st_uid != os.geteuid() or status.st_mode & 0o022:
            who = ("belongs to another user" if status.st_uid != os.geteuid()
                   else "may be written by other users")
            raise UsageError(f"{path} {who}, and it decides where your credentials are sent;"
                             " use a settings file only you can write (chmod go-w), or "
                             "pass --config with one")
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: no such configuration file") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{path}: not a valid TOML file ({exc})") from None
    settings = Settings(source=path)
    known = {f.name: f for f in fields(Settings)}
    for section, values in data.items():
        if section == "accounts" and isinstance(values, dict):
            settings.accounts = read_sections(
                path, values, lambda where, name, value: _convert(
                    path, where, name, value, known[name].type if name in known else str))
            continue
        if section not in _SECTIONS or not isinstance(values, dict):
            raise UsageError(f"{path}: unknown section [{section}]; use [api], [run], "
                             "[batch], [serve] and [accounts.NAME]")
        for name, value in values.items():
            if name in _SECRET_KEYS:
                raise UsageError(f"{path}: [{section}] {name}: credentials never go in the "
                                 "configuration file; set them in the environment and name "
                                 "the variables with key_env and secret_env")
            if name not in _SECTIONS[section]:
                raise UsageError(f"{path}: [{section}] has no setting '{name}'; known: "
                                 + ", ".join(_SECTIONS[section]))
            if name in RUN_KEYS:
                if name in settings._said:
                    raise UsageError(f"{path}: {name} is set under both [{settings._said[name]}]"
                                     f" and [{section}]; keep one (both mean the same)")
                settings._said[name] = section
            setattr(settings, name, _convert(path, section, name, value, known[name].type))
    if settings.default_account is not None:
        check_default(path, settings.default_account, settings.accounts)
    return settings


def _convert(path: Path, section: str, name: str, value: Any, kind: Any) -> Any:
    if name == "rate":
        try:
            return parse_rate(value)
        except UsageError as exc:
            raise UsageError(f"{path}: [{section}] {exc}") from None
    if name == "users":
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise UsageError(f'{path}: [{section}] users is a list of tables, like '
                             '[{ name = "ana", roles = ["editor"] }]')
        return value
    if name == "allow_hosts":
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise UsageError(f'{path}: [{section}] allow_hosts is a list of host names, like '
                             '["api.example.com"]')
        return value
    if name in _PATHS:
        if not isinstance(value, str) or not value:
            raise UsageError(f"{path}: [{section}] {name} must be a folder or file path")
        resolved = Path(os.path.expanduser(value))
        return resolved if resolved.is_absolute() else path.parent / resolved
    if name == "canary" and (not isinstance(value, int) or isinstance(value, bool)
                             or value < 0):
        raise UsageError(f"{path}: [{section}] canary is a number of rows, 0 or more")
    expected = {"float": (int, float), "int": int, "bool": bool, "str": str}[
        str(kind).split(" |")[0]]
    kind = str(kind).split(" |")[0]
    if not isinstance(value, expected) or (kind in ("int", "float") and isinstance(value, bool)):
        raise UsageError(f"{path}: [{section}] {name} has the wrong type")
    if name == "timezone":
        from bulkedit.core.cells import zone_named

        zone_named(value, f"{path}: [{section}] timezone")
    if name == "encoding":
        import codecs

        try:
            codecs.lookup(value)
        except LookupError:
            raise UsageError(f"{path}: [{section}] encoding {value!r} is not an encoding "
                             "Python knows; give one like cp1251 or utf-8") from None
    if name == "date_order" and value not in ("dmy", "mdy"):
        raise UsageError(f"{path}: [{section}] date_order is \"dmy\" or \"mdy\"")
    if name == "hidden" and value not in ("refuse", "skip", "include"):
        raise UsageError(f"{path}: [{section}] hidden is \"refuse\", \"skip\" or "
                         "\"include\"")
    if name == "decimal_separator" and value not in (".", ","):
        raise UsageError(f"{path}: [{section}] decimal_separator is \".\" or \",\"")
    return float(value) if str(kind) == "float" else value


@dataclass(frozen=True)
class Resolved:
    """The settings a command runs with, and where each came from."""

    limits: ApiLimits
    api_base: str
    sources: dict[str, str]  # setting -> "flag", "environment (NAME)", "FILE", "default"


def resolve(args: Any, settings: Settings, environ: dict[str, str] | None = None) -> Resolved:
    """One order for every command: flag > environment > bulkedit.toml > default."""
    env = os.environ if environ is None else environ
    where = str(settings.source) if settings.source else "bulkedit.toml"
    defaults = ApiLimits()
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name in LIMITS:
        flag = getattr(args, name, None)
        if flag is not None:
            values[name], sources[name] = flag, "flag"
        elif getattr(settings, name) is not None:
            values[name], sources[name] = getattr(settings, name), where
        else:
            values[name], sources[name] = getattr(defaults, name), "default"
    if getattr(args, "api_base", None):
        base, sources["api_base"] = args.api_base, "flag"
    elif env.get(ENV_BASE):
        base, sources["api_base"] = env[ENV_BASE], f"environment ({ENV_BASE})"
    elif settings.base:
        base, sources["api_base"] = settings.base, where
    else:
        base, sources["api_base"] = PARTNER_API, "default"
    # Where the credentials may go: checked here, before any command connects anywhere.
    allowed = [*(getattr(args, "allow_api_host", None) or []), *settings.allow_hosts]
    base = checked_api_base(base, allowed)
    return Resolved(ApiLimits(**values), base, sources)
