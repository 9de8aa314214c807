"""Serving a small HTTP handler (the OIDC issuer's certificates, the Pub/Sub push signer) from a
daemon thread, started and stopped with its owner."""

from __future__ import annotations

import threading
from http import server as http_server


class HttpServer:
    """`handler` on host:port (0 = a free port) once started; `name` names the thread and errors."""

    def __init__(
        self,
        name: str,
        handler: type[http_server.BaseHTTPRequestHandler],
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.name = name
        self.host = host
        self._handler = handler
        self._requested_port = port
        self._server: http_server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"the {self.name} is not started")
        return int(self._server.server_address[1])

    def start(self) -> None:
        if self._server is not None:
            return
        self._server = http_server.ThreadingHTTPServer(
            (self.host, self._requested_port), self._handler
        )
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            # A short poll interval: shutdown() waits for one, and tests stop a server each.
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=self.name,
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None
