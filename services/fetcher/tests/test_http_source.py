"""The HTTP source against a real HTTP server on loopback that honours Range requests."""

import hashlib
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from relais_fetcher.adapters.http_source import HttpFileSource

PAYLOAD = os.urandom(2 * (1 << 20) + 17)
NAME = "etalab-cs1100507-stock-20261101-0332.csv"


class Handler(BaseHTTPRequestHandler):
    ranges: ClassVar[list[str]] = []

    def _headers(self, status: int, length: int, extra: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(length))
        self.send_header("Last-Modified", "Sun, 01 Nov 2026 03:32:00 GMT")
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()

    def do_HEAD(self) -> None:
        self._headers(200, len(PAYLOAD), {})

    def do_GET(self) -> None:
        wanted = self.headers.get("Range")
        if wanted:
            Handler.ranges.append(wanted)
            start = int(wanted.removeprefix("bytes=").rstrip("-"))
            body = PAYLOAD[start:]
            self._headers(
                206, len(body), {"Content-Range": f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}"}
            )
        else:
            body = PAYLOAD
            self._headers(200, len(body), {})
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/datasets/{NAME}"
    httpd.shutdown()


async def test_files_are_listed_and_a_partial_download_resumes(server: str, tmp_path: Path) -> None:
    source = HttpFileSource([server])
    [remote] = await source.list_files()
    assert remote.name == NAME and remote.size == len(PAYLOAD) and remote.mtime > 0
    partial = tmp_path / "part"
    partial.write_bytes(PAYLOAD[:1000])
    await source.download(remote, partial)
    assert hashlib.sha256(partial.read_bytes()).digest() == hashlib.sha256(PAYLOAD).digest()
    assert Handler.ranges == ["bytes=1000-"]
