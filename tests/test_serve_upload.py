"""`bulkedit serve`'s upload: streamed under a byte cap counted as it arrives (never from
Content-Length), stored by its SHA-256 and never by the browser's file name, and read by
the loader `bulkedit validate` uses, with the same limits and refusals."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from serving import Served, run

from bulkedit.cli.main import main

BOUNDARY = "bulkeditboundary"
DATA = Path(__file__).parent / "data"


def _multipart(name: str, data: bytes) -> tuple[bytes, bytes]:
    head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"sheet\"; "
            f"filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n").encode()
    return head, f"\r\n--{BOUNDARY}--\r\n".encode()


async def _chunked_upload(served: Served, data: bytes) -> int:
    """The sheet sent chunked: no Content-Length for the server to look at."""
    head, tail = _multipart("edits.csv", data)

    async def body():
        yield head
        for start in range(0, len(data), 4096):
            yield data[start:start + 4096]
        yield tail

    answer = await served.client.post(
        "/uploads", data=body(), allow_redirects=False,
        headers=served.page_headers(**{"Content-Type":
                                       f"multipart/form-data; boundary={BOUNDARY}"}))
    assert "Content-Length" not in answer.request_info.headers
    return answer.status


def test_the_cap_is_counted_while_streaming(tmp_path):
    cap = 10_000
    sheet = b"video_id,title\n" + b"x800000,t\n" * ((cap - 15) // 10)
    sheet += b"x" * (cap - len(sheet))
    assert len(sheet) == cap

    async def test(served: Served) -> None:
        await served.sign_in()
        assert await _chunked_upload(served, sheet + b"\n") == 413  # one byte past the cap
        assert served.stored() == []  # nothing kept, not even a partial file
        assert served.state.uploads == []
        assert await _chunked_upload(served, sheet) == 303  # the cap itself is taken
        assert served.stored() == [hashlib.sha256(sheet).hexdigest()]

    run(tmp_path, test, max_upload=cap)


def test_a_large_upload_is_refused_with_413_and_leaves_nothing(tmp_path):
    async def test(served: Served) -> None:
        await served.sign_in()
        answer = await served.upload("big.csv", b"video_id\n" + b"x800000\n" * 200_000)
        assert answer.status == 413
        assert "nothing of it was kept" in await answer.text()
        assert served.stored() == []

    run(tmp_path, test, max_upload=100_000)


def test_a_sheet_is_stored_by_its_hash_never_by_its_name(tmp_path):
    sheet = b"video_id,title\nx800000,New title\n"

    async def test(served: Served) -> None:
        await served.sign_in()
        for name in ("../../escape.csv", "/etc/passwd", "<b>x</b>/../y.csv", ".bashrc"):
            head, tail = _multipart(name, sheet)  # the name raw, as a browser sends it
            answer = await served.client.post(
                "/uploads", data=head + sheet + tail, allow_redirects=False,
                headers=served.page_headers(**{"Content-Type":
                                               f"multipart/form-data; boundary={BOUNDARY}"}))
            assert answer.status == 303, name
        assert served.stored() == [hashlib.sha256(sheet).hexdigest()]
        journal = tmp_path / "state"  # the run journal: the audit trail's upload events
        assert sorted(p.name for p in tmp_path.rglob("*")
                      if p.is_file() and journal not in p.parents) == [
            hashlib.sha256(sheet).hexdigest()]
        assert [u.label for u in served.state.uploads] == [
            "escape.csv", "passwd", "y.csv", ".bashrc"]
        stored = served.state.folder / "sheets" / served.stored()[0]
        assert stored.stat().st_mode & 0o777 == 0o600
        assert (served.state.folder / "sheets").stat().st_mode & 0o777 == 0o700

    run(tmp_path, test)


def _cli_refusal(path: Path, name: str) -> str:
    err = io.StringIO()
    assert main(["validate", str(path)], out=io.StringIO(), err=err) == 2
    line = err.getvalue().strip().removeprefix("bulkedit: error: ")
    return line.replace(str(path), name)


def test_a_file_the_cli_refuses_is_refused_with_the_same_words(tmp_path):
    bad = ["legacy.xls", "entity-bomb.xlsx", "password.xlsx", "empty.csv", "truncated.xlsx"]

    async def test(served: Served) -> None:
        await served.sign_in()
        for number, name in enumerate(bad, start=1):
            data = (DATA / "bad" / name).read_bytes()
            answer = await served.upload(name, data)
            assert answer.status == 303, name
            page = await (await served.client.get(f"/versions/{number}")).text()
            assert "This file cannot be read" in page, name
            expected = _cli_refusal(DATA / "bad" / name, name)
            import html

            assert html.escape(expected) in page, (name, expected)

    run(tmp_path, test)


class _EndlessPart:
    """A part that never ends (an upload without Content-Length that keeps coming)."""

    def __init__(self) -> None:
        self.read = 0

    async def read_chunk(self, size: int = 65536) -> bytes:
        self.read += 1
        assert self.read < 1000, "the upload was read past its cap"
        return b"x" * 1000


def test_the_upload_stops_being_read_at_the_cap(tmp_path):
    import asyncio

    import pytest

    from bulkedit.serve.upload import TooLarge, receive

    part = _EndlessPart()
    with pytest.raises(TooLarge):
        asyncio.run(receive(part, tmp_path, cap=5500))
    assert part.read == 6  # 6,000 bytes read: the first chunk past the cap, no more
    assert list(tmp_path.iterdir()) == []
