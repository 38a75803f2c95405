"""The options of one run: one frozen object, built in one place (DESIGN.md §10).

Every front end (the CLI's `apply` and `plan`, `batch`, the Python API, and whatever
comes next) hands `run_options()` what its user said — a flag, a keyword, `None` where
the user said nothing — and gets back the same `RunOptions` for the same choices. The
order is one for all: what the user said > a saved plan's reviewed options > the
environment > bulkedit.toml > the engine's defaults. The policies that decide what is
safe live here, not in a front end:

  * read-back (`verify`) is on unless the user turns it off;
  * the canary (a few rows sent and read back first) is on against any API that is not
    on this machine;
  * a saved plan binds the options that shape values: a choice that contradicts it is
    refused, naming the option, instead of being applied to a plan reviewed without it.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, tzinfo
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

from bulkedit.client.connect import BREAKER_THRESHOLD, MAX_ELAPSED
from bulkedit.core import protocol
from bulkedit.core.cells import DATE_ORDERS, zone_named
from bulkedit.core.errors import UsageError
from bulkedit.core.owner_routing import shared_channels
from bulkedit.core.policy import ApiLimits, Rate
from bulkedit.core.routing import DEFAULT_ACCOUNT, Routing
from bulkedit.core.sheet import HIDDEN_POLICIES, SheetReading
from bulkedit.core.verbosity import Verbosity
from bulkedit.run.accounts import Account, Accounts, chosen_names, resolve_accounts
from bulkedit.run.config import LIMITS, Settings, resolve
from bulkedit.run.savedplan import SavedPlan, load_plan

_LIMITS = ApiLimits()  # the defaults
DEFAULT_CANARY = 3  # rows sent and read back first, against an API not on this machine
DECIMAL_SEPARATORS = (".", ",")
DEFAULT_SETTLE = 5.0  # seconds a sheet in an inbox must have stopped changing (batch)
SETTLE_ENV = "BULKEDIT_SETTLE"


@dataclass(frozen=True)
class RunOptions:
    sheet: Path | None = None  # None: the run is given a loaded Sheet (a DataFrame's)
    sheet_name: str | None = None
    timezone: tzinfo = UTC
    allow_irreversible: bool = False
    allow_live_fields: bool = False
    allow_past_expiry: bool = False  # an expiry_date in the past on a video it deletes
    date_order: str | None = None  # "dmy" or "mdy": how to read 01/12/2026
    encoding: str | None = None  # a CSV's encoding, when the user names it
    # How a doubtful sheet is read (issue 25); each default refuses the doubt.
    hidden: str = "refuse"  # hidden/filtered rows and columns: "refuse", "skip", "include"
    spread_merged: bool = False  # a merged range's value given to every covered cell
    strip_apostrophes: bool = False  # a CSV's leading ' before =, +, -, @ is an escape
    decimal_separator: str | None = None  # "." or ",": how to read 12.000 or 1,5
    split_lists: bool = False  # split a list cell at ; | or a line break
    skip_invalid: bool = False
    send: bool = True  # False: a dry run, no write at all
    rate: Rate | None = _LIMITS.rate  # None: no limit; "auto": found as the run goes
    max_rate: float = _LIMITS.max_rate
    concurrency: int = _LIMITS.concurrency
    timeout: float = _LIMITS.timeout
    max_attempts: int = _LIMITS.max_attempts
    base_delay: float = _LIMITS.backoff
    max_elapsed: float = MAX_ELAPSED
    breaker_threshold: int = BREAKER_THRESHOLD
    batch_size: int = _LIMITS.batch_size
    api_base: str = protocol.PARTNER_API
    reviewed: SavedPlan | None = None  # apply --plan: send exactly what was reviewed
    force: bool = False  # send rows whose live values drifted since the review anyway
    # Read the written fields back: a row is `updated` only when they read back as sent.
    # False: rows are `sent` (accepted by the API, not read back).
    verify: bool = True
    # Rows sent and read back before the others; None: the engine's policy (canary_for).
    canary: int | None = None
    journal: bool = True  # keep a crash-safe journal (apply), resume an unfinished run
    state_dir: Path | None = None  # where the journal lives
    fresh: bool = False  # start over instead of resuming
    from_inbox: bool = False  # a shared inbox: no symlink, no pipe, no file of another user's
    trust_inbox: bool = False  # ... unless the user trusts it: other users' files too
    results: Path | None = None
    rollback: Path | None = None
    summary_json: Path | None = None
    # batch: a sheet in the inbox is taken once it has not changed for this many seconds
    settle: float = DEFAULT_SETTLE
    # How much the run tells (--quiet, --verbose, --no-progress): never what it does.
    verbosity: Verbosity = field(default_factory=Verbosity)
    # Which account each row goes through (core/routing.py): the configured names, the
    # default account, and those the command was given (--account, BULKEDIT_ACCOUNT).
    routing: Routing = field(default_factory=Routing)
    # The configured accounts, resolved (run/accounts.py); None: the one account
    # `default`, whose limits and base are the fields above. `account`: whose they are.
    accounts: Accounts | None = None
    account: str = DEFAULT_ACCOUNT
    # Requests per second over every account of the run together, which each request also
    # takes beside its own account's rate (--global-rate, [run] global_rate); None: no cap.
    global_rate: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.verbosity, Verbosity):
            raise UsageError("verbosity is a bulkedit.core.verbosity.Verbosity")
        if isinstance(self.settle, bool) or not isinstance(self.settle, int | float) \
                or not 0 <= self.settle <= 3600:
            raise UsageError("settle is a number of seconds, from 0 to 3600")
        self.limits()  # the same checks whoever builds the options: a flag, a toml, batch
        if self.canary is not None and (isinstance(self.canary, bool)
                                        or not isinstance(self.canary, int) or self.canary < 0):
            raise UsageError("canary takes a number of rows, 0 or more")
        if self.hidden not in HIDDEN_POLICIES:
            raise UsageError("hidden is \"refuse\", \"skip\" or \"include\"")
        if self.decimal_separator not in (None, *DECIMAL_SEPARATORS):
            raise UsageError("decimal_separator is \".\" or \",\"")
        if self.global_rate is not None and (
                isinstance(self.global_rate, bool)
                or not isinstance(self.global_rate, int | float) or self.global_rate <= 0):
            raise UsageError("global_rate is a number of requests per second above 0 (over "
                             "every account of the run together); leave it out for no cap")

    @property
    def reading(self) -> SheetReading:
        """The loader's share of the options: how hidden rows, merges and CSV escapes read."""
        return SheetReading(hidden=self.hidden, spread_merged=self.spread_merged,
                            strip_apostrophes=self.strip_apostrophes)

    def for_account(self, name: str) -> RunOptions:
        """These options with the limits and API base of the account `name`."""
        if name == self.account or self.accounts is None:
            return self
        account = self.accounts.get(name)
        return replace(self, account=name, api_base=account.api_base,
                       **_limit_values(account.limits))

    def account_used(self) -> Account | None:
        """The configured account these options' limits are those of (None: no file)."""
        return self.accounts.get(self.account) if self.accounts is not None else None

    def limits(self) -> ApiLimits:
        return ApiLimits(rate=self.rate or 0, max_rate=self.max_rate,
                         concurrency=self.concurrency,
                         timeout=self.timeout, max_attempts=self.max_attempts,
                         backoff=self.base_delay, batch_size=self.batch_size)

    @property
    def canary_size(self) -> int:
        """How many rows the canary sends first (0: none; a dry run sends none)."""
        return self.apply_canary_size if self.send else 0

    @property
    def apply_canary_size(self) -> int:
        """The canary an apply with these options sends: what a dry run's estimate counts."""
        return canary_for(self.api_base) if self.canary is None else self.canary

    def shaping(self) -> dict[str, Any]:
        """The options that decide what a sheet's cells mean, as a saved plan keeps them."""
        return {name: _shown(getattr(self, name)) for name in VALUE_OPTIONS}


# The options that change which values a sheet sends: a saved plan binds each of them.
VALUE_OPTIONS = ("sheet_name", "timezone", "date_order", "encoding", "allow_irreversible",
                 "allow_live_fields", "allow_past_expiry", "skip_invalid", "hidden",
                 "spread_merged", "strip_apostrophes", "decimal_separator", "split_lists")
_FLAGS = {"sheet_name": "--sheet", "timezone": "--timezone", "date_order": "--date-order",
          "encoding": "--encoding", "allow_irreversible": "--allow-irreversible",
          "allow_live_fields": "--allow-live-fields",
          "allow_past_expiry": "--allow-past-expiry", "skip_invalid": "--skip-invalid",
          "hidden": "--skip-hidden/--include-hidden", "spread_merged": "--spread-merged",
          "strip_apostrophes": "--strip-apostrophes",
          "decimal_separator": "--decimal-separator", "split_lists": "--split-lists"}
# RunOptions' names for ApiLimits' (the rest are the same).
_LIMIT_NAMES = {"backoff": "base_delay"}


def is_local(api_base: str) -> bool:
    """Whether the API is on this machine (the sandbox): a loopback address, written as
    one (a name such as 127.example.com or localhost may resolve elsewhere)."""
    try:
        host = urlsplit(api_base).hostname or ""
    except ValueError:
        return False
    return protocol.is_loopback(host)


def canary_for(api_base: str) -> int:
    """The engine's canary: 3 rows against any API that is not on this machine, where a
    first contact can go wrong in ways the sandbox does not show."""
    return 0 if is_local(api_base) else DEFAULT_CANARY


def _shown(value: Any) -> Any:
    return str(value) if isinstance(value, tzinfo) else value


def _same(name: str, one: Any, other: Any) -> bool:
    if name == "encoding" and one and other:
        try:
            return codecs.lookup(one).name == codecs.lookup(other).name
        except LookupError:
            return False
    if name == "timezone":
        return str(one).upper() == str(other).upper()
    return bool(one == other)


_GIVEN = ({f.name for f in fields(RunOptions)}
          | {"plan", "allow_hosts", "backoff", "inbox_account"}) \
    - {"reviewed", "base_delay", "routing", "accounts"}


def _limit_values(limits: ApiLimits) -> dict[str, Any]:
    """RunOptions' fields for `limits`."""
    values = {_LIMIT_NAMES.get(name, name): getattr(limits, name) for name in LIMITS}
    values["rate"] = limits.rate or None
    return values


def routing_of(settings: Settings, chosen: tuple[str, ...], folder: str | None = None
               ) -> Routing:
    """The routing of a configuration's accounts and the command's choice of them (and,
    in batch, the account of the inbox subfolder the sheet is in)."""
    names = tuple(settings.accounts) or (DEFAULT_ACCOUNT,)
    if folder is not None and folder not in names:
        raise UsageError(f"the inbox folder {folder}/ is named after no configured account")
    channels = tuple((name, tuple(said.get("channels", ())))
                     for name, said in settings.accounts.items())
    shared = shared_channels(dict(channels))
    if shared:
        channel, (first, second, *_) = next(iter(shared.items()))
        raise UsageError(f"{settings.source}: the channel {channel} is listed by the "
                         f"accounts {first} and {second}; a channel belongs to one account: "
                         "keep it in the channels of the one that owns it")
    return Routing(names, settings.default_account, chosen, folder, channels)


def run_options(settings: Settings | None = None, environ: Mapping[str, str] | None = None,
                *, offline: bool = False, **given: Any) -> RunOptions:
    """The options of a run from what the user said (`given`: RunOptions' names, plus
    `plan`, a saved plan's path, `allow_hosts` and `backoff`; `account`, the names of the
    accounts the command uses, and `inbox_account`, batch's inbox subfolder the sheet is
    in; None means "not said"),
    the saved plan, the environment, the settings file and the defaults. `offline`: for a
    command that only reads the sheet (validate): the API's settings are not looked at."""
    unknown = set(given) - _GIVEN
    if unknown:
        raise UsageError(f"unknown option(s): {', '.join(sorted(unknown))}")
    settings = settings if settings is not None else Settings()
    env = os.environ if environ is None else environ
    said = {name: value for name, value in given.items() if value is not None}
    where = str(settings.source) if settings.source else "bulkedit.toml"

    values: dict[str, Any] = {}
    origin: dict[str, str] = {}  # option -> "flag" or the settings file, when not default
    for name in (*VALUE_OPTIONS, "verify", "canary"):
        if name in said:
            values[name], origin[name] = said[name], "flag"
        elif name in settings.run_keys():
            values[name], origin[name] = getattr(settings, name), where
    sheet = Path(said["sheet"]) if "sheet" in said else None
    reviewed = None
    if "plan" in said:
        if sheet is None:
            raise UsageError("a saved plan needs the sheet it was made from")
        reviewed = load_plan(Path(said["plan"]), sheet)
        for name, saved in reviewed.options.items():
            if name not in VALUE_OPTIONS:
                continue
            if name in values and not _same(name, _shown(_zone(values[name], name)), saved):
                told = "" if origin[name] == "flag" else f" (from {origin[name]})"
                raise UsageError(
                    f"{_FLAGS[name]} {_shown_choice(values[name])}{told} contradicts the "
                    f"plan {said['plan']}, which was reviewed with {_FLAGS[name]} "
                    f"{_shown_choice(saved)}; leave the option out (the plan's is used) or "
                    "plan again with it and review that")
            values[name] = saved
    if "timezone" in values:
        values["timezone"] = _zone(values["timezone"], "timezone")
    if values.get("date_order") is not None and values["date_order"] not in DATE_ORDERS:
        raise UsageError("date_order is \"dmy\" or \"mdy\"")

    if "verbosity" in said:
        values["verbosity"] = said["verbosity"]
    names = tuple(settings.accounts) or (DEFAULT_ACCOUNT,)
    chosen = chosen_names(said.get("account"), env, names)
    values["routing"] = routing_of(settings, chosen, said.get("inbox_account"))
    if offline:
        return RunOptions(sheet=sheet, reviewed=reviewed, send=False, **values)
    # The API's base and limits: flag > environment > settings > default (config.resolve).
    flags = SimpleNamespace(api_base=said.get("api_base"),
                            allow_api_host=list(said.get("allow_hosts") or []),
                            **{name: said.get(name) for name in LIMITS})
    resolved = resolve(flags, settings, dict(env))
    values.update(_limit_values(resolved.limits))
    values["api_base"] = resolved.api_base
    if settings.accounts:
        # Each account's own limits and base; the options' are the sheet's account's
        # when the command says which, else [api]'s until the rows say (for_account).
        accounts = resolve_accounts(settings, flags, env)
        values["accounts"] = accounts
        known = values["routing"].sheet_account or values["routing"].fallback
        if known is not None:
            account = accounts.get(known)
            values.update(_limit_values(account.limits), api_base=account.api_base,
                          account=known)

    passed = {"send", "force", "journal", "fresh", "from_inbox", "trust_inbox",
              "max_elapsed", "breaker_threshold"}
    for name in passed & said.keys():
        values[name] = said[name]
    for name in ("results", "rollback", "summary_json", "state_dir"):
        if name in said:
            values[name] = Path(said[name])
    if "state_dir" not in values and settings.state_dir is not None:
        values["state_dir"] = settings.state_dir
    if "global_rate" in said:
        values["global_rate"] = said["global_rate"]
    elif settings.global_rate is not None:
        values["global_rate"] = settings.global_rate
    if "settle" in said:
        values["settle"] = said["settle"]
    elif env.get(SETTLE_ENV):
        try:
            values["settle"] = float(env[SETTLE_ENV])
        except ValueError:
            raise UsageError(f"{SETTLE_ENV}={env[SETTLE_ENV]!r}: give a number of "
                             "seconds") from None
    elif settings.settle is not None:
        values["settle"] = settings.settle
    return RunOptions(sheet=sheet, reviewed=reviewed, **values)


def contradiction(options: RunOptions, kept: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """The first value-shaping option where `options` differ from `kept` (a run's, as
    journaled when it started): (flag, value now, value kept), or None."""
    for name, now in options.shaping().items():
        if name in kept and not _same(name, now, kept[name]):
            return _FLAGS[name], _shown_choice(now), _shown_choice(kept[name])
    return None


def _zone(value: Any, name: str) -> Any:
    if name != "timezone" or isinstance(value, tzinfo):
        return value
    return zone_named(str(value), "--timezone")


def _shown_choice(value: Any) -> str:
    if value is True:
        return "(on)"
    if value is False:
        return "(off)"
    return "(not given)" if value is None else str(_shown(value))
