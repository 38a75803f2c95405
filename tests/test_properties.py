"""Properties over arbitrary input: the loader and validator never crash, and every sheet
bulkedit writes reads back to the same values (Excel-safe cells included)."""

from __future__ import annotations

import csv
import io
from datetime import UTC
from pathlib import Path

import xlsxwriter
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bulkedit.core.errors import LoadError
from bulkedit.core.schema import FIELDS
from bulkedit.core.types import Issue
from bulkedit.core.validation import validate
from bulkedit.sheets.load import load_sheet
from bulkedit.sheets.report import write_table

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
HEADERS = st.one_of(st.sampled_from(["video_id", "id", "url", "# note", "", *FIELDS]),
                    st.text(max_size=12))
CELLS = st.one_of(st.text(max_size=40), st.sampled_from(
    ["[]", "+a, -b", "true", "x8abc12", "https://dai.ly/x8abc12", "2026-12-01", "deny, fr",
     "=1+2", "'=x", '"', "a,b,c", "1e400", "-0", "\t"]))
TABLES = st.integers(1, 6).flatmap(lambda width: st.tuples(
    st.lists(HEADERS, min_size=width, max_size=width),
    st.lists(st.lists(CELLS, min_size=width, max_size=width), max_size=8)))


def _check(source: bytes | Path, name: str) -> None:
    try:
        sheet = load_sheet(io.BytesIO(source) if isinstance(source, bytes) else source,
                           name=name)
    except LoadError as error:
        assert str(error).startswith(name)
        return
    result = validate(sheet)
    assert all(isinstance(issue, Issue) for issue in result.issues)
    assert len(list(result.rows())) == result.valid_count


@SETTINGS
@given(TABLES)
# A row both invalid and a duplicate of another: valid_count once subtracted it twice (-1
# valid rows). Hypothesis finds this only now and then, so it is always tried (issue 17).
@example((["video_id", "private"], [["x8abc12", "maybe"], ["x8abc12", "maybe"]]))
def test_fuzz_csv(table):
    headers, rows = table
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(headers)
    writer.writerows(rows)
    for encoding in ("utf-8", "utf-16"):
        try:
            data = text.getvalue().encode(encoding)
        except UnicodeEncodeError:
            continue
        _check(data, "fuzz.csv")


@SETTINGS
@given(TABLES)
def test_fuzz_xlsx(tmp_path, table):
    headers, rows = table
    path = tmp_path / "fuzz.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    for r, row in enumerate([headers, *rows]):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value)
    book.close()
    _check(path, str(path))


# Text XML can hold, as the XLSX case needs; CSV takes everything.
XML_TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\r"
                                 + "".join(map(chr, [*range(0, 9), 11, 12, *range(14, 32)]))))


def _write_bulkedit_csv(kind: str, path: Path, values: list[str]) -> list[str]:
    """Write `values` as the title column of one of bulkedit's own CSVs; the titles that a
    load must give back."""
    from types import SimpleNamespace

    import pyarrow as pa

    from bulkedit.core.planning import FieldDiff, rollback_cell
    from bulkedit.sheets.load import load_table
    from bulkedit.sheets.report import write_issues, write_results, write_rollback

    ids = [f"x{i:06d}" for i in range(len(values))]
    if kind == "results":  # the input rows as they were, plus the result columns
        sheet = load_table(pa.table({"video_id": ids, "title": values}))
        outcome = SimpleNamespace(status="failed", error_class="permanent", error="=no",
                                  http_status=400, changed_fields=(), attempts=1)
        write_results(path, sheet, [outcome] * len(values))
        return values
    if kind == "rollback":
        diffs = [FieldDiff("title", value, "new") for value in values]
        write_rollback(path, [SimpleNamespace(video_id=i, diffs=[d])
                              for i, d in zip(ids, diffs, strict=True)])
        return [rollback_cell(d) or "" for d in diffs]
    write_issues(path, [Issue(2, "title", value, "type", "=bad") for value in values])
    return values


@SETTINGS
# (A problems report is for people: it has no video_id column and is never a sheet to send,
# so a value such as "video" on its row may well be taken for a header.)
@given(st.sampled_from(["results", "rollback"]),
       st.lists(st.text(st.characters(exclude_categories=("Cs",))), min_size=1, max_size=10))
@example("rollback", ["\x1f\x1f\x1f\x08"] * 4)  # once taken for a binary file
@example("rollback", ["'+summer", "=1+2", "'Allo", '="007"', "#N/A", "-80s"])
@example("results", ["'+summer", "=1+2", "'Allo", '="007"', "''#N/A", "-80s"])
def test_bulkedit_csvs_read_back_the_same(tmp_path, kind, values):
    # Every CSV bulkedit writes reads back as the values written, with no warning: its
    # apostrophes are its own Excel escapes (report.py), unlike a user's (issue 25).
    path = tmp_path / f"out.{kind}.csv"
    expected = _write_bulkedit_csv(kind, path, values)
    sheet = load_sheet(path)
    column = "value" if kind == "problems" else "title"
    # (a rollback sheet has no title column when no title could be restored)
    assert [sheet.row(i).get(column, "") for i in range(len(sheet))] == expected
    assert not [i for i in sheet.issues if i.code in ("csv_apostrophe", "excel_text_formula")]


@SETTINGS
@given(st.lists(XML_TEXT, min_size=1, max_size=10))
def test_xlsx_written_reads_back_the_same(tmp_path, values):
    path = tmp_path / "out.xlsx"
    write_table(path, ["video_id", "title"], [[f"x{i:06d}", v] for i, v in enumerate(values)],
                text_columns=("video_id",))
    sheet = load_sheet(path)
    # Outer white space may not survive XML (openpyxl marks xml:space="preserve" only for
    # some), and the sheet grammar trims it anyway: the cells must agree inside it.
    expected = [v.strip() for v in values]
    assert [sheet.row(i)["title"].strip() for i in range(len(sheet))] == expected


@SETTINGS
@given(st.lists(st.text(min_size=1).map(lambda t: "=+-@\t\r"[len(t) % 6] + t), min_size=1,
                max_size=5))
def test_no_written_cell_starts_a_formula(tmp_path, values):
    path = tmp_path / "risky.csv"
    write_table(path, ["video_id", "title"], [["x000001", v] for v in values])
    with path.open(encoding="utf-8-sig", newline="") as handle:
        cells = [row[1] for row in list(csv.reader(handle))[1:]]
    assert all(c.startswith("'") for c in cells)
    xlsx = tmp_path / "risky.xlsx"
    write_table(xlsx, ["video_id", "title"], [["x000001", v] for v in values])
    import openpyxl

    sheet = openpyxl.load_workbook(xlsx).active
    assert all(c.data_type == "s" for row in sheet.iter_rows(min_row=2) for c in row)


@SETTINGS
@given(st.lists(st.one_of(
    st.tuples(st.integers(1900, 2100), st.integers(0, 13), st.integers(0, 32),
              st.integers(0, 25), st.integers(0, 61), st.integers(0, 61),
              st.sampled_from(["Z", "+01:00", "-05:30", "+23:59", "+24:00", "-00:00"]),
              st.sampled_from(["T", " "])).map(
        lambda p: f"{p[0]:04d}-{p[1]:02d}-{p[2]:02d}{p[7]}{p[3]:02d}:{p[4]:02d}:{p[5]:02d}{p[6]}"),
    st.text(max_size=30)), min_size=1, max_size=30))
def test_vectorised_dates_agree_with_the_grammar(texts):
    import pyarrow as pa

    from bulkedit.core.cells import parse_date
    from bulkedit.core.validation import _iso_seconds

    for text, quick in zip(texts, _iso_seconds(pa.array(texts)), strict=True):
        if quick is not None:
            assert quick == parse_date(text, UTC)[0], text
