"""`bulkedit serve`'s pages: problems first, with validate's problems, codes and counts; the
rows a page at a time, all or only those with problems; every value escaped; no secret."""

from __future__ import annotations

import io
import json
from html.parser import HTMLParser
from pathlib import Path

from serving import Served, run

from bulkedit.cli.main import main

SAMPLES = Path(__file__).parent.parent / "samples"


class _Page(HTMLParser):
    """The tags of a page, and the problems and counts it shows (data-* attributes)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.problems: list[tuple[int, str, str]] = []
        self.counts: dict[str, int] = {}
        self.rows: list[int] = []
        self._count: str | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        self.tags.append((tag, found))
        if tag == "li" and "data-code" in found:
            self.problems.append((int(found["data-row"]), found["data-column"] or "",
                                  found["data-code"]))
        if tag == "tr" and "data-row" in found:
            self.rows.append(int(found["data-row"]))
        self._count = found.get("data-count") if tag in ("dd", "td") else None

    def handle_data(self, data):
        if self._count is not None and data.strip():
            self.counts[self._count] = int(data.replace(",", ""))
            self._count = None


async def _pages(served: Served, number: int, only: bool = False) -> list[_Page]:
    pages, index = [], 1
    while True:
        query = f"?{'only=problems&' if only else ''}page={index}"
        answer = await served.client.get(f"/versions/{number}{query}")
        assert answer.status == 200
        pages.append(_Page(await answer.text()))
        if not any(tag == "a" and attrs.get("rel") == "next" for tag, attrs in pages[-1].tags):
            return pages
        index += 1


def _validate_json(path: Path) -> dict:
    out = io.StringIO()
    main(["validate", str(path), "--json"], out=out, err=io.StringIO())
    return json.loads(out.getvalue())


def _row_problems_sheet(path: Path) -> Path:
    rows = ["video_id,title,channel,private,tags"]
    for n in range(120):
        vid = f"x8{n:05d}"
        if n % 10 == 3:
            rows.append(f"{vid},Title {n},sprot,maybe,a")  # two problems
        elif n % 10 == 7:
            rows.append(f"X8{n:05d},Title {n},news,yes,b")  # an id in capitals
        else:
            rows.append(f"{vid},Title {n},news,no,c")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_the_page_shows_validate_s_problems_codes_and_counts(tmp_path):
    sheet = _row_problems_sheet(tmp_path / "rows.csv")
    cli = _validate_json(sheet)

    async def test(served: Served) -> None:
        await served.sign_in()
        assert (await served.upload("rows.csv", sheet.read_bytes())).status == 303
        for only in (True, False):
            pages = await _pages(served, 1, only)
            shown = [p for page in pages for p in page.problems]
            assert sorted(shown) == sorted((p["row"], p["column"], p["code"])
                                           for p in cli["problems"])
            first = pages[0].counts
            for name in ("rows", "valid", "invalid", "errors", "warnings"):
                assert first[name] == cli["counts"][name], name
            codes = {}
            for p in cli["problems"]:
                codes[p["code"]] = codes.get(p["code"], 0) + 1
            assert {k: v for k, v in first.items() if k in codes} == codes

    run(tmp_path, test)


def test_header_problems_come_first_and_block_the_rows(tmp_path):
    sheet = SAMPLES / "broken.csv"
    cli = _validate_json(sheet)
    header = [(p["row"], p["column"], p["code"]) for p in cli["problems"] if p["row"] == 1]
    assert cli["counts"]["header_errors"] == len(header) > 0

    async def test(served: Served) -> None:
        await served.sign_in()
        await served.upload("broken.csv", sheet.read_bytes())
        text = await (await served.client.get("/versions/1")).text()
        page = _Page(text)
        assert page.problems == header
        assert page.rows == []  # no row is shown while the header blocks them
        assert f"{len(header)} problems in the header row (row 1) block the whole sheet" in text
        assert page.counts["errors"] == cli["counts"]["errors"]

    run(tmp_path, test)


def test_rows_come_a_page_at_a_time_and_the_filter_keeps_the_rows_with_problems(tmp_path):
    sheet = _row_problems_sheet(tmp_path / "rows.csv")

    async def test(served: Served) -> None:
        await served.sign_in()
        await served.upload("rows.csv", sheet.read_bytes())
        pages = await _pages(served, 1)
        assert [len(p.rows) for p in pages] == [50, 50, 20]
        assert [r for p in pages for r in p.rows] == list(range(2, 122))  # Excel's numbers
        only = await _pages(served, 1, only=True)
        assert len(only) == 1
        assert only[0].rows == [n + 2 for n in range(120) if n % 10 in (3, 7)]
        last = _Page(await (await served.client.get("/versions/1?page=99")).text())
        assert last.rows == list(range(102, 122))  # past the end: the last page

    run(tmp_path, test)


HOSTILE = ("<script>alert(1)</script>", "<img src=x onerror=alert(2)>",
           "\"><svg onload=alert(3)>", "</textarea><iframe src=//evil.example>",
           "{{ 7*7 }}", "javascript:alert(4)")


def test_every_page_escapes_what_it_shows(tmp_path):
    cells = [f'"{h.replace(chr(34), chr(34) * 2)}"' for h in HOSTILE]
    rows = ("video_id,title,description,channel," + f'"#{HOSTILE[2]}"' + "\n"
            + "".join(f"x80000{n},{c},{c},{c},{c}\n" for n, c in enumerate(cells))
            + f"{cells[1]},t,d,news,x\n")  # a hostile id: a row problem quoting it
    header = "video_id," + ",".join(cells[:3]) + "\nx800001,a,b,c\n"  # unknown columns
    name = "<img src=x onerror=alert(5)>.csv"

    async def test(served: Served) -> None:
        await served.sign_in()
        assert (await served.upload(name, rows.encode())).status == 303
        assert (await served.upload(name, header.encode())).status == 303
        assert (await served.upload(name.replace(".csv", ".xlsx"), b"PK\x03\x04<script>")
                ).status == 303  # refused by the loader: its message names the file
        answers = [await served.client.get(path) for path in (
            "/", "/versions/1", "/versions/1?only=problems", "/versions/2", "/versions/3")]
        for answer in answers:
            page = await answer.text()
            parsed = _Page(page)
            tags = {tag for tag, _ in parsed.tags}
            assert tags <= {"html", "head", "meta", "title", "link", "script", "body",
                            "header", "a", "span", "main", "h1", "h2", "p", "code", "form",
                            "label", "input", "button", "table", "thead", "tbody", "tr",
                            "th", "td", "section", "dl", "dt", "dd", "ul", "li", "q", "nav",
                            "strong", "footer", "h3", "blockquote", "textarea", "del",
                            "ins", "b", "em"}, answer.url
            scripts = [attrs for tag, attrs in parsed.tags if tag == "script"]
            assert scripts == [{"src": "/static/app.js", "defer": None}]
            assert not [(tag, a) for tag, attrs in parsed.tags for a in attrs
                        if a.startswith("on")]
        version = await answers[1].text()
        assert len(_Page(version).rows) == 7 and _Page(version).problems  # rows were shown
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in version  # shown, as text
        assert "{{ 7*7 }}" in version  # a cell is never a template
        assert "&lt;img src=x onerror=alert(2)&gt;" in await answers[3].text()  # a header
        assert "&lt;img src=x onerror=alert(5)&gt;.xlsx" in await answers[4].text()

    run(tmp_path, test)


def test_a_password_is_masked_on_the_page(tmp_path):
    secret = "hunter2-page-secret"
    sheet = f"video_id,password,channel\nx800001,{secret},sprot\nx800002,{secret}x,news\n"

    async def test(served: Served) -> None:
        await served.sign_in()
        await served.upload("p.csv", sheet.encode())
        for path in ("/versions/1", "/versions/1?only=problems"):
            page = await (await served.client.get(path)).text()
            assert secret not in page
            assert "***" in page

    run(tmp_path, test)


def test_no_secret_in_any_page(tmp_path, monkeypatch):
    monkeypatch.setenv("DAILYMOTION_API_KEY", "key-that-must-not-show")
    monkeypatch.setenv("DAILYMOTION_API_SECRET", "secret-that-must-not-show")
    sheet = _row_problems_sheet(tmp_path / "rows.csv")

    async def test(served: Served) -> None:
        secrets = ["key-that-must-not-show", "secret-that-must-not-show",
                   *served.tokens.values()]
        answers = [await served.client.get("/")]
        await served.sign_in("ana")
        secrets.append(served.session())
        answers.append(await served.upload("rows.csv", sheet.read_bytes()))
        for path in ("/", "/versions/1", "/versions/1?only=problems&page=1", "/static/app.js",
                     "/static/style.css", "/versions/7", "/nowhere"):
            answers.append(await served.client.get(path, allow_redirects=False))
        answers.append(await served.client.get("/", headers={"Host": "evil.example"}))
        answers.append(await served.upload("x.csv", b"x", headers={"Origin": "null"}))
        for answer in answers:
            seen = (await answer.text()) + "".join(
                f"{k}: {v}\n" for k, v in answer.headers.items())
            for secret in secrets:
                assert secret not in seen, (answer.url, answer.status)

    run(tmp_path, test)


def test_the_problems_download_is_validate_s_report(tmp_path):
    sheet = _row_problems_sheet(tmp_path / "rows.csv")
    report = tmp_path / "problems.csv"
    assert main(["validate", str(sheet), "--report", str(report)], out=io.StringIO(),
                err=io.StringIO()) == 1

    async def test(served: Served) -> None:
        await served.sign_in()
        await served.upload("rows.csv", sheet.read_bytes())
        page = await (await served.client.get("/versions/1")).text()
        assert 'href="/versions/1/problems.csv"' in page
        answer = await served.client.get("/versions/1/problems.csv")
        assert answer.status == 200
        assert "attachment" in answer.headers["Content-Disposition"]
        assert await answer.read() == report.read_bytes()
        assert [p.name for p in served.state.folder.iterdir()] == ["sheets"]  # nothing left

    run(tmp_path, test)
