"""Server process: the benchmark site under the stdlib's WSGI server on a free port, a thread per
connection (or one request at a time with BENCH_SERVER=serial); `python -m
benchmarks.endpoint_server` prints the port once it is ready and stops on SIGTERM."""

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


def main() -> int:
    kind = Server if os.environ.get("BENCH_SERVER", "threaded") == "threaded" else SerialServer
    server = kind(("127.0.0.1", 0), QuietHandler)
    port = server.server_address[1]
    # The task endpoint checks that each token's audience is its own URL under this domain.
    os.environ["GCP_TASKS_DOMAIN"] = f"http://127.0.0.1:{port}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.site.settings")
    from django.core.wsgi import get_wsgi_application

    from controller import logs

    logs.configure(json=True, level=os.environ.get("BENCH_LOG_LEVEL", "INFO"))
    server.set_app(get_wsgi_application())
    signal.signal(
        signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start()
    )
    print(port, flush=True)
    server.serve_forever(poll_interval=0.1)
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
