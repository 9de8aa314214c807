"""Benchmark 4, convergence latency: `gcp-tasks-controller run --registry FILE --resync-seconds S`
in its own process; how long from a registry change, and from a drift made behind its back with
Google's clients, until the cloud is right again (median, p95).

A registry change is noticed by the controller's source poll (every second), a drift only by the
next resync; each change is made at a random moment in that cycle, so the samples spread over it.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import drifting, profiles, registries, results, samples, spawning
from emulators import clock as clocks
from emulators import running, testing

POLL_SECONDS = 1.0  # the controller's source poll (controller.cli.run.POLL_SECONDS)
CHECK_INTERVAL = 0.02
WRITES_PER_SECOND = 50.0  # only speeds up the initial creation; each change is one write
PROJECT = "bench-convergence"
SCENARIOS = ("registry change", "drift behind its back")


def run(profile: profiles.Profile) -> results.Outcome:
    rng = random.Random(6)
    resync = profile.resync_seconds
    size = profile.convergence_size
    registry = registries.build(size, project=PROJECT)
    path = registries.write(registry, spawning.BENCH_DIR / "registry-convergence.json")
    clock = clocks.ManualClock(testing.FIXED_START)
    with running.start_all(clock=clock) as services:
        assert services.pubsub is not None
        env = services.environment()
        argv = [
            controller_script(),
            "run",
            "--registry",
            str(path),
            "--resync-seconds",
            str(resync),
            "--writes-per-second",
            str(WRITES_PER_SECOND),
            "--metrics-port",
            "0",
            "--health-port",
            "0",
            "--host",
            "127.0.0.1",
            "--log-format",
            "json",
        ]
        with (
            drifting.Cloud(services.scheduler.host, services.pubsub.host) as cloud,
            spawning.Server(
                argv, name="convergence-controller", env=env, announces=False
            ) as controller,
        ):
            started = time.perf_counter()
            wait(lambda: converged_passes(controller) > 0, 120.0, controller.log_tail)
            initial = time.perf_counter() - started
            latencies: dict[str, list[float]] = {scenario: [] for scenario in SCENARIOS}
            for index in range(profile.convergence_samples * 2):
                kind = "job" if index % 2 == 0 else "subscription"
                target = index % size
                time.sleep(rng.uniform(0.0, POLL_SECONDS))
                registry, desired = _change(registry, kind, target, index)
                registries.write(registry, path)
                latencies["registry change"].append(
                    _until(cloud, kind, target, desired, resync, controller.log_tail)
                )
                time.sleep(rng.uniform(0.0, resync))
                _drift(cloud, kind, target)
                latencies["drift behind its back"].append(
                    _until(cloud, kind, target, desired, resync, controller.log_tail)
                )
            passes = converged_passes(controller)
    data = {
        "resync_seconds": resync,
        "poll_seconds": POLL_SECONDS,
        "size": size,
        "initial_convergence_seconds": initial,
        "converged_passes": passes,
        "scenarios": {
            scenario: {
                "seconds": samples.summarize(values).as_dict(),
                "samples": values,
            }
            for scenario, values in latencies.items()
        },
    }
    return _outcome(data)


def converged_passes(controller: spawning.Server) -> int:
    """Passes the controller logged as converged (its JSON log lines)."""
    if not controller.running():
        raise spawning.WorkerError(f"the controller exited: {controller.log_tail()}")
    count = 0
    for line in controller.log_path.read_text(errors="replace").splitlines():
        if '"reconcile_pass"' in line and json.loads(line).get("converged") is True:
            count += 1
    return count


def controller_script() -> str:
    script = Path(sys.executable).parent / "gcp-tasks-controller"
    if not script.exists():
        raise FileNotFoundError(
            f"{script} is missing: install the project (`pip install -e .`) in this environment"
        )
    return str(script)


def _change(registry: Any, kind: str, target: int, index: int) -> tuple[Any, Any]:
    """The registry with one resource changed, and the value the cloud should then show."""
    if kind == "job":
        schedule = f"{index % 60} {(index // 60) % 24} 1 * *"
        return registries.with_job(registry, target, schedule=schedule), schedule
    deadline = 20 + index % 40
    return registries.with_subscription(registry, target, ack_deadline_seconds=deadline), deadline


def _drift(cloud: drifting.Cloud, kind: str, target: int) -> None:
    if kind == "job":
        cloud.drift_job(PROJECT, registries.job_name(target))
    else:
        cloud.drift_subscription(PROJECT, registries.subscription_name(target))


def _until(
    cloud: drifting.Cloud,
    kind: str,
    target: int,
    desired: Any,
    resync: float,
    log_tail: Callable[[], str],
) -> float:
    """Seconds until the cloud shows `desired` for the target resource."""
    if kind == "job":
        name = registries.job_name(target)

        def current() -> Any:
            return cloud.job(PROJECT, name).schedule
    else:
        name = registries.subscription_name(target)

        def current() -> Any:
            return cloud.subscription(PROJECT, name).ack_deadline_seconds

    started = time.perf_counter()
    wait(lambda: current() == desired, 3 * resync + 30.0, log_tail, interval=CHECK_INTERVAL)
    return time.perf_counter() - started


def wait(
    condition: Callable[[], bool],
    timeout: float,
    log_tail: Callable[[], str],
    interval: float = 0.1,
) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"not converged within {timeout:g}s; controller log:\n{log_tail()}")
        time.sleep(interval)


def _outcome(data: dict[str, Any]) -> results.Outcome:
    resync, poll = data["resync_seconds"], data["poll_seconds"]
    bounds = {
        "registry change": f"<= {poll:g} s poll + one pass",
        "drift behind its back": f"<= {resync:g} s resync + one pass",
    }
    rows = tuple(
        (
            scenario,
            str(entry["seconds"]["count"]),
            f"{entry['seconds']['median']:.2f}",
            f"{entry['seconds']['p95']:.2f}",
            f"{entry['seconds']['max']:.2f}",
            bounds[scenario],
        )
        for scenario, entry in data["scenarios"].items()
    )
    table = results.Table(
        title=f"Convergence: `gcp-tasks-controller run --resync-seconds {resync:g}` over "
        f"{data['size']} jobs + {data['size']} subscriptions (Google's Pub/Sub emulator)",
        columns=("change", "samples", "median s", "p95 s", "max s", "expected"),
        rows=rows,
        notes=(
            "half the samples change a scheduler job (schedule), half a subscription (ack "
            "deadline); each change is made at a random point of the poll or resync cycle",
            f"initial convergence (creating everything at {WRITES_PER_SECOND:g} writes/s): "
            f"{data['initial_convergence_seconds']:.1f} s",
        ),
    )
    median_drift = statistics.median(data["scenarios"]["drift behind its back"]["samples"])
    data["drift_median_over_resync"] = median_drift / resync
    return results.Outcome("convergence", (table,), (), data)
