"""Benchmark: enqueueing through Django's task framework. Per-call latency of the raw
`google-cloud-tasks` client (the floor), this project's `CloudTasksBackend`,
django-tasks-cloud-tasks and django-tasks-google, all in one Django 6 worker process, against one
Cloud Tasks emulator in this (driver) process.

Queues are paused, so nothing is dispatched while measuring, and purged after every batch.
Results are not stored (`GCP_TASKS_RECORD_EXECUTIONS` off, as by default); django-tasks-google
always stores an execution row per enqueue (in an in-memory SQLite here), part of its cost.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from benchmarks import profiles, provisioning, results, samples, spawning
from emulators import running, testing

IMPLEMENTATIONS = ("raw", "ours", "django-tasks-cloud-tasks", "django-tasks-google")
LABELS = {
    "raw": "raw google-cloud-tasks client",
    "ours": "this project (CloudTasksBackend)",
    "django-tasks-cloud-tasks": "django-tasks-cloud-tasks",
    "django-tasks-google": "django-tasks-google",
}
QUEUES = {
    "raw": "bench-tasks-raw",
    "ours": "bench-tasks-ours",
    "django-tasks-cloud-tasks": "bench-tasks-cloud-tasks",
    "django-tasks-google": "bench-tasks-google",
}
LOCATION = "europe-west1"
WARMUP_CALLS = 20
PER_CALL_TARGET = 1.1


def run(profile: profiles.Profile, *, django_tasks_python: Path) -> results.Outcome:
    with running.start_all(with_pubsub=False) as services:
        host = services.tasks.host
        client = testing.tasks_client(host)
        try:
            parents = _paused_queues(client)
            env = {running.TASKS_ENV: host, "GCP_PROJECT": provisioning.PROJECT}
            worker = spawning.Worker(
                [str(django_tasks_python), "-m", "benchmarks.backend_worker"],
                name="enqueue-django-tasks",
                env=env,
            )
            with worker:
                data = _measure(profile, worker, services, client, parents)
                data["worker"] = worker.call({"op": "describe"})
        finally:
            client.transport.close()
    return _outcome(data)


def _paused_queues(client: Any) -> dict[str, str]:
    parents = {}
    location = f"projects/{provisioning.PROJECT}/locations/{LOCATION}"
    for implementation, queue in QUEUES.items():
        name = f"{location}/queues/{queue}"
        client.create_queue(parent=location, queue={"name": name})
        client.pause_queue(name=name)
        parents[implementation] = name
    return parents


def _measure(
    profile: profiles.Profile,
    worker: spawning.Worker,
    services: running.Running,
    client: Any,
    parents: dict[str, str],
) -> dict[str, Any]:
    requests = services.tasks.requests

    def sequential(implementation: str, calls: int, run_id: str) -> dict[str, Any]:
        requests.clear()
        reply = worker.call(
            {"op": "sequential", "impl": implementation, "calls": calls, "run": run_id}
        )
        reply["create_requests"] = requests.count("CreateTask")
        if reply["create_requests"] != calls:
            raise RuntimeError(f"{implementation}: {reply['create_requests']} of {calls} created")
        client.purge_queue(name=parents[implementation])
        return reply

    for implementation in IMPLEMENTATIONS:
        sequential(implementation, WARMUP_CALLS, f"warmup-{implementation}")
    rounds: dict[str, list[dict[str, Any]]] = {i: [] for i in IMPLEMENTATIONS}
    for index in range(profile.enqueue_rounds):
        shift = index % len(IMPLEMENTATIONS)  # a different one goes first each round
        for implementation in IMPLEMENTATIONS[shift:] + IMPLEMENTATIONS[:shift]:
            reply = sequential(implementation, profile.enqueue_calls, f"{implementation}-{index}")
            rounds[implementation].append(reply)
    summary: dict[str, Any] = {}
    for implementation, replies in rounds.items():
        latencies = [value for reply in replies for value in reply["latencies"]]
        summary[implementation] = {
            "latency_ms": samples.summarize(latencies).as_dict(scale=1000),
            "round_medians_ms": [statistics.median(r["latencies"]) * 1000 for r in replies],
            "tasks_per_second": statistics.median(
                len(r["latencies"]) / r["elapsed"] for r in replies
            ),
        }
    for entry in summary.values():
        entry["vs_raw"] = samples.median_ratio(
            entry["round_medians_ms"], summary["raw"]["round_medians_ms"]
        )
    return {
        "calls_per_round": profile.enqueue_calls,
        "rounds": profile.enqueue_rounds,
        "sequential": summary,
    }


def _outcome(data: dict[str, Any]) -> results.Outcome:
    sequential = data["sequential"]
    rows = tuple(
        (
            LABELS[implementation],
            f"{sequential[implementation]['latency_ms']['median']:.3f}",
            f"{sequential[implementation]['latency_ms']['p95']:.3f}",
            results.rate(sequential[implementation]["tasks_per_second"]),
            results.ratio(sequential[implementation]["vs_raw"]),
        )
        for implementation in IMPLEMENTATIONS
    )
    table = results.Table(
        title=f"django.tasks enqueue, one call at a time ({data['rounds']} rounds x "
        f"{data['calls_per_round']} calls per backend, one Django 6 process, Cloud Tasks emulator "
        "in another)",
        columns=("implementation", "median ms", "p95 ms", "tasks/s", "vs raw"),
        rows=rows,
        notes=(
            "vs raw: median over rounds of (round median / raw client's round median)",
            "the others build a client and a channel per enqueue; without the credentials lookup a "
            "real client adds (a lower bound for them)",
            "django-tasks-google also writes an execution row per enqueue (in-memory SQLite)",
        ),
    )
    ours = sequential["ours"]["vs_raw"]
    target = results.Target(
        benchmark="backend",
        goal=f"CloudTasksBackend enqueue per call within {PER_CALL_TARGET}x of the raw client",
        measured=results.ratio(ours),
        met=ours <= PER_CALL_TARGET,
    )
    return results.Outcome("backend", (table,), (target,), data)
