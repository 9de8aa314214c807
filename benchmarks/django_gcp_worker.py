"""Worker run with django-gcp's own interpreter (.bench/venv-django-gcp): enqueues through
`django_gcp.tasks.OnDemandTask` and runs `task_manager create_scheduler_jobs`, timing itself.

Standalone on purpose (stdlib, Django, django-gcp, Google's clients): it must not import this
project. Cloud Tasks is reached the way django-gcp supports, `GCP_TASKS_EMULATOR_TARGET`. Its Cloud
Scheduler client has no emulator switch, so the one thing changed here is how that client is built:
over an insecure channel to the emulator, one channel per client, as django-gcp does for Cloud
Tasks; every API call it makes is its own.
"""

import io
import json
import os
import sys
import time
import traceback

import django
import grpc
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="benchmark-only-not-a-secret",
    ALLOWED_HOSTS=["127.0.0.1"],
    INSTALLED_APPS=["django_gcp"],
    ROOT_URLCONF=__name__,
    DATABASES={},
    USE_TZ=True,
    GCP_TASKS_DOMAIN="http://127.0.0.1:8000",
    GCP_TASKS_DEFAULT_QUEUE_NAME="bench-django-gcp",
    GCP_TASKS_REGION="europe-west1",
    GCP_TASKS_RESOURCE_AFFIX="bench",
    GCP_TASKS_EMULATOR_TARGET=os.environ["CLOUD_TASKS_EMULATOR_HOST"],
)
django.setup()

from django.apps import apps  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.urls import include, path  # noqa: E402
from django_gcp.tasks import OnDemandTask, PeriodicTask, TaskManager  # noqa: E402
from django_gcp.tasks._pilot import scheduler as pilot_scheduler  # noqa: E402
from google.cloud.scheduler_v1.services.cloud_scheduler import transports  # noqa: E402
from google.cloud.tasks_v2 import Task  # noqa: E402

urlpatterns = [path("gcp/", include("django_gcp.urls"))]


class BenchPlain(OnDemandTask):
    def run(self, **kwargs):
        return None


class BenchDeduplicated(OnDemandTask):
    deduplicate = True

    def run(self, **kwargs):
        return None


TASK_CLASSES = {"plain": BenchPlain, "dedup": BenchDeduplicated}


def _emulated_scheduler_client(self, **kwargs):
    channel = grpc.insecure_channel(os.environ["CLOUD_SCHEDULER_EMULATOR_HOST"])
    transport = transports.CloudSchedulerGrpcTransport(channel=channel)
    return pilot_scheduler.scheduler.CloudSchedulerClient(transport=transport)


pilot_scheduler.CloudScheduler._build_client = _emulated_scheduler_client


def sequential(command):
    mode, run = command["mode"], command["run"]
    task_class = TASK_CLASSES[mode]
    latencies = []
    created = 0
    started = time.perf_counter()
    for n in range(command["calls"]):
        before = time.perf_counter()
        result = task_class().enqueue(n=n, run=run)
        latencies.append(time.perf_counter() - before)
        created += isinstance(result, Task)
    elapsed = time.perf_counter() - started
    return {"latencies": latencies, "elapsed": elapsed, "created": created}


def create_scheduler_jobs(command):
    """N periodic tasks (defined once per process), then the management command, timed."""
    config = apps.get_app_config("django_gcp")
    count = command["jobs"]
    if len(config.task_manager.periodic_tasks) != count:
        config.task_manager = TaskManager()
        for index in range(count):
            type(
                f"Job{index:05d}",
                (PeriodicTask,),
                {"run_every": "0 3 * * *", "run": lambda self, **kwargs: None},
            )
    arguments = ["create_scheduler_jobs"] + (["--cleanup"] if command.get("cleanup") else [])
    output = io.StringIO()
    started = time.perf_counter()
    call_command("task_manager", *arguments, stdout=output)
    elapsed = time.perf_counter() - started
    return {"elapsed": elapsed, "reported": output.getvalue().count("[+]")}


def describe(command):
    from importlib import metadata

    return {
        "pid": os.getpid(),
        "python": sys.version.split()[0],
        "django": django.get_version(),
        "django_gcp": metadata.version("django-gcp"),
        "google_cloud_tasks": metadata.version("google-cloud-tasks"),
        "grpcio": metadata.version("grpcio"),
    }


HANDLERS = {
    "sequential": sequential,
    "create_scheduler_jobs": create_scheduler_jobs,
    "describe": describe,
}


def main():
    # Answers go to the real stdout; whatever else prints (django-gcp's reports) goes to stderr.
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    for line in sys.stdin:
        if not line.strip():
            continue
        command = json.loads(line)
        try:
            reply = HANDLERS[command["op"]](command)
        except Exception:
            reply = {"error": traceback.format_exc()}
        answers.write(json.dumps(reply) + "\n")
        answers.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
