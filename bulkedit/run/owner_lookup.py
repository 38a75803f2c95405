"""The owner lookup (issue 30, point 2, third rule), the I/O around core/owner_routing.py:
the owners of the rows nothing else routes, read in batches before anything is written
and before the confirmation; each row then goes through the account listing its owner.

Which key reads: the default account's, else the first configured account's. A video's
owner is public metadata that any key may read (`GET /videos?ids=…&fields=id,owner`, up to
100 ids a call, as the planner reads), so one key does it: one token, and the reads taken
from one account's rate, the one the configuration names first for rows nothing routes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from bulkedit.client.connect import connect
from bulkedit.client.fetch import read_current
from bulkedit.core.errors import RunAborted
from bulkedit.core.owner_routing import OWNER_FIELD, channel_accounts, owner_route
from bulkedit.core.routing import Route, Routing
from bulkedit.core.schema import ID_COLUMN
from bulkedit.core.types import Issue
from bulkedit.core.validation import ValidationResult
from bulkedit.run.options import RunOptions


def reader_account(options: RunOptions) -> str:
    """The account whose key reads the owners."""
    routing, accounts = options.routing, options.accounts
    assert routing is not None and accounts is not None
    return routing.default_account or accounts.names()[0]


def decide(validation: ValidationResult, owners: dict[str, str | None], routing: Routing
           ) -> ValidationResult:
    """The validation with each awaiting row routed by its video's `owners` (None: not
    found), the rows no account owns invalid (pure)."""
    routes = validation.routes
    assert routes is not None
    sheet = validation.sheet
    positions = awaiting(validation)
    ids = validation.video_ids(positions)
    by_channel = channel_accounts(dict(routing.channels)) or {}
    decided: dict[int, Route] = {}
    issues: list[Issue] = []
    column = sheet.column(ID_COLUMN)
    id_header = column.header if column is not None else ID_COLUMN
    for position, video in zip(positions, ids, strict=True):
        one = owner_route(video, owners.get(video), by_channel, routing.fallback)
        decided[position] = one
        if one.code is not None:
            issues.append(Issue(sheet.row_numbers[position], id_header, video, one.code,
                                one.message))
    found = sorted([*validation.issues, *issues], key=lambda issue: issue.row)
    invalid = validation.invalid_rows | {p for p, one in decided.items() if one.code}
    return replace(validation, issues=found, invalid_rows=frozenset(invalid),
                   routes=routes.rerouted(decided))


def awaiting(validation: ValidationResult) -> list[int]:
    """The rows to send that wait for the owner lookup."""
    if validation.routes is None or validation.header_errors:
        return []
    left_out = validation.invalid_rows | validation.skipped_rows
    return [p for p in validation.routes.awaiting_owner() if p not in left_out]


async def route_by_owner(validation: ValidationResult, options: RunOptions,
                         credentials: Callable[[str], Any], sender: Any = None,
                         progress: Callable[[str, int, int, int], None] | None = None
                         ) -> tuple[ValidationResult, int]:
    """The validation with the awaiting rows routed, and the reads it took (0: no row
    waited). `credentials(name)`: the key of the account `name`."""
    positions = awaiting(validation)
    if not positions:
        return validation, 0
    name = reader_account(options)
    reader = options.for_account(name)
    ids = list(dict.fromkeys(validation.video_ids(positions)))
    async with connect(credentials(name), reader.api_base, reader.limits(),
                       max_elapsed=reader.max_elapsed,
                       breaker_threshold=reader.breaker_threshold,
                       sender=sender) as dispatcher:
        told = (lambda done, total, bad: progress("owners", done, total, bad)) \
            if progress is not None else None
        reading = await read_current(dispatcher, ids, [OWNER_FIELD], reader.batch_size, told)
    if not reading.complete or reading.failed:
        why = reading.aborted or next(iter(reading.failed.values()), "a read failed")
        raise RunAborted(f"the owners of the videos could not be read through the account "
                         f"{name} ({why}), so their rows cannot be routed; nothing was "
                         "sent. Try again, or write each row's account in an #account "
                         "column")
    owners: dict[str, str | None] = {}
    for video in ids:
        item = reading.live.get(video)
        owner = item.get(OWNER_FIELD) if item is not None else None
        owners[video] = str(owner) if owner else None
    assert options.routing is not None
    return decide(validation, owners, options.routing), reading.calls
