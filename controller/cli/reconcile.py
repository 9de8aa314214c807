"""`gcp-tasks-controller reconcile`: one pass over the registries, then exit with its result."""

from __future__ import annotations

import argparse

import structlog

from controller.cli import bars, exits, options
from controller.engine import reconciling, reports
from controller.gcp import clients, errors

log = structlog.get_logger()


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "reconcile",
        help="one pass: make the cloud match the registries, then exit",
        description="Read every registry (all before any write), plan, apply, exit: "
        "0 converged, 1 failed against the API or not converged, 2 invalid input.",
    )
    options.add_registry(parser, required=True)
    parser.add_argument("--dry-run", action="store_true", help="plan and log, write nothing")
    options.add_policy(parser)
    options.add_logging(parser)
    parser.set_defaults(execute=execute)


def one_pass(args: argparse.Namespace, *, dry_run: bool) -> reports.PassReport | int:
    """Load, then run one pass; an exit code when it could not run at all."""
    registries = options.load_registries(args.registry)
    if registries is None:
        return exits.INVALID
    try:
        built = clients.Clients.from_environment()
    except errors.ApiError as error:
        log.error("connect_failed", reason=error.reason)
        return exits.FAILED
    with built, bars.shown(args) as on_progress:
        reconciler = reconciling.Reconciler(
            built,
            options.policy(args),
            writes_per_second=args.writes_per_second,
            on_progress=on_progress,
        )
        return reconciler.run_pass(registries, dry_run=dry_run)


def execute(args: argparse.Namespace) -> int:
    report = one_pass(args, dry_run=args.dry_run)
    if isinstance(report, int):
        return report
    if report.failed:
        return exits.FAILED
    if args.dry_run:
        return exits.CONVERGED  # as `plan`: the plan was computed, whatever it holds
    return exits.CONVERGED if report.converged else exits.FAILED
