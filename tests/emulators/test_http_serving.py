"""A small HTTP handler served from a daemon thread: started, answering, stopped."""

from __future__ import annotations

from http import server as http_server

import pytest
import requests

from emulators import http_serving


class Hello(http_server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "5")
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_serves_until_stopped() -> None:
    server = http_serving.HttpServer("greeter", Hello)
    with pytest.raises(RuntimeError, match="the greeter is not started"):
        server.port  # noqa: B018 (the property raises)

    server.start()
    server.start()  # a second start is harmless
    port = server.port
    assert requests.get(f"http://127.0.0.1:{port}/", timeout=5).text == "hello"

    server.stop()
    server.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/", timeout=5)
