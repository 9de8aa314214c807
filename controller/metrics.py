"""Prometheus metrics of the reconciler and the HTTP endpoint serving them (plus `/healthz`).

One registry for the process; `run` and the operator call `record_pass(report)` after each pass.
Outside the layers on purpose: entry points use it, the engine does not know about it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http import server as http_server
from typing import TYPE_CHECKING, Any

import prometheus_client

if TYPE_CHECKING:
    from controller.engine import reports

REGISTRY = prometheus_client.CollectorRegistry()

PASSES = prometheus_client.Counter(
    "gcptasks_reconcile_passes",
    "Reconcile passes, by result (converged, pending, failed) and dry run.",
    ["result", "dry_run"],
    registry=REGISTRY,
)
ACTIONS = prometheus_client.Counter(
    "gcptasks_reconcile_actions",
    "Planned actions by resource kind, verb and result (ok, failed, not_applied).",
    ["kind", "verb", "result"],
    registry=REGISTRY,
)
DRIFT = prometheus_client.Counter(
    "gcptasks_drift_detected",
    "Fields found different from the desired state, by resource kind and field.",
    ["kind", "field"],
    registry=REGISTRY,
)
API_CALLS = prometheus_client.Counter(
    "gcptasks_api_calls",
    "Requests sent to Google APIs (list pages, writes and retries).",
    ["type"],
    registry=REGISTRY,
)
API_ERRORS = prometheus_client.Counter(
    "gcptasks_api_errors",
    "Failed Google API requests, by error code (retried ones included).",
    ["code"],
    registry=REGISTRY,
)
PASS_DURATION = prometheus_client.Histogram(
    "gcptasks_reconcile_pass_duration_seconds",
    "Duration of reconcile passes.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
    registry=REGISTRY,
)
OWNED = prometheus_client.Gauge(
    "gcptasks_owned_resources",
    "Resources owned by the controller after the last pass, by kind.",
    ["kind"],
    registry=REGISTRY,
)
LAST_PASS = prometheus_client.Gauge(
    "gcptasks_last_pass_timestamp_seconds",
    "Unix time at which the last reconcile pass ended.",
    registry=REGISTRY,
)
INVALID_SOURCES = prometheus_client.Gauge(
    "gcptasks_registry_sources_invalid",
    "Registry sources currently unreadable or invalid (their last good state is in use).",
    registry=REGISTRY,
)


def record_pass(report: reports.PassReport) -> None:
    """Count one pass: its result, every action, every drifted field, its API calls and errors."""
    result = "failed" if report.failed else "converged" if report.converged else "pending"
    PASSES.labels(result=result, dry_run=str(report.dry_run).lower()).inc()
    for outcome in report.outcomes:
        action = outcome.action
        action_result = "failed" if not outcome.ok else "ok" if outcome.applied else "not_applied"
        ACTIONS.labels(kind=action.kind.value, verb=action.verb.value, result=action_result).inc()
        for drift in action.drift:
            DRIFT.labels(kind=action.kind.value, field=drift.field).inc()
    API_CALLS.labels(type="read").inc(report.api_calls - report.writes)
    API_CALLS.labels(type="write").inc(report.writes)
    for code, count in report.api_errors.items():
        API_ERRORS.labels(code=code).inc(count)
    PASS_DURATION.observe(report.duration)
    if report.scopes and not any(scope.error for scope in report.scopes):
        for kind, count in report.owned().items():
            OWNED.labels(kind=kind).set(count)
    LAST_PASS.set_to_current_time()


Health = Callable[[], tuple[bool, dict[str, Any]]]


class Server:
    """An HTTP server in a daemon thread: `/metrics` and/or `/healthz`; `port` is the bound one."""

    def __init__(
        self, host: str, port: int, *, metrics: bool = True, health: Health | None = None
    ) -> None:
        self._server = http_server.ThreadingHTTPServer((host, port), _handler(metrics, health))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"http-{port}", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> Server:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _handler(metrics: bool, health: Health | None) -> type[http_server.BaseHTTPRequestHandler]:
    class Handler(http_server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if metrics and path == "/metrics":
                self._send(200, prometheus_client.CONTENT_TYPE_LATEST, _exposition())
            elif health is not None and path in ("/healthz", "/livez", "/readyz"):
                ok, details = health()
                body = json.dumps({"status": "ok" if ok else "unhealthy", **details}).encode()
                self._send(200 if ok else 503, "application/json", body)
            else:
                self._send(404, "text/plain; charset=utf-8", b"not found\n")

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # scrapes and probes every few seconds would drown the reconcile logs

    return Handler


def _exposition() -> bytes:
    return prometheus_client.generate_latest(REGISTRY)
