"""`gcp-tasks-controller run`: the long-running controller.

With `--registry` it runs without Kubernetes: it polls the sources about every second (cheap: a
stat of the file, a conditional GET of the URL), reconciles as soon as one changes and at least
every `--resync-seconds`, serves `/metrics` and `/healthz`, and stops cleanly on SIGTERM/SIGINT.
Without `--registry` it starts the kopf operator (`controller.operator.running.run_operator`).
"""

from __future__ import annotations

import argparse
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import structlog

from controller import metrics
from controller.cli import exits, options
from controller.engine import reconciling
from controller.gcp import clients, errors
from controller.operator import running
from controller.sources import watching

log = structlog.get_logger()

POLL_SECONDS = 1.0
DEFAULT_RESYNC_SECONDS = 60.0


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "run",
        help="run continuously (the kopf operator, or a loop over --registry sources)",
        description="Without --registry: the Kubernetes operator. With --registry: reconcile "
        "the sources now, whenever one changes, and every --resync-seconds.",
    )
    options.add_registry(parser, required=False)
    parser.add_argument(
        "--resync-seconds",
        type=float,
        default=DEFAULT_RESYNC_SECONDS,
        metavar="N",
        help="full pass at least this often, even when no source changed "
        f"(default {DEFAULT_RESYNC_SECONDS:g})",
    )
    parser.add_argument(
        "--poll-seconds", type=float, default=POLL_SECONDS, metavar="N", help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--metrics-port", type=int, default=9090, metavar="N", help="0: any free port"
    )
    parser.add_argument(
        "--health-port", type=int, default=8080, metavar="N", help="0: any free port"
    )
    parser.add_argument("--host", default="0.0.0.0", help="address to serve metrics and health on")
    options.add_policy(parser)
    options.add_logging(parser)
    operator = parser.add_argument_group("operator (without --registry)")
    operator.add_argument(
        "--namespace",
        action="append",
        default=[],
        metavar="NS",
        help="watch only this namespace (repeatable); default: the whole cluster",
    )
    operator.add_argument(
        "--peering",
        metavar="NAME",
        help="meet replicas in this (Cluster)KopfPeering; only one acts (default: standalone)",
    )
    operator.add_argument(
        "--priority", type=int, metavar="N", help="peering priority (default: random)"
    )
    operator.add_argument("--project", default="", help="default project for custom resources")
    operator.add_argument("--location", default="", help="default location for PeriodicTasks")
    operator.add_argument(
        "--resync-configmap",
        metavar="NS/NAME",
        help="the controller's own ConfigMap whose timer resyncs registry ConfigMaps",
    )
    parser.set_defaults(execute=execute)


class Loop:
    """Polls the sources and reconciles on change or resync; `healthy()` feeds `/healthz`."""

    def __init__(
        self,
        watch: watching.Watch,
        reconciler: reconciling.Reconciler,
        *,
        resync_seconds: float,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.watch = watch
        self.reconciler = reconciler
        self.resync_seconds = resync_seconds
        self.poll_seconds = poll_seconds
        self.passes = 0
        self.last_converged: bool | None = None
        self._beat = time.monotonic()
        self._last_pass_end: float | None = None

    def run(self, stop: threading.Event) -> None:
        due = 0.0  # the first pass is due at once
        while not stop.is_set():
            self._beat = time.monotonic()
            changed = self.watch.poll()
            metrics.INVALID_SOURCES.set(len(self.watch.errors))
            if changed or time.monotonic() >= due:
                try:
                    self.reconcile()
                except Exception:  # a bug must not end the controller: log it, try next time
                    log.exception("reconcile_crashed")
                due = time.monotonic() + self.resync_seconds
            stop.wait(self.poll_seconds)

    def reconcile(self) -> None:
        registries = self.watch.registries
        if not registries:
            # Nothing valid was ever read: planning nothing could only look like "delete all".
            log.warning(
                "reconcile_skipped", reason="no valid registry yet", sources=self.watch.errors
            )
            return
        report = self.reconciler.run_pass(registries)
        metrics.record_pass(report)
        self.passes += 1
        self.last_converged = report.converged
        self._last_pass_end = time.monotonic()

    def healthy(self) -> tuple[bool, dict[str, Any]]:
        # A pass can take minutes when many writes are rate limited; a loop silent for much
        # longer than that is stuck, and a restart is the cure.
        stale_after = max(300.0, 3 * self.resync_seconds)
        silent = time.monotonic() - self._beat
        details: dict[str, Any] = {
            "passes": self.passes,
            "last_pass_converged": self.last_converged,
            "invalid_sources": self.watch.errors,
        }
        if self._last_pass_end is not None:
            details["seconds_since_last_pass"] = round(time.monotonic() - self._last_pass_end, 1)
        return silent < stale_after, details


def execute(args: argparse.Namespace, stop: threading.Event | None = None) -> int:
    if not args.registry:
        return _run_operator(args)
    stop = stop or threading.Event()
    try:
        built = clients.Clients.from_environment()
    except errors.ApiError as error:
        log.error("connect_failed", reason=error.reason)
        return exits.FAILED
    watch = watching.Watch(args.registry)
    reconciler = reconciling.Reconciler(
        built, options.policy(args), writes_per_second=args.writes_per_second
    )
    loop = Loop(
        watch, reconciler, resync_seconds=args.resync_seconds, poll_seconds=args.poll_seconds
    )
    with ExitStack() as stack:
        stack.callback(built.close)
        stack.callback(watch.close)
        for server in _servers(args, loop):
            stack.callback(server.stop)
        stack.enter_context(_stop_on_signals(stop))
        log.info(
            "controller_started",
            sources=list(args.registry),
            resync_seconds=args.resync_seconds,
            policy=options.policy(args).orphans.value,
        )
        loop.run(stop)
    log.info("controller_stopped", passes=loop.passes)
    return exits.CONVERGED


def _servers(args: argparse.Namespace, loop: Loop) -> list[metrics.Server]:
    if args.metrics_port == args.health_port and args.metrics_port != 0:
        servers = [metrics.Server(args.host, args.metrics_port, health=loop.healthy)]
    else:
        servers = [
            metrics.Server(args.host, args.metrics_port),
            metrics.Server(args.host, args.health_port, metrics=False, health=loop.healthy),
        ]
    for server in servers:
        server.start()
    log.info(
        "serving",
        host=args.host,
        metrics_port=servers[0].port,
        health_port=servers[-1].port,
    )
    return servers


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM/SIGINT set `stop`; only the main thread may install handlers (tests run the loop
    in a thread and set `stop` themselves)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, frame: object) -> None:
        log.info("stop_requested", signal=signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run_operator(args: argparse.Namespace) -> int:
    """Start the kopf operator with the command line's options."""
    # kopf serves the health endpoint itself; the metrics registry is served here.
    server = None
    if args.metrics_port != args.health_port:
        server = metrics.Server(args.host, args.metrics_port).start()
    try:
        running.run_operator(
            policy=options.policy(args),
            writes_per_second=args.writes_per_second,
            resync_seconds=args.resync_seconds,
            liveness_endpoint=f"http://{args.host}:{args.health_port}/healthz",
            namespaces=args.namespace,
            peering_name=args.peering,
            priority=args.priority,
            project=args.project,
            location=args.location,
            resync_configmap=args.resync_configmap,
        )
    finally:
        if server is not None:
            server.stop()
    return exits.CONVERGED
