"""Which account each row of a sheet goes through (issue 30, point 2): pure rules over
plain values, no configuration file and no network.

First match wins:

  1. the row's `#account` cell (the one `#` column that is not a comment);
  2. the sheet's account: `--account NAME` given once (or BULKEDIT_ACCOUNT), or in
     `batch` the inbox subfolder the sheet is in, named after its account;
  3. the video's owner, when every account lists its channels (core/owner_routing.py
     decides, run/owner_lookup.py reads the owners): `route` says `by="owner"`, no
     account yet, and the lookup settles it before anything is sent;
  4. the configuration's `default_account` (a configuration with one account: that one).

A row that reaches no account is invalid (`no_account`); a name no account has is refused
with the closest one (`unknown_account`), even when there is a single account (a sheet
meant for another account's videos must never go through this one's key); a row routed to
an account the command was not given (`--account` limits a run to those named) is refused
too (`account_not_chosen`), and so is one naming another account than the inbox subfolder
its sheet is in (`account_not_folder`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bulkedit.core.schema import header_key, suggest

DEFAULT_ACCOUNT = "default"  # the account of a configuration without [accounts.NAME]
ACCOUNT_COLUMN = "#account"
# Names appear in file names and log lines: a letter, then letters, digits, _ or -.
_NAME = re.compile(r"[a-z][a-z0-9_-]{0,39}")
NAME_RULE = ("a lower-case letter, then up to 39 lower-case letters, digits, _ or -, "
             "like brand_fr")


def name_problem(name: str) -> str | None:
    """Why `name` cannot be an account's name (None: it can)."""
    if _NAME.fullmatch(name):
        return None
    return f"account name {name!r} is not a simple name: write {NAME_RULE}"


def is_account_column(header: str) -> bool:
    """`#account`, `# Account`, `#ACCOUNT`: the routing column (other `#` columns are
    comments)."""
    text = header.strip()
    return text.startswith("#") and header_key(text[1:]) == "account"


@dataclass(frozen=True)
class Routing:
    """What routes a sheet's rows: the configured accounts and the choices of the run."""

    accounts: tuple[str, ...] = (DEFAULT_ACCOUNT,)
    default_account: str | None = None  # the configuration's; None: no default
    chosen: tuple[str, ...] = ()  # --account NAME (repeatable): only these; () = any
    # batch: the inbox subfolder the sheet is in, named after the account its rows go
    # through (a row naming another is refused); None: the sheet is in no such folder.
    folder: str | None = None
    # Each account's channels, (account, channels) pairs: when every account lists some,
    # a row no cell or sheet account routes is routed by its video's owner.
    channels: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def by_owner(self) -> bool:
        """Rows that nothing else routes go by their video's owner."""
        return bool(self.channels) and all(listed for _, listed in self.channels)

    def __post_init__(self) -> None:
        for name in (*self.chosen, *((self.default_account,) if self.default_account
                                      else ()), *((self.folder,) if self.folder else ())):
            if name not in self.accounts:
                raise ValueError(f"{name!r} is not one of the accounts {self.accounts}")

    @property
    def sheet_account(self) -> str | None:
        """The account of the rows that do not name one: the inbox subfolder's, else the
        one --account given."""
        if self.folder is not None:
            return self.folder
        return self.chosen[0] if len(self.chosen) == 1 else None

    @property
    def fallback(self) -> str | None:
        """default_account, or the only account there is."""
        if self.default_account is not None:
            return self.default_account
        return self.accounts[0] if len(self.accounts) == 1 else None


@dataclass(frozen=True)
class Route:
    """One row's account, or why it has none (`code` and `message`, the fix included)."""

    account: str | None
    code: str | None = None
    message: str = ""
    by: str = ""  # what chose the account: "#account", "--account", "default_account"


def _listed(names: Iterable[str]) -> str:
    return ", ".join(names)


def unknown_name_message(name: str, accounts: Sequence[str], where: str) -> str:
    """`where` names what said it ("#account", "--account"); the fix says the choices."""
    hint = suggest(name, accounts)
    near = f"did you mean '{hint}'? " if hint else ""
    if len(accounts) == 1:
        return (f"{where} '{name}' is not an account of this configuration, which has one: "
                f"'{accounts[0]}'; {near}write '{accounts[0]}' or leave the cell blank, or "
                f"add [accounts.{name}] to bulkedit.toml")
    return (f"{where} '{name}' is not a configured account; {near}write one of: "
            f"{_listed(accounts)}")


def route(cell: str, routing: Routing) -> Route:
    """The account of one row whose `#account` cell is `cell` ("" when blank or no
    such column)."""
    name = cell.strip()
    if name:
        if name not in routing.accounts:
            return Route(None, "unknown_account",
                         unknown_name_message(name, routing.accounts, "#account"))
        if routing.folder is not None and name != routing.folder:
            return Route(None, "account_not_folder",
                         f"#account '{name}' in a sheet of the inbox folder "
                         f"{routing.folder}/, whose sheets go through the account "
                         f"{routing.folder}: write {routing.folder} or leave the cell blank, "
                         f"or put the sheet in the folder {name}/ (or in the inbox itself)")
        if routing.folder is None and routing.chosen and name not in routing.chosen:
            return Route(None, "account_not_chosen",
                         f"#account '{name}' is not among the accounts this command was "
                         f"given (--account {' --account '.join(routing.chosen)}); add "
                         f"--account {name}, or leave the row out (--skip-invalid sends "
                         "the others)")
        return Route(name, by="#account")
    if routing.sheet_account is not None:
        return Route(routing.sheet_account,
                     by="inbox folder" if routing.folder is not None else "--account")
    if routing.by_owner:  # the owner lookup decides (run/owner_lookup.py)
        return Route(None, by="owner")
    fallback = routing.fallback
    if fallback is not None and (not routing.chosen or fallback in routing.chosen):
        return Route(fallback, by="default_account")
    given = (f"the accounts given (--account {' --account '.join(routing.chosen)}) are "
             "several, so none is the sheet's; " if routing.chosen else "")
    return Route(None, "no_account",
                 f"this row reaches no account: {given}write its account in an #account "
                 f"column (one of: {_listed(routing.chosen or routing.accounts)}), pass "
                 "--account NAME for the whole sheet, or set default_account in "
                 "bulkedit.toml's [api]")


def route_cells(cells: Sequence[str] | None, count: int, routing: Routing) -> list[Route]:
    """Every row's route: `cells` the `#account` column (None: the sheet has none, and
    every one of its `count` rows takes the sheet's or the default account). One decision
    per distinct cell."""
    if cells is None:
        return [route("", routing)] * count
    decided: dict[str, Route] = {}
    routes = []
    for cell in cells:
        key = cell.strip()
        found = decided.get(key)
        if found is None:
            found = decided[key] = route(key, routing)
        routes.append(found)
    return routes


def accounts_of(routes: Iterable[Route]) -> dict[str, int]:
    """How many rows go through each account, in the order they first appear."""
    counts: dict[str, int] = {}
    for one in routes:
        if one.account is not None:
            counts[one.account] = counts.get(one.account, 0) + 1
    return counts
