"""The commands `run`, `reconcile` and `plan`: parse the command line, configure logging once,
run one. Imported by `main` once it knows the controller extra is installed."""

from __future__ import annotations

import argparse
import threading
from collections.abc import Sequence

from controller import logs
from controller.cli import options, plan, reconcile, run


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="gcp-tasks-controller",
        description="Reconcile Cloud Scheduler jobs and Pub/Sub push subscriptions with "
        "task registries. Emulators: set CLOUD_SCHEDULER_EMULATOR_HOST and PUBSUB_EMULATOR_HOST.",
    )
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    reconcile.add_parser(commands)
    plan.add_parser(commands)
    run.add_parser(commands)
    return root


def execute(argv: Sequence[str] | None = None, *, stop: threading.Event | None = None) -> int:
    """Run the command in `argv` (default: sys.argv); returns the exit code. `stop` ends `run`."""
    try:
        args = parser().parse_args(argv)
    except SystemExit as exit_:
        # argparse exits 2 on bad usage, which is our "invalid input" code too; 0 for --help.
        return int(exit_.code or 0)
    logs.configure(json=options.json_logs(args), level=args.log_level)
    if args.command == "run":
        return run.execute(args, stop)
    return int(args.execute(args))
