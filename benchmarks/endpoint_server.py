"""Server process: the benchmark site under the stdlib's WSGI server on a free port, a thread per
connection (or one request at a time with BENCH_SERVER=serial); `python -m
benchmarks.endpoint_server` prints the port once it is ready and stops on SIGTERM.

Only the standard library at import: django-gcp's server (`django_gcp_endpoint_server`) runs the
same server classes in django-gcp's own environment, where this project is not installed."""

from __future__ import annotations

import os
import signal
import sys
import threading
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref import simple_server


class SerialServer(simple_server.WSGIServer):
    request_queue_size = 256  # the default 5 refuses connections under concurrent clients


class Server(ThreadingMixIn, SerialServer):
    daemon_threads = True


class QuietHandler(simple_server.WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # an access line per request would measure the terminal, not Django


def bind() -> SerialServer:
    """The server BENCH_SERVER names ("threaded", the default, or "serial") on a free port."""
    kind = Server if os.environ.get("BENCH_SERVER", "threaded") == "threaded" else SerialServer
    return kind(("127.0.0.1", 0), QuietHandler)


def serve(server: SerialServer, app: Any) -> int:
    """Serve `app`, print the port, and stop cleanly on SIGTERM."""
    server.set_app(app)
    signal.signal(
        signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start()
    )
    print(server.server_address[1], flush=True)
    server.serve_forever(poll_interval=0.1)
    server.server_close()
    return 0


def main() -> int:
    server = bind()
    # The task endpoint checks that each token's audience is its own URL under this domain.
    os.environ["GCP_TASKS_DOMAIN"] = f"http://127.0.0.1:{server.server_address[1]}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.site.settings")
    from django.core.wsgi import get_wsgi_application

    from controller import logs

    logs.configure(json=True, level=os.environ.get("BENCH_LOG_LEVEL", "INFO"))
    app = get_wsgi_application()
    if os.environ.get("BENCH_RECORD") == "1":
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", interactive=False, verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=WAL")  # kept by the file: set once
    return serve(server, app)


if __name__ == "__main__":
    sys.exit(main())
