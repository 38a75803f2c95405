"""One event as one `key=value` line (logfmt): what the nightly job prints for people and
for `grep`/logfmt parsers, never a Python repr (issue 29, point 8). Pure.

    time=2026-12-07T02:00:01+00:00 event=sheet_done sheet=a.csv exit_code=0 counts.updated=2

A nested mapping is flattened with dots (`counts.updated=2`), a list is its items joined by
commas, None is left out (nothing to say), booleans are `true`/`false`. A value with a
space, a quote, `=`, a backslash or nothing in it is quoted, with `\\"`, `\\\\` and `\\n`
escapes; a control, bidi or zero-width character is shown as `\\uNNNN`, so no value can
drive the terminal or split the line.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from bulkedit.core.charclasses import visible

_PLAIN_REFUSED = set(' ="\\')


def line(facts: Mapping[str, Any]) -> str:
    """The facts as one logfmt line, in their order (without the newline)."""
    return " ".join(f"{key}={quoted(text)}" for key, text in _pairs("", facts))


def _pairs(prefix: str, facts: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for key, value in facts.items():
        name = f"{prefix}{_key(str(key))}"
        if value is None:
            continue
        if isinstance(value, Mapping):
            yield from _pairs(f"{name}.", value)
        else:
            yield name, _text(value)


def _key(key: str) -> str:
    """A key is one word: anything else in it becomes `_`."""
    return "".join(c if c.isalnum() or c in "_-." else "_" for c in key) or "_"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(_text(item) for item in value)
    return str(value)


def quoted(text: str) -> str:
    """`text` as a logfmt value: bare when it can be, else in double quotes."""
    shown = visible(text)
    if shown and not (_PLAIN_REFUSED & set(shown)) and not any(c in shown for c in "\n\r\t"):
        return shown
    escaped = (shown.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\r", "\\r").replace("\t", "\\t"))
    return f'"{escaped}"'
