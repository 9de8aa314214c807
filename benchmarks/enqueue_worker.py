"""Worker: enqueues with the raw `google-cloud-tasks` client and with this project's
`OnDemandTask`, timing each call (`python -m benchmarks.enqueue_worker`, driven by enqueueing.py).

Both run in this one process, alternately, so they share the interpreter and the machine's mood.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from concurrent import futures
from typing import Any

import django
import grpc
from google.cloud import tasks_v2
from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

from benchmarks import spawning

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.site.settings")
django.setup()

from django.conf import settings  # noqa: E402  (after setup, as Django requires)

from benchmarks.site import tasks  # noqa: E402
from django_integration import conf, enqueueing  # noqa: E402

RAW_QUEUE = "bench-raw"
URLS = {
    "plain": f"{settings.GCP_TASKS_DOMAIN}/gcp/tasks/BenchPlain",
    "dedup": f"{settings.GCP_TASKS_DOMAIN}/gcp/tasks/BenchDeduplicated",
}
SLUGS = {"plain": "benchplain", "dedup": "benchdeduplicated"}
TASK_CLASSES = {"plain": tasks.BenchPlain, "dedup": tasks.BenchDeduplicated}


class Raw:
    """The floor: Google's client reused across calls, building the same task as this project."""

    def __init__(self) -> None:
        channel = grpc.insecure_channel(os.environ["CLOUD_TASKS_EMULATOR_HOST"])
        self.client = tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=channel))
        self.parent = self.client.queue_path(conf.settings.project, conf.settings.region, RAW_QUEUE)
        self.email = conf.settings.service_account_email

    def enqueue(self, mode: str, kwargs: dict[str, Any]) -> tasks_v2.Task:
        url = URLS[mode]
        body = json.dumps(kwargs)
        task = tasks_v2.Task(
            http_request=tasks_v2.HttpRequest(
                http_method=tasks_v2.HttpMethod.POST,
                url=url,
                headers={"Content-Type": "application/json"},
                body=body.encode(),
                oidc_token=tasks_v2.OidcToken(service_account_email=self.email, audience=url),
            )
        )
        if mode == "dedup":
            digest = hashlib.sha256(body.encode()).hexdigest()[:16]
            task.name = f"{self.parent}/tasks/{digest}--{SLUGS[mode]}--bench"
        return self.client.create_task(parent=self.parent, task=task)


_raw: Raw | None = None


def raw() -> Raw:
    global _raw
    if _raw is None:
        _raw = Raw()
    return _raw


def ours(mode: str, kwargs: dict[str, Any]) -> tasks_v2.Task:
    return TASK_CLASSES[mode]().enqueue(**kwargs)


def sequential(command: dict[str, Any]) -> dict[str, Any]:
    mode, run = command["mode"], command["run"]
    send = raw().enqueue if command["impl"] == "raw" else ours
    latencies = []
    created = 0
    started = time.perf_counter()
    for n in range(command["calls"]):
        before = time.perf_counter()
        result = send(mode, {"n": n, "run": run})
        latencies.append(time.perf_counter() - before)
        created += isinstance(result, tasks_v2.Task)
    elapsed = time.perf_counter() - started
    return {"latencies": latencies, "elapsed": elapsed, "created": created}


def bulk(command: dict[str, Any]) -> dict[str, Any]:
    run, count, workers = command["run"], command["tasks"], command["workers"]
    items = [{"n": n, "run": run} for n in range(count)]
    started = time.perf_counter()
    if command["impl"] == "raw":
        floor = raw()
        with futures.ThreadPoolExecutor(max_workers=workers) as pool:
            pending = [pool.submit(floor.enqueue, "plain", item) for item in items]
            outcomes: list[Any] = [f.exception() or f.result() for f in pending]
    else:
        outcomes = tasks.BenchPlain.enqueue_many(items, max_workers=workers)
    elapsed = time.perf_counter() - started
    errors = [repr(o) for o in outcomes if not isinstance(o, tasks_v2.Task)]
    return {"elapsed": elapsed, "created": count - len(errors), "errors": errors[:5]}


def describe(command: dict[str, Any]) -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "python": sys.version.split()[0],
        "django": django.get_version(),
        "target": conf.settings.emulator_target,
        "ours_queue": enqueueing.queue_path(conf.settings.default_queue_name or ""),
        "raw_queue": raw().parent,
    }


if __name__ == "__main__":
    sys.exit(spawning.serve({"sequential": sequential, "bulk": bulk, "describe": describe}))
