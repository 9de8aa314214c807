"""`python -m emulators`: run every local service until Ctrl-C or SIGTERM.

Prints `export NAME=host:port` lines on stdout for a shell to eval; logs go to stderr.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

import structlog

from controller import logs
from emulators import pubsub, running

logger = structlog.get_logger()


LOG_CAPACITY = 10_000


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m emulators",
        description="Local Cloud Tasks, Cloud Scheduler, Pub/Sub and an OIDC issuer. "
        "Prints `export` lines for the client libraries; port 0 picks a free port.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--tasks-port", type=_port, default=0, help="Cloud Tasks gRPC port")
    parser.add_argument("--scheduler-port", type=_port, default=0, help="Cloud Scheduler gRPC port")
    parser.add_argument("--pubsub-port", type=_port, default=0, help="Pub/Sub emulator port")
    parser.add_argument("--oidc-port", type=_port, default=0, help="OIDC certificates port")
    parser.add_argument(
        "--tombstone-seconds",
        type=float,
        default=3600.0,
        help="how long a deleted or finished task name stays taken (Google: about an hour)",
    )
    parser.add_argument(
        "--no-pubsub", action="store_true", help="do not start Google's Pub/Sub emulator"
    )
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING, ...")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    logs.configure(level=args.log_level.upper())
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        services = running.start_all(
            host=args.host,
            tasks_port=args.tasks_port,
            scheduler_port=args.scheduler_port,
            pubsub_port=args.pubsub_port,
            oidc_port=args.oidc_port,
            tombstone_seconds=args.tombstone_seconds,
            with_pubsub=not args.no_pubsub,
            # Runs for days on a laptop: keep the newest requests only, not every one ever made.
            log_capacity=LOG_CAPACITY,
        )
    except (pubsub.EmulatorNotFound, pubsub.EmulatorFailed, OSError) as error:
        logger.error("emulators.failed_to_start", error=str(error))
        print(f"python -m emulators: {error}", file=sys.stderr)
        return 1
    with services:
        for line in services.exports():
            print(line)
        sys.stdout.flush()
        logger.info("emulators.ready", **services.environment())
        # Wake up now and then: a signal that lands on a server thread only runs its Python
        # handler when the main thread next runs, and a plain wait() might never return.
        while not stopping.wait(0.1):
            pass
        logger.info("emulators.stopping")
    logger.info("emulators.stopped")
    return 0


def _port(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text} is not a port number (0-65535)")
    return port


if __name__ == "__main__":
    sys.exit(main())
