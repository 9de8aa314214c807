"""Arguments shared by the commands, and what they turn into (policy, registries, log format)."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence

import structlog

from controller.engine import reconciling
from controller.planning import policies
from controller.registry import errors as registry_errors
from controller.registry import merging, model
from controller.sources import fetching

log = structlog.get_logger()


def add_registry(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument(
        "--registry",
        action="append",
        default=[],
        required=required,
        metavar="PATH_OR_URL",
        help="a registry document (file path or http(s) URL); repeat for several",
    )


def add_policy(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("policy")
    group.add_argument(
        "--orphans",
        choices=[policy.value for policy in policies.OrphanPolicy],
        default=policies.OrphanPolicy.DELETE.value,
        help="what to do with resources we own that no registry declares (default: delete)",
    )
    group.add_argument(
        "--max-deletion-ratio",
        type=_ratio,
        default=policies.Policy().max_deletion_ratio,
        metavar="R",
        help="refuse a plan deleting more than this fraction (or all) of one owner's jobs or "
        "subscriptions (default 0.5)",
    )
    group.add_argument(
        "--allow-mass-deletion",
        action="store_true",
        help="apply plans above the deletion ratio, and let an empty registry delete its resources",
    )
    group.add_argument(
        "--allow-recreate",
        action="store_true",
        help="delete and recreate subscriptions whose immutable fields changed",
    )
    group.add_argument(
        "--writes-per-second",
        type=positive,
        default=reconciling.DEFAULT_WRITES_PER_SECOND,
        metavar="N",
        help="rate limit of write requests to Google (default %(default)s)",
    )


def add_logging(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-format",
        choices=["auto", "json", "console"],
        default="auto",
        help="json lines, or a console for humans; auto: console on a terminal (default)",
    )
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )


def json_logs(args: argparse.Namespace) -> bool | None:
    return {"auto": None, "json": True, "console": False}[args.log_format]


def policy(args: argparse.Namespace) -> policies.Policy:
    return policies.Policy(
        orphans=policies.OrphanPolicy(args.orphans),
        max_deletion_ratio=args.max_deletion_ratio,
        allow_mass_deletion=args.allow_mass_deletion,
        allow_recreate=args.allow_recreate,
    )


def load_registries(locations: Sequence[str]) -> list[model.Registry] | None:
    """Every registry, all read and parsed before anything is written; None (errors printed to
    stderr and logged) when any source is unreadable or invalid, or two sources conflict."""
    registries: list[model.Registry] = []
    problems: list[str] = []
    for location in locations:
        try:
            registries.append(fetching.load(location))
        except fetching.SourceError as error:
            log.error("registry_unreadable", source=location, error=error.message)
            problems.append(str(error))
        except registry_errors.RegistryError as error:
            log.error(
                "registry_invalid",
                source=location,
                errors=[f"{e.path}: {e.message}" for e in error.errors],
            )
            problems.append(str(error))
    if not problems:
        for conflict in merging.merge(registries).conflicts:
            log.error("registry_conflict", name=conflict.name, sources=list(conflict.sources))
            problems.append(f"conflict: {conflict.reason}")
    if problems:
        print("invalid input, nothing changed:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return None
    return registries


def _ratio(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {text}")
    return value


def positive(text: str) -> float:
    """An option's number of seconds or rate: finite and above zero (0, nan or inf would make a
    loop spin or never come round)."""
    value = float(text)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text}")
    return value
