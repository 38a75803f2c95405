"""Who may use the review page: named users with roles, each signed in by a link of their own.

Every start of `bulkedit serve` makes a new random token per user (256 bits, `secrets`),
prints each user's link once and keeps only the token's SHA-256: a token is compared in
constant time against every user's digest, so neither the memory of the server nor the
time of an answer tells a token. The first visit trades the token for a session (another
random value, kept hashed the same way) held in an HttpOnly, SameSite=Strict cookie.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bulkedit.core.errors import UsageError

EDITOR = "editor"  # uploads sheets
APPROVER = "approver"  # approves or declines a plan (issue 31, point 6)
ROLES = (EDITOR, APPROVER)
TOKEN_BYTES = 32  # 256 bits: well past the 128 a guess must face
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")


@dataclass(frozen=True)
class User:
    name: str
    roles: frozenset[str]

    def can(self, role: str) -> bool:
        return role in self.roles

    def shown_roles(self) -> str:
        return ", ".join(r for r in ROLES if r in self.roles)


@dataclass(frozen=True)
class Link:
    """A user and the token of their link: printed once, at start, and never kept."""

    user: User
    token: str


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()


def users_from(entries: Sequence[Mapping[str, Any]] | None, where: str = "bulkedit.toml"
               ) -> tuple[User, ...]:
    """The users [serve] names, or, when it names none, the one person running the server
    with both roles."""
    if not entries:
        return (User(_login_name(), frozenset(ROLES)),)
    users: list[User] = []
    for number, entry in enumerate(entries, start=1):
        said = f"{where}: [serve] users, entry {number}"
        unknown = set(entry) - {"name", "roles"}
        if unknown:
            raise UsageError(f"{said}: unknown key(s) {', '.join(sorted(unknown))}; a user "
                             "has a name and roles (the links, and their tokens, are made "
                             "anew at each start and never written in a file)")
        name, roles = entry.get("name"), entry.get("roles")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise UsageError(f"{said}: name must be 1-40 letters, digits, '.', '_' or '-', "
                             'like name = "ana"')
        if not isinstance(roles, list) or not roles or not all(r in ROLES for r in roles):
            raise UsageError(f"{said} ({name}): roles is a list of {' and '.join(ROLES)}, "
                             'like roles = ["editor"]')
        if any(u.name == name for u in users):
            raise UsageError(f"{said}: {name} is named twice; give each person one entry")
        users.append(User(name, frozenset(roles)))
    return tuple(users)


def _login_name() -> str:
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        return "you"
    return name if _NAME.fullmatch(name) else "you"


class Keys:
    """The users' link tokens and the sessions they opened, both kept as digests only."""

    def __init__(self, users: Iterable[User]) -> None:
        self._links: list[tuple[bytes, User]] = []
        self._sessions: dict[bytes, User] = {}
        self.links: tuple[Link, ...] = ()
        made = []
        for user in users:
            token = secrets.token_urlsafe(TOKEN_BYTES)
            self._links.append((digest(token), user))
            made.append(Link(user, token))
        self.links = tuple(made)

    def forget_links(self) -> None:
        """Drop the tokens themselves once they are printed: only their digests stay."""
        self.links = ()

    def user_of_token(self, token: str) -> User | None:
        wanted = digest(token)
        found = None
        for kept, user in self._links:  # every digest compared: the time tells nothing
            if hmac.compare_digest(kept, wanted):
                found = user
        return found

    def open_session(self, user: User) -> str:
        session = secrets.token_urlsafe(TOKEN_BYTES)
        self._sessions[digest(session)] = user
        return session

    def user_of_session(self, session: str | None) -> User | None:
        if not session:
            return None
        return self._sessions.get(digest(session))  # looked up by digest: no secret compared
