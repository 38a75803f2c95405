"""A sheet's rows routed to their accounts (core/routing.py's rules over the `#account`
column): one decision per distinct cell, Python touching a row only when its cell is
refused, so a million rows cost one dictionary encoding."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from bulkedit.core.routing import ACCOUNT_COLUMN, Route, Routing, is_account_column, route
from bulkedit.core.sheet import Sheet
from bulkedit.core.types import Issue


@dataclass(frozen=True)
class RowRoutes:
    """Each row's route: `routes[indices[position]]`, or `routes[0]` for every row when
    the sheet has no `#account` column (`indices` None)."""

    routes: tuple[Route, ...]
    indices: pa.Array | None = None
    column: str | None = None  # the `#account` header as written
    _length: int = field(default=0, repr=False)  # the sheet's rows

    def of(self, position: int) -> Route:
        if self.indices is None:
            return self.routes[0]
        index: int = self.indices[position].as_py()
        return self.routes[index]

    def awaiting_owner(self) -> list[int]:
        """The positions of the rows the owner lookup routes (core/owner_routing.py)."""
        return sorted(position for account, positions in self._by_route().items()
                      if self.routes[account].by == "owner" for position in positions)

    def _by_route(self) -> dict[int, list[int]]:
        if self.indices is None:
            return {0: list(range(self._length))}
        return {index: pc.indices_nonzero(pc.equal(self.indices, index)).to_pylist()
                for index in range(len(self.routes))}

    def rerouted(self, decided: Mapping[int, Route]) -> RowRoutes:
        """These routes with the rows at `decided`'s positions routed as it says."""
        distinct = list(self.routes)
        index_of = {one: i for i, one in enumerate(distinct)}
        rows = (self.indices.to_pylist() if self.indices is not None
                else [0] * self._length)
        for position, one in decided.items():
            if one not in index_of:
                index_of[one] = len(distinct)
                distinct.append(one)
            rows[position] = index_of[one]
        return RowRoutes(tuple(distinct), pa.array(rows, pa.int32()), self.column,
                         self._length)

    def positions(self) -> dict[str | None, list[int]]:
        """Each account's row positions, in sheet order (None: the rows reaching none)."""
        if self.indices is None:
            return {self.routes[0].account: list(range(self._length))}
        found: dict[str | None, list[int]] = {}
        for index, one in enumerate(self.routes):  # one pass per distinct cell
            rows = pc.indices_nonzero(pc.equal(self.indices, index)).to_pylist()
            found.setdefault(one.account, []).extend(rows)
        return {account: sorted(rows) for account, rows in found.items()}

    def counts(self, excluded: Iterable[int] = ()) -> dict[str, int]:
        """Rows per account, those at `excluded` positions left out (invalid, skipped)."""
        left_out = set(excluded)
        if self.indices is None:
            rows = self._length - len(left_out)
            one = self.routes[0].account
            return {one: rows} if one is not None and rows > 0 else {}
        indices = self.indices
        if left_out:
            keep = [True] * len(indices)
            for position in left_out:
                keep[position] = False
            indices = indices.filter(pa.array(keep))
        counts: dict[str, int] = {}
        for entry in pc.value_counts(indices).to_pylist():  # one per distinct cell
            account = self.routes[entry["values"]].account
            if account is not None:
                counts[account] = counts.get(account, 0) + entry["counts"]
        first = {r.account: i for i, r in reversed(list(enumerate(self.routes)))}
        return dict(sorted(counts.items(), key=lambda item: first[item[0]]))


def check_routes(sheet: Sheet, routing: Routing
                 ) -> tuple[RowRoutes, list[Issue], set[int], list[Issue]]:
    """The routes, the row problems, the positions they make invalid, and the header
    problems (two `#account` columns; no column while no row can reach an account)."""
    columns = [c for c in sheet.columns if is_account_column(c.header)]
    header: list[Issue] = []
    if len(columns) > 1:
        header.append(Issue(sheet.header_row, columns[1].header, columns[1].header,
                            "two_account_columns",
                            f"the sheet has {len(columns)} {ACCOUNT_COLUMN} columns ("
                            + ", ".join(f"{c.letter}" for c in columns)
                            + "); keep one: each row goes through one account"))
    if not columns:
        only = route("", routing)
        if only.account is None and only.code is not None:
            header.append(Issue(sheet.header_row, "", "", "no_account",
                                "no row of this sheet reaches an account: "
                                + only.message.split(": ", 1)[1]))
        return RowRoutes((only,), _length=len(sheet)), [], set(), header
    column = columns[0]
    encoded = pc.dictionary_encode(column.values.combine_chunks())
    distinct = [route(text or "", routing) for text in encoded.dictionary.to_pylist()]
    issues: list[Issue] = []
    invalid: set[int] = set()
    indices = encoded.indices
    for index, one in enumerate(distinct):
        if one.code is None:
            continue
        cell = encoded.dictionary[index].as_py() or ""
        for position in pc.indices_nonzero(pc.equal(indices, index)).to_pylist():
            issues.append(Issue(sheet.row_numbers[position], column.header, cell.strip(),
                                one.code, one.message))
            invalid.add(position)
    return RowRoutes(tuple(distinct), indices, column.header, len(sheet)), issues, invalid, \
        header
