"""`python -m benchmarks [--quick]`: run the benchmarks, print the tables, write the JSON."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import (
    backend_enqueueing,
    convergence,
    endpoints,
    enqueueing,
    idling,
    profiles,
    provisioning,
    reconciling,
    reporting,
    results,
    spawning,
)
from controller import logs

BENCHMARKS = ("enqueue", "backend", "endpoint", "reconcile", "convergence", "idle")


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Enqueueing, the task endpoint, reconciling at scale, convergence and the "
        "idle cost, against the project's emulators and side by side with django-gcp.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smaller sizes: a few minutes on 2 cores"
    )
    parser.add_argument("--profile", choices=sorted(profiles.PROFILES), help=argparse.SUPPRESS)
    parser.add_argument(
        "--only", action="append", choices=BENCHMARKS, help="run only this one (repeatable)"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=spawning.BENCH_DIR / "results.json",
        help="where the JSON goes (default .bench/results.json)",
    )
    parser.add_argument(
        "--markdown", type=Path, help="also write the tables as markdown (for docs/performance.md)"
    )
    parser.add_argument(
        "--sizes", help="reconcile sizes, comma-separated (default 100,1000,5000; quick 100,1000)"
    )
    parser.add_argument(
        "--resync-seconds", type=float, help="the controller's resync in the convergence run"
    )
    parser.add_argument(
        "--endpoint-server",
        choices=("threaded", "serial"),
        default="threaded",
        help="the stdlib WSGI server for the endpoint run: a thread per connection (default) "
        "or one request at a time",
    )
    parser.add_argument(
        "--pubsub",
        choices=("stand-in", "google"),
        default="stand-in",
        help="Pub/Sub for the reconcile run: the in-memory admin stand-in (default) or Google's "
        "emulator (fine up to ~1,000 push subscriptions)",
    )
    parser.add_argument(
        "--django-tasks-venv",
        type=Path,
        default=provisioning.TASKS_VENV,
        help="the Django 6 environment with the other django.tasks backends (made on first use)",
    )
    parser.add_argument(
        "--django-gcp-venv",
        type=Path,
        default=provisioning.VENV,
        help="django-gcp's own virtual environment (made on first use)",
    )
    return parser.parse_args(argv)


def profile_of(args: argparse.Namespace) -> profiles.Profile:
    profile = profiles.PROFILES[args.profile or ("quick" if args.quick else "full")]
    if args.sizes:
        sizes = tuple(int(size) for size in args.sizes.split(","))
        profile = dataclasses.replace(profile, reconcile_sizes=sizes)
    if args.resync_seconds:
        profile = dataclasses.replace(profile, resync_seconds=args.resync_seconds)
    return profile


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    # The emulators run in this process; their per-request logs would bury the tables.
    logs.configure(level="WARNING")
    profile = profile_of(args)
    chosen = args.only or list(BENCHMARKS)
    started = time.monotonic()
    machine = reporting.machine()
    print(
        f"benchmarks ({profile.name}) on {machine['nproc']} x {machine['cpu_model']}, "
        f"Python {machine['python']}, load average {_load(machine['load_average'])}",
        flush=True,
    )
    python = None
    if {"enqueue", "endpoint", "reconcile"} & set(chosen):
        python = provisioning.django_gcp_python(args.django_gcp_venv)
        machine["django_gcp"] = provisioning.django_gcp_version(python)
    tasks_python = None
    if "backend" in chosen:
        tasks_python = provisioning.django_tasks_python(args.django_tasks_venv)
    runners: dict[str, Callable[[], results.Outcome]] = {
        "enqueue": lambda: enqueueing.run(profile, django_gcp_python=_given(python)),
        "backend": lambda: backend_enqueueing.run(
            profile, django_tasks_python=_given(tasks_python)
        ),
        "endpoint": lambda: endpoints.run(
            profile, django_gcp_python=_given(python), server=args.endpoint_server
        ),
        "reconcile": lambda: reconciling.run(
            profile, django_gcp_python=_given(python), pubsub=args.pubsub
        ),
        "convergence": lambda: convergence.run(profile),
        "idle": lambda: idling.run(profile),
    }
    outcomes = []
    for name in BENCHMARKS:
        if name not in chosen:
            continue
        began = time.monotonic()
        outcome = runners[name]()
        outcomes.append(outcome)
        for table in outcome.tables:
            print(f"\n{reporting.render(table)}", flush=True)
        print(f"  ({name}: {time.monotonic() - began:.0f} s)", flush=True)
    targets = [target for outcome in outcomes for target in outcome.targets]
    if targets:
        print(f"\n{reporting.render_targets(targets)}")
    machine["load_average_after"] = list(os.getloadavg())
    document = {
        "profile": dataclasses.asdict(profile),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_seconds": round(time.monotonic() - started, 1),
        "machine": machine,
        "benchmarks": {outcome.name: outcome.as_dict() for outcome in outcomes},
        "targets": [dataclasses.asdict(target) for target in targets],
    }
    reporting.write_json(args.output, document)
    if args.markdown:
        tables = [table for outcome in outcomes for table in outcome.tables]
        if targets:
            tables.append(reporting.targets_table(targets))
        args.markdown.write_text("\n\n".join(map(reporting.render_markdown, tables)) + "\n")
    print(
        f"\n{args.output} written ({document['duration_seconds']:.0f} s; load average now "
        f"{_load(machine['load_average_after'])})"
    )
    return 0


def _given(python: Path | None) -> Path:
    assert python is not None
    return python


def _load(averages: Sequence[float]) -> str:
    return " ".join(f"{value:.2f}" for value in averages)


if __name__ == "__main__":
    sys.exit(main())
