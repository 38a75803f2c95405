"""A sheet's rows routed to their accounts (core/row_routes.py): one decision per distinct
#account cell, the refused rows at their cells, the counts of the rows to send."""

from __future__ import annotations

import pyarrow as pa

from bulkedit.core.routing import Routing
from bulkedit.core.row_routes import check_routes
from bulkedit.core.sheet import Column, Sheet

ROUTING = Routing(("brand_fr", "brand_de"), "brand_fr")


def sheet(*accounts: str, header: str = "#account") -> Sheet:
    ids = pa.chunked_array([pa.array([f"x8{i:05d}" for i in range(len(accounts))])])
    cells = pa.chunked_array([pa.array(list(accounts), pa.string())])
    return Sheet("s.csv", "csv", (Column("video_id", "video_id", "A", ids),
                                  Column(header, "#", "B", cells)),
                 tuple(range(2, len(accounts) + 2)))


def test_each_row_s_account_and_the_counts_in_first_seen_order():
    routes, issues, invalid, header = check_routes(
        sheet("brand_de", "", "brand_de", "brand_fr"), ROUTING)
    assert (issues, invalid, header) == ([], set(), [])
    assert [routes.of(i).account for i in range(4)] == ["brand_de", "brand_fr", "brand_de",
                                                       "brand_fr"]
    assert list(routes.counts().items()) == [("brand_de", 2), ("brand_fr", 2)]
    assert routes.counts({0, 2}) == {"brand_fr": 2}  # invalid or skipped rows left out


def test_a_refused_cell_is_an_issue_at_its_row_and_column():
    routes, issues, invalid, _ = check_routes(sheet("brand_fr", " brand_it ", "brand_it"),
                                              ROUTING)
    assert [(i.row, i.column, i.value, i.code) for i in issues] == [
        (3, "#account", "brand_it", "unknown_account"),
        (4, "#account", "brand_it", "unknown_account")]
    assert invalid == {1, 2} and routes.counts(invalid) == {"brand_fr": 1}


def test_no_column_takes_the_sheet_or_default_account_for_every_row():
    plain = Sheet("s.csv", "csv", (), (2, 3, 4))
    routes, issues, invalid, header = check_routes(plain, ROUTING)
    assert (issues, invalid, header) == ([], set(), [])
    assert routes.counts() == {"brand_fr": 3} and routes.counts({0}) == {"brand_fr": 2}
    _, _, _, header = check_routes(plain, Routing(("brand_fr", "brand_de")))
    assert [i.code for i in header] == ["no_account"]
