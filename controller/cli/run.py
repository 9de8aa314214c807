"""`gcp-tasks-controller run`: the long-running controller.

With `--registry` it runs without Kubernetes: the engine's loop (`looping.Loop`) reconciles the
sources as soon as one changes and at least every `--resync-seconds`; this command adds
`/metrics` and `/healthz` and stops cleanly on SIGTERM/SIGINT.
Without `--registry` it starts the kopf operator (`controller.operator.running.run_operator`).
"""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import structlog

from controller import metrics
from controller.cli import exits, options
from controller.engine import looping, reconciling
from controller.gcp import clients, errors
from controller.operator import running
from controller.sources import watching

log = structlog.get_logger()

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
        type=options.positive,
        default=DEFAULT_RESYNC_SECONDS,
        metavar="N",
        help="full pass at least this often, even when no source changed "
        f"(default {DEFAULT_RESYNC_SECONDS:g})",
    )
    parser.add_argument(
        "--poll-seconds",
        type=options.positive,
        default=looping.POLL_SECONDS,
        metavar="N",
        help=argparse.SUPPRESS,
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
        type=_configmap_reference,
        help="the controller's own ConfigMap whose timer resyncs registry ConfigMaps",
    )
    parser.set_defaults(execute=execute)


def _configmap_reference(text: str) -> str:
    try:
        running.namespace_and_name(text)
    except ValueError as error:  # refused with the usage line, not found when the operator starts
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


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
    loop = looping.Loop(
        watch,
        reconciler,
        resync_seconds=args.resync_seconds,
        poll_seconds=args.poll_seconds,
        on_pass=metrics.record_pass,
        on_poll=lambda watched: metrics.INVALID_SOURCES.set(len(watched.errors)),
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


def _servers(args: argparse.Namespace, loop: looping.Loop) -> list[metrics.Server]:
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
