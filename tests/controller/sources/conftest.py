"""A local HTTP server serving one registry document with an ETag, counting 200s and 304s."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from http import server as http_server
from typing import Any

import pytest


class DocumentServer:
    def __init__(self) -> None:
        self.content = b""
        self.status = 200
        self.answers: list[int] = []
        server = self

        class Handler(http_server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                etag = '"' + hashlib.sha256(server.content).hexdigest()[:16] + '"'
                if server.status != 200:
                    status, body = server.status, b"nope"
                elif self.headers.get("If-None-Match") == etag:
                    status, body = 304, b""
                else:
                    status, body = 200, server.content
                server.answers.append(status)
                self.send_response(status)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = http_server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/registry.json"


@pytest.fixture
def document_server() -> Iterator[DocumentServer]:
    server = DocumentServer()
    server._thread.start()
    yield server
    server._server.shutdown()
    server._server.server_close()
    server._thread.join(timeout=5)
