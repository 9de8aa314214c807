"""Benchmark 5, the idle cost: `gcp-tasks-controller run --registry FILE` while nothing changes,
over N scheduler jobs + N push subscriptions: CPU seconds and API calls per hour at the default
resync, and the process's memory.

An hour is extrapolated from two windows measured after the first pass has converged (the API
calls are counted by the emulators, the CPU read from /proc):

- alive: a controller whose resync is longer than the window, so only its source polls, servers
  and threads run: CPU per second, and the API calls it makes meanwhile (none expected); the
  window starts a few seconds after the first pass, whose end is a pass's cost;
- resyncing: a controller with a short resync: CPU and API calls per resync pass, from whole
  passes (the window starts and ends just after a pass).

CPU per hour = alive CPU per second x 3600 + resyncs per hour x CPU per pass (less the alive
share of the pass window); API calls per hour = resyncs per hour x calls per pass.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from benchmarks import (
    convergence,
    profiles,
    pubsub_admin,
    reconciling,
    registries,
    results,
    spawning,
)
from controller.cli import run as run_command
from emulators import clock as clocks
from emulators import recording, running, testing

PROJECT = "bench-idle"
SECONDS_PER_HOUR = 3600.0
WRITES_PER_SECOND = 1000.0  # only speeds up creating everything before the measured windows
FIRST_PASS_TIMEOUT = 300.0
# The end of a pass (its objects freed, the collection it deferred) is the pass's cost, counted
# in the resyncing window: the alive window starts this long after the first pass.
AFTER_PASS_SECONDS = 3.0


def run(profile: profiles.Profile) -> results.Outcome:
    size = profile.idle_size
    path = registries.write(
        registries.build(size, project=PROJECT), spawning.BENCH_DIR / f"registry-idle-{size}.json"
    )
    clock = clocks.ManualClock(testing.FIXED_START)
    with running.start_all(clock=clock, with_pubsub=False) as services:
        env = services.environment()
        admin, server, env[running.PUBSUB_ENV] = pubsub_admin.start()
        logs = [services.scheduler.requests, admin.log]
        try:
            # Long enough that no resync falls in the window: only being alive costs anything.
            alive = _alive(path, env, logs, profile.idle_seconds)
            resyncing = _resyncing(
                path, env, logs, profile.idle_resync_seconds, profile.idle_passes
            )
        finally:
            server.stop(grace=None).wait()
    data = {
        "size": size,
        "expected_pages": reconciling.expected_pages(size),
        "default_resync_seconds": run_command.DEFAULT_RESYNC_SECONDS,
        "alive": alive,
        "resyncing": resyncing,
        "hour": _hour(alive, resyncing, run_command.DEFAULT_RESYNC_SECONDS),
    }
    return _outcome(data)


def _controller(path: Any, env: dict[str, str], resync: float, name: str) -> spawning.Server:
    argv = [
        *(convergence.controller_script(), "run", "--registry", str(path)),
        *("--resync-seconds", str(resync), "--writes-per-second", str(WRITES_PER_SECOND)),
        *("--metrics-port", "0", "--health-port", "0", "--host", "127.0.0.1"),
        *("--log-format", "json"),
    ]
    return spawning.Server(argv, name=name, env=env, announces=False)


def _alive(
    path: Any, env: dict[str, str], logs: Sequence[recording.RequestLog], seconds: float
) -> dict[str, Any]:
    resync = seconds * 10 + AFTER_PASS_SECONDS + FIRST_PASS_TIMEOUT
    with _controller(path, env, resync, "idle-alive") as controller:
        _passes_reach(controller, 1)
        time.sleep(AFTER_PASS_SECONDS)
        since, started = _counts(logs), time.monotonic()
        cpu = _Cpu(controller.pid)
        rss_before = spawning.memory_mb(controller.pid)
        time.sleep(seconds)
        if convergence.converged_passes(controller) != 1:
            raise RuntimeError("a resync fell in the alive window: make the resync longer")
        used = cpu.since()
        elapsed = time.monotonic() - started
        memory = spawning.memory_mb(controller.pid)
    return {
        "seconds": elapsed,
        "cpu_seconds": used,
        "cpu_per_second": used / elapsed,
        "cpu_to_the_nanosecond": cpu.to_the_nanosecond,
        "api_calls": reconciling.served(logs, since),
        "rss_mb_before": rss_before["VmRSS"],
        "rss_mb": memory["VmRSS"],
        "peak_rss_mb": memory["VmHWM"],
    }


def _resyncing(
    path: Any,
    env: dict[str, str],
    logs: Sequence[recording.RequestLog],
    resync: float,
    passes: int,
) -> dict[str, Any]:
    with _controller(path, env, resync, "idle-resyncing") as controller:
        # Start just after a pass: the window then holds `passes` whole passes.
        _passes_reach(controller, 2)
        since, started = _counts(logs), time.monotonic()
        cpu = _Cpu(controller.pid)
        _passes_reach(controller, 2 + passes)
        used = cpu.since()
        elapsed = time.monotonic() - started
        served = reconciling.served(logs, since)
        memory = spawning.memory_mb(controller.pid)
    return {
        "resync_seconds": resync,
        "passes": passes,
        "seconds": elapsed,
        "cpu_seconds": used,
        "cpu_to_the_nanosecond": cpu.to_the_nanosecond,
        "api_calls": served,
        "api_calls_per_pass": sum(served.values()) / passes,
        "rss_mb": memory["VmRSS"],
        "peak_rss_mb": memory["VmHWM"],
    }


def _hour(alive: dict[str, Any], resyncing: dict[str, Any], resync: float) -> dict[str, float]:
    passes = SECONDS_PER_HOUR / resync
    per_pass = (
        resyncing["cpu_seconds"] - alive["cpu_per_second"] * resyncing["seconds"]
    ) / resyncing["passes"]
    per_pass = max(0.0, per_pass)  # below the clock-tick resolution of /proc: nothing to see
    alive_cpu = alive["cpu_per_second"] * SECONDS_PER_HOUR
    return {
        "resyncs": passes,
        "cpu_seconds_per_pass": per_pass,
        "cpu_seconds_alive": alive_cpu,
        "cpu_seconds_resyncing": passes * per_pass,
        "cpu_seconds": alive_cpu + passes * per_pass,
        "api_calls": passes * resyncing["api_calls_per_pass"]
        + sum(alive["api_calls"].values()) * SECONDS_PER_HOUR / alive["seconds"],
    }


class _Cpu:
    """A process's CPU time from now on: its threads' to the nanosecond when they stayed the
    same, else its clock ticks (the only count that keeps ended threads)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.ticks = spawning.cpu_seconds(pid)
        self.precise, self.threads = spawning.thread_cpu_seconds(pid)

    def since(self) -> float:
        precise, threads = spawning.thread_cpu_seconds(self.pid)
        self.to_the_nanosecond = threads == self.threads
        if self.to_the_nanosecond:
            return precise - self.precise
        return spawning.cpu_seconds(self.pid) - self.ticks


def _passes_reach(controller: spawning.Server, count: int) -> None:
    timeout = FIRST_PASS_TIMEOUT + 60.0 * count
    convergence.wait(
        lambda: convergence.converged_passes(controller) >= count, timeout, controller.log_tail
    )


def _counts(logs: Sequence[recording.RequestLog]) -> list[int]:
    return [len(log.entries) for log in logs]


def _outcome(data: dict[str, Any]) -> results.Outcome:
    size, hour = data["size"], data["hour"]
    alive, resyncing = data["alive"], data["resyncing"]
    default = data["default_resync_seconds"]
    calls_per_pass = resyncing["api_calls_per_pass"]
    alive_calls = sum(alive["api_calls"].values())
    rows = (
        (
            "alive between resyncs",
            f"{alive['seconds']:.0f}",
            f"{alive['cpu_per_second'] * 1000:.2f} ms/s",
            str(alive_calls),
            f"{hour['cpu_seconds_alive']:.1f}",
            f"{alive_calls * SECONDS_PER_HOUR / alive['seconds']:.0f}",
        ),
        (
            f"one resync pass (measured every {resyncing['resync_seconds']:g} s)",
            f"{resyncing['seconds']:.0f}",
            f"{hour['cpu_seconds_per_pass'] * 1000:.0f} ms/pass",
            f"{calls_per_pass:g}/pass",
            f"{hour['cpu_seconds_resyncing']:.1f}",
            f"{hour['resyncs'] * calls_per_pass:.0f}",
        ),
        (
            f"idle hour at the default --resync-seconds {default:g}",
            "-",
            "-",
            "-",
            f"{hour['cpu_seconds']:.1f}",
            f"{hour['api_calls']:.0f}",
        ),
    )
    table = results.Table(
        title=f"Idle: `gcp-tasks-controller run --registry` over {size:,} jobs + {size:,} "
        "subscriptions while nothing changes",
        columns=("window", "measured s", "CPU", "API calls", "CPU s/hour", "API calls/hour"),
        rows=rows,
        notes=(
            f"an hour is extrapolated: alive CPU per second x 3600 + {hour['resyncs']:g} resyncs "
            "x CPU per pass (the pass window less its alive share); calls counted by the "
            "emulators",
            f"memory: {alive['rss_mb']:.0f} MB resident after the alive window "
            f"({alive['rss_mb'] - alive['rss_mb_before']:+.1f} MB over it), peak "
            f"{max(alive['peak_rss_mb'], resyncing['peak_rss_mb']):.0f} MB",
        ),
    )
    expected = data["expected_pages"]
    targets = (
        results.Target(
            benchmark="idle",
            goal=f"idle resync over {size:,}+{size:,}: API calls per resync = pages "
            f"({expected}), none between resyncs",
            measured=f"{calls_per_pass:g} calls per resync, {alive_calls} between",
            met=calls_per_pass == expected and alive_calls == 0,
        ),
    )
    return results.Outcome("idle", (table,), targets, data)
