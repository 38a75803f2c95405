"""Which settings file a command reads, and why (issue 29, point 6).

One order for every command, first found wins:

  1. `--config FILE`;
  2. the environment variable `BULKEDIT_CONFIG` (a job's own settings, without a flag);
  3. `./bulkedit.toml` in the current folder (a project's);
  4. `$XDG_CONFIG_HOME/bulkedit/bulkedit.toml` (`~/.config/bulkedit/bulkedit.toml` when
     XDG_CONFIG_HOME is unset, empty or not an absolute path, as the XDG spec says): the
     user's own.

A file the user *named* (1 or 2) that does not exist is an error, never skipped: a typo
must not quietly run with other settings. The places bulkedit only looks in (3, 4) are
skipped when empty. `bulkedit config` shows the lookup: which file won, why, and every
place looked at.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bulkedit.core.errors import UsageError

CONFIG_ENV = "BULKEDIT_CONFIG"
FILE_NAME = "bulkedit.toml"


@dataclass(frozen=True)
class Place:
    """One place the lookup considers."""

    source: str  # "--config", "BULKEDIT_CONFIG", "current folder", "user config"
    path: Path | None  # None: nothing named there (no flag, the variable unset)
    state: str  # "used", "not found", "not set", "not looked at (an earlier one won)"

    def as_dict(self) -> dict[str, str | None]:
        return {"source": self.source, "path": str(self.path) if self.path else None,
                "state": self.state}


@dataclass(frozen=True)
class Lookup:
    """The file the settings come from (None: none, the defaults hold) and the places."""

    path: Path | None
    why: str
    places: tuple[Place, ...]

    def as_dict(self) -> dict[str, object]:
        return {"file": str(self.path) if self.path else None, "why": self.why,
                "looked_at": [place.as_dict() for place in self.places]}


def _xdg(environ: Mapping[str, str]) -> str:
    """$XDG_CONFIG_HOME, when it is set to an absolute path ("" otherwise: the spec says a
    relative one is to be ignored)."""
    base = environ.get("XDG_CONFIG_HOME", "")
    return base if base and os.path.isabs(base) else ""


def user_config(environ: Mapping[str, str]) -> Path:
    """$XDG_CONFIG_HOME/bulkedit/bulkedit.toml, or ~/.config/bulkedit/bulkedit.toml."""
    base = _xdg(environ)
    if not base:
        home = environ.get("HOME") or str(Path.home())
        base = os.path.join(home, ".config")
    return Path(base) / "bulkedit" / FILE_NAME


def find_config(flag: Path | None, environ: Mapping[str, str] | None = None,
                cwd: Path | None = None) -> Lookup:
    """The settings file to read, by the one order above; UsageError (exit 2) when a file
    named by --config or BULKEDIT_CONFIG does not exist."""
    env = os.environ if environ is None else environ
    folder = Path.cwd() if cwd is None else cwd
    named = env.get(CONFIG_ENV, "").strip()
    candidates: list[tuple[str, Path | None, bool, str]] = [
        ("--config", flag, True, "given with --config"),
        (CONFIG_ENV, Path(os.path.expanduser(named)) if named else None, True,
         f"named by the environment variable {CONFIG_ENV}"),
        ("current folder", folder / FILE_NAME, False, f"{FILE_NAME} in the current folder"),
        ("user config", user_config(env), False,
         "the user's settings, in $XDG_CONFIG_HOME/bulkedit" if _xdg(env) else
         "the user's settings, in ~/.config/bulkedit (XDG_CONFIG_HOME is not set)"),
    ]
    places: list[Place] = []
    chosen: tuple[Path, str] | None = None
    for source, path, must_exist, why in candidates:
        if chosen is not None:
            places.append(Place(source, path, "not looked at (an earlier one won)"))
            continue
        if path is None:
            places.append(Place(source, None, "not set"))
            continue
        if path.is_file():
            chosen = (path, why)
            places.append(Place(source, path, "used"))
            continue
        if must_exist:
            what = "--config" if source == "--config" else f"{CONFIG_ENV}={named}"
            hint = "is a folder" if path.is_dir() else "does not exist"
            fix = ("give the settings file's path" if source == "--config" else
                   f"fix the path, or unset {CONFIG_ENV} to use ./{FILE_NAME} or the user's "
                   "settings")
            raise UsageError(f"{what}: {path} {hint}; {fix}")
        places.append(Place(source, path, "not found"))
    if chosen is None:
        return Lookup(None, "no settings file found: the defaults hold", tuple(places))
    return Lookup(chosen[0], chosen[1], tuple(places))
