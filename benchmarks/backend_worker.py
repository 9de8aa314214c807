"""Worker run with the django.tasks side environment (.bench/venv-django-tasks: Django 6, this
project, django-tasks-cloud-tasks and django-tasks-google): enqueues with the raw client and
through each backend's `enqueue()`, timing each call (`python -m benchmarks.backend_worker`).

All of them run in this one process, alternately, so they share the interpreter and the machine's
mood. The two other backends build `tasks_v2.CloudTasksClient()` inside every enqueue and have no
emulator switch; the one thing changed here is that such a client gets an insecure channel to
the emulator (a channel per client, as theirs get one per client) and no credentials: a real one
first runs `google.auth.default()`, which costs ~40 ms per call with a service-account key file
on this machine, so their numbers here are a lower bound. django-tasks-google's execution rows go
to an in-memory SQLite database, so what is measured is its code, not this machine's disk.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from typing import Any

import django
import grpc
from django.conf import settings
from google.cloud import tasks_v2
from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

from benchmarks import spawning

HOST = os.environ["CLOUD_TASKS_EMULATOR_HOST"]
PROJECT = os.environ.get("GCP_PROJECT", "bench-project")
LOCATION = "europe-west1"
DOMAIN = "http://127.0.0.1:8000"
ACCOUNT = f"bench-tasks@{PROJECT}.iam.gserviceaccount.com"
QUEUES = {
    "raw": "bench-tasks-raw",
    "ours": "bench-tasks-ours",
    "django-tasks-cloud-tasks": "bench-tasks-cloud-tasks",
    "django-tasks-google": "bench-tasks-google",
}

settings.configure(
    DEBUG=False,
    SECRET_KEY="benchmark-only-not-a-secret",
    ALLOWED_HOSTS=["127.0.0.1"],
    INSTALLED_APPS=["django_integration", "django_tasks_google"],
    ROOT_URLCONF=__name__,
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    USE_TZ=True,
    GCP_TASKS_DOMAIN=DOMAIN,
    GCP_TASKS_PROJECT=PROJECT,
    GCP_TASKS_REGION=LOCATION,
    GCP_TASKS_SERVICE_ACCOUNT_EMAIL=ACCOUNT,
    GCP_TASKS_EMULATOR_TARGET=HOST,
    TASKS={
        "ours": {
            "BACKEND": "django_integration.backends.CloudTasksBackend",
            "QUEUES": ["default"],
            "OPTIONS": {"QUEUE_IDS": {"default": QUEUES["ours"]}},
        },
        "django-tasks-cloud-tasks": {
            "BACKEND": "django_tasks_cloud_tasks.backends.CloudTasksBackend",
            "QUEUES": [QUEUES["django-tasks-cloud-tasks"]],
            "OPTIONS": {
                "CLOUD_TASKS_PROJECT": PROJECT,
                "CLOUD_TASKS_LOCATION": LOCATION,
                "TASK_HANDLER_HOST": DOMAIN,
                "OIDC_SERVICE_ACCOUNT_EMAIL": ACCOUNT,
            },
        },
        "django-tasks-google": {
            "BACKEND": "django_tasks_google.backends.CloudTasksBackend",
            "QUEUES": [QUEUES["django-tasks-google"]],
            "OPTIONS": {
                "project_id": PROJECT,
                "location": LOCATION,
                "base_url": f"{DOMAIN}/tasks/",
                "oidc_service_account": ACCOUNT,
            },
        },
    },
)


class EmulatorClient(tasks_v2.CloudTasksClient):
    """`CloudTasksClient()` as the other backends call it, with a channel to the emulator."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "transport" not in kwargs:
            channel = grpc.insecure_channel(HOST)
            kwargs["transport"] = CloudTasksGrpcTransport(channel=channel)
        super().__init__(*args, **kwargs)


tasks_v2.CloudTasksClient = EmulatorClient  # type: ignore[misc]
django.setup()

from django.core.management import call_command  # noqa: E402
from django.tasks import task  # noqa: E402
from django.urls import include, path  # noqa: E402

urlpatterns = [path("gcp/", include("django_integration.urls"))]


@task(backend="ours")
def bench_ours(**kwargs: Any) -> None:
    return None


@task(backend="django-tasks-cloud-tasks", queue_name=QUEUES["django-tasks-cloud-tasks"])
def bench_cloud_tasks(**kwargs: Any) -> None:
    return None


@task(backend="django-tasks-google", queue_name=QUEUES["django-tasks-google"])
def bench_google(**kwargs: Any) -> None:
    return None


TASKS = {
    "ours": bench_ours,
    "django-tasks-cloud-tasks": bench_cloud_tasks,
    "django-tasks-google": bench_google,
}


class Raw:
    """The floor: Google's client reused across calls, building the task our backend builds."""

    def __init__(self) -> None:
        channel = grpc.insecure_channel(HOST)
        self.client = tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=channel))
        self.parent = self.client.queue_path(PROJECT, LOCATION, QUEUES["raw"])
        self.url = f"{DOMAIN}/gcp/django-tasks/{bench_ours.module_path}"

    def enqueue(self, kwargs: dict[str, Any]) -> tasks_v2.Task:
        body = {"id": secrets.token_hex(16), "backend": "ours", "args": [], "kwargs": kwargs}
        task = tasks_v2.Task(
            http_request=tasks_v2.HttpRequest(
                http_method=tasks_v2.HttpMethod.POST,
                url=self.url,
                headers={"Content-Type": "application/json"},
                body=json.dumps(body).encode(),
                oidc_token=tasks_v2.OidcToken(service_account_email=ACCOUNT, audience=self.url),
            )
        )
        return self.client.create_task(parent=self.parent, task=task)


_raw: Raw | None = None


def send(implementation: str, kwargs: dict[str, Any]) -> Any:
    global _raw
    if implementation == "raw":
        if _raw is None:
            _raw = Raw()
        return _raw.enqueue(kwargs)
    return TASKS[implementation].enqueue(**kwargs)


def sequential(command: dict[str, Any]) -> dict[str, Any]:
    implementation, run = command["impl"], command["run"]
    latencies = []
    started = time.perf_counter()
    for n in range(command["calls"]):
        before = time.perf_counter()
        send(implementation, {"n": n, "run": run})
        latencies.append(time.perf_counter() - before)
    return {"latencies": latencies, "elapsed": time.perf_counter() - started}


def describe(command: dict[str, Any]) -> dict[str, Any]:
    from importlib import metadata

    packages = ("Django", "gcp-tasks-controller", "django-tasks-cloud-tasks", "django-tasks-google")
    return {
        "pid": os.getpid(),
        "python": sys.version.split()[0],
        "versions": {name: metadata.version(name) for name in packages},
    }


def main() -> int:
    call_command("migrate", verbosity=0)  # django-tasks-google stores each execution
    return spawning.serve({"sequential": sequential, "describe": describe})


if __name__ == "__main__":
    sys.exit(main())
