"""Benchmark 1, enqueueing: per-call latency and tasks/s of the raw `google-cloud-tasks` client (the
floor), this project's `OnDemandTask.enqueue` and django-gcp's, plain and deduplicated, in the same
run against one Cloud Tasks emulator; then bulk `enqueue_many` against django-gcp's sequential rate.

The emulator runs in this (driver) process; each client runs in a worker process of its own.
Queues are paused, so nothing is dispatched while measuring, and purged after every batch.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path
from typing import Any

from benchmarks import profiles, provisioning, results, samples, spawning
from emulators import running, testing

IMPLEMENTATIONS = ("raw", "ours", "django-gcp")
LABELS = {
    "raw": "raw google-cloud-tasks client",
    "ours": "this project (OnDemandTask)",
    "django-gcp": "django-gcp",
}
MODES = ("plain", "dedup")
QUEUES = {"raw": "bench-raw", "ours": "bench-ours", "django-gcp": "bench-django-gcp"}
LOCATION = "europe-west1"
WARMUP_CALLS = 20
PER_CALL_TARGET = 1.1
BULK_TARGET = 5.0


def run(profile: profiles.Profile, *, django_gcp_python: Path) -> results.Outcome:
    with running.start_all(with_pubsub=False) as services:
        host = services.tasks.host
        client = testing.tasks_client(host)
        try:
            parents = _paused_queues(client)
            env = {
                running.TASKS_ENV: host,
                "GOOGLE_APPLICATION_CREDENTIALS": str(provisioning.service_account_file()),
                "GCP_PROJECT": provisioning.PROJECT,
                "DJANGO_SETTINGS_MODULE": "benchmarks.site.settings",
            }
            ours = spawning.Worker(
                [sys.executable, "-m", "benchmarks.enqueue_worker"], name="enqueue-ours", env=env
            )
            theirs = spawning.Worker(
                [
                    str(django_gcp_python),
                    str(spawning.ROOT / "benchmarks" / "django_gcp_worker.py"),
                ],
                name="enqueue-django-gcp",
                env=env,
            )
            with ours, theirs:
                workers = {"raw": ours, "ours": ours, "django-gcp": theirs}
                data = _measure(profile, workers, services, client, parents)
                data["workers"] = {
                    "ours": ours.call({"op": "describe"}),
                    "django-gcp": theirs.call({"op": "describe"}),
                }
        finally:
            client.transport.close()
    return _outcome(profile, data)


def _paused_queues(client: Any) -> dict[str, str]:
    parents = {}
    for implementation, queue in QUEUES.items():
        location = f"projects/{provisioning.PROJECT}/locations/{LOCATION}"
        name = f"{location}/queues/{queue}"
        client.create_queue(parent=location, queue={"name": name})
        client.pause_queue(name=name)
        parents[implementation] = name
    return parents


def _measure(
    profile: profiles.Profile,
    workers: dict[str, spawning.Worker],
    services: running.Running,
    client: Any,
    parents: dict[str, str],
) -> dict[str, Any]:
    requests = services.tasks.requests

    def sequential(implementation: str, mode: str, calls: int, run_id: str) -> dict[str, Any]:
        # Cleared before each batch: a log growing by 70,000 entries would slow the emulator's
        # garbage collection (it shares this process), and later batches with it.
        requests.clear()
        reply = workers[implementation].call(
            {
                "op": "sequential",
                "impl": implementation,
                "mode": mode,
                "calls": calls,
                "run": run_id,
            }
        )
        if reply["created"] != calls:
            raise RuntimeError(f"{implementation} {mode}: {reply['created']} of {calls} created")
        reply["create_requests"] = requests.count("CreateTask")
        client.purge_queue(name=parents[implementation])
        return reply

    for implementation in IMPLEMENTATIONS:
        for mode in MODES:
            sequential(implementation, mode, WARMUP_CALLS, f"warmup-{implementation}-{mode}")
    rounds: dict[str, dict[str, list[dict[str, Any]]]] = {
        i: {m: [] for m in MODES} for i in IMPLEMENTATIONS
    }
    for index in range(profile.enqueue_rounds):
        for mode in MODES:
            # A different order each round, so no implementation always goes first.
            shift = index % len(IMPLEMENTATIONS)
            order = IMPLEMENTATIONS[shift:] + IMPLEMENTATIONS[:shift]
            for implementation in order:
                reply = sequential(
                    implementation, mode, profile.enqueue_calls, f"{implementation}-{mode}-{index}"
                )
                rounds[implementation][mode].append(reply)
    bulk: dict[str, list[dict[str, Any]]] = {"raw": [], "ours": []}
    for index in range(profile.enqueue_rounds):
        for implementation in ("raw", "ours"):
            requests.clear()
            reply = workers[implementation].call(
                {
                    "op": "bulk",
                    "impl": implementation,
                    "tasks": profile.bulk_tasks,
                    "workers": profile.bulk_workers,
                    "run": f"bulk-{implementation}-{index}",
                }
            )
            if reply["created"] != profile.bulk_tasks:
                raise RuntimeError(f"bulk {implementation}: {reply}")
            reply["create_requests"] = requests.count("CreateTask")
            client.purge_queue(name=parents[implementation])
            bulk[implementation].append(reply)
    return _summarize(rounds, bulk, profile)


def _summarize(
    rounds: dict[str, dict[str, list[dict[str, Any]]]],
    bulk: dict[str, list[dict[str, Any]]],
    profile: profiles.Profile,
) -> dict[str, Any]:
    sequential: dict[str, Any] = {}
    for implementation, by_mode in rounds.items():
        for mode, replies in by_mode.items():
            latencies = [value for reply in replies for value in reply["latencies"]]
            summary = samples.summarize(latencies)
            sequential[f"{implementation}/{mode}"] = {
                "latency_ms": summary.as_dict(scale=1000),
                "round_medians_ms": [statistics.median(r["latencies"]) * 1000 for r in replies],
                "tasks_per_second": statistics.median(
                    len(r["latencies"]) / r["elapsed"] for r in replies
                ),
                "create_requests_per_task": sum(r["create_requests"] for r in replies)
                / sum(len(r["latencies"]) for r in replies),
            }
    for implementation in IMPLEMENTATIONS:
        for mode in MODES:
            entry = sequential[f"{implementation}/{mode}"]
            entry["vs_raw"] = samples.median_ratio(
                entry["round_medians_ms"], sequential[f"raw/{mode}"]["round_medians_ms"]
            )
    reference = sequential["django-gcp/plain"]["tasks_per_second"]
    bulk_summary = {}
    for implementation, replies in bulk.items():
        per_second = statistics.median(profile.bulk_tasks / r["elapsed"] for r in replies)
        bulk_summary[implementation] = {
            "tasks": profile.bulk_tasks,
            "workers": profile.bulk_workers,
            "tasks_per_second": per_second,
            "vs_django_gcp_sequential": per_second / reference,
            "create_requests_per_task": sum(r["create_requests"] for r in replies)
            / (profile.bulk_tasks * len(replies)),
        }
    return {
        "calls_per_round": profile.enqueue_calls,
        "rounds": profile.enqueue_rounds,
        "sequential": sequential,
        "bulk": bulk_summary,
    }


def _outcome(profile: profiles.Profile, data: dict[str, Any]) -> results.Outcome:
    sequential, bulk = data["sequential"], data["bulk"]
    rows = []
    for mode in MODES:
        for implementation in IMPLEMENTATIONS:
            entry = sequential[f"{implementation}/{mode}"]
            rows.append(
                (
                    LABELS[implementation],
                    "deduplicated" if mode == "dedup" else "plain",
                    f"{entry['latency_ms']['median']:.3f}",
                    f"{entry['latency_ms']['p95']:.3f}",
                    results.rate(entry["tasks_per_second"]),
                    results.ratio(entry["vs_raw"]),
                )
            )
    sequential_table = results.Table(
        title=f"Enqueue, one call at a time ({data['rounds']} rounds x {data['calls_per_round']} "
        "calls per implementation and mode, Cloud Tasks emulator in another process)",
        columns=("implementation", "mode", "median ms", "p95 ms", "tasks/s", "vs raw"),
        rows=tuple(rows),
        notes=("vs raw: median over rounds of (round median / raw client's round median)",),
    )
    reference = sequential["django-gcp/plain"]["tasks_per_second"]
    bulk_rows = [("django-gcp, sequential enqueue()", results.rate(reference), "1.00x")]
    bulk_labels = {
        "ours": "this project, enqueue_many()",
        "raw": "raw client, same threads (floor)",
    }
    for implementation in ("ours", "raw"):
        entry = bulk[implementation]
        bulk_rows.append(
            (
                bulk_labels[implementation],
                results.rate(entry["tasks_per_second"]),
                results.ratio(entry["vs_django_gcp_sequential"]),
            )
        )
    bulk_table = results.Table(
        title=f"Bulk enqueue ({profile.bulk_tasks} tasks per call, {profile.bulk_workers} "
        "concurrent requests over one channel)",
        columns=("implementation", "tasks/s", "vs django-gcp"),
        rows=tuple(bulk_rows),
    )
    targets = [
        results.Target(
            benchmark="enqueue",
            goal=f"{mode} enqueue per call within {PER_CALL_TARGET}x of the raw client",
            measured=results.ratio(sequential[f"ours/{mode}"]["vs_raw"]),
            met=sequential[f"ours/{mode}"]["vs_raw"] <= PER_CALL_TARGET,
        )
        for mode in MODES
    ]
    targets.append(
        results.Target(
            benchmark="enqueue",
            goal=f"bulk enqueue >= {BULK_TARGET:g}x django-gcp's sequential throughput",
            measured=results.ratio(bulk["ours"]["vs_django_gcp_sequential"]),
            met=bulk["ours"]["vs_django_gcp_sequential"] >= BULK_TARGET,
        )
    )
    return results.Outcome("enqueue", (sequential_table, bulk_table), tuple(targets), data)
