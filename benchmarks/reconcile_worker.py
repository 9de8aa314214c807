"""Worker: the controller's reconcile engine in a process of its own, so its time and peak RSS are
its own (`python -m benchmarks.reconcile_worker`, driven by reconciling.py).

It keeps one `Reconciler` across passes, as `gcp-tasks-controller run` does, with the write rate
limit lifted: the default (5 writes/s) is a quota guard that would make a first pass over 10,000
resources take half an hour and measure nothing but the limiter.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import spawning
from controller import logs
from controller.engine import reconciling
from controller.gcp import clients
from controller.registry import documents, model

UNLIMITED_WRITES_PER_SECOND = 1e9


class State:
    registry: model.Registry | None = None
    reconciler: reconciling.Reconciler | None = None


state = State()


def load(command: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    path = Path(command["path"])
    state.registry = documents.parse(path.read_bytes(), str(path))
    parsed = time.perf_counter() - started
    state.reconciler = reconciling.Reconciler(
        clients.Clients.from_environment(), writes_per_second=UNLIMITED_WRITES_PER_SECOND
    )
    return {"parse_seconds": parsed, "peak_rss_mb": spawning.peak_rss_mb()}


def run_pass(command: dict[str, Any]) -> dict[str, Any]:
    assert state.reconciler is not None and state.registry is not None, "load first"
    cpu = time.process_time()
    report = state.reconciler.run_pass([state.registry])
    cpu = time.process_time() - cpu
    return {
        "duration": report.duration,
        "cpu_seconds": cpu,  # this process's, all threads: less noisy than the time on 2 cores
        "api_calls": report.api_calls,
        "writes": report.writes,
        "retries": report.retries,
        "converged": report.converged,
        "counts": report.counts(),
        "failures": [str(failure) for failure in report.failures],
        "peak_rss_mb": spawning.peak_rss_mb(),
    }


def profile_pass(command: dict[str, Any]) -> dict[str, Any]:
    """One pass under cProfile: the functions with the most cumulative time, as text."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    reply = profiler.runcall(run_pass, command)
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats(command.get("sort", "cumulative")).print_stats(
        command.get("lines", 40)
    )
    return {**reply, "profile": text.getvalue()}


if __name__ == "__main__":
    logs.configure(json=True, level="INFO")
    sys.exit(spawning.serve({"load": load, "pass": run_pass, "profile": profile_pass}))
