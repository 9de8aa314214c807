"""Found by autodiscovery only: nothing imports this module explicitly."""

import threading
import time

from django_integration.tasks import OnDemandTask, PeriodicTask, SubscriberTask

_lock = threading.Lock()
runs: list[tuple[str, dict, object]] = []


def record(name, kwargs, info):
    with _lock:
        runs.append((name, kwargs, info))


def runs_of(name):
    with _lock:
        return [(kwargs, info) for task, kwargs, info in runs if task == name]


class RecordingTask(OnDemandTask):
    def run(self, **kwargs):
        record(self.name(), kwargs, self.task_info)
        return {"received": kwargs}


class DeduplicatedRecordingTask(OnDemandTask):
    deduplicate = True

    def run(self, **kwargs):
        record(self.name(), kwargs, self.task_info)
        return "done"


class ExplodingTask(OnDemandTask):
    dispatch_deadline = 120.0

    def run(self, **kwargs):
        record(self.name(), kwargs, self.task_info)
        raise RuntimeError("boom")


class HourlyTask(PeriodicTask):
    run_every = "0 * * * *"

    def run(self, **kwargs):
        record(self.name(), kwargs, self.task_info)
        return "tick"


class RecordingSubscriber(SubscriberTask):
    topic_id = "test-events"

    def run(self, data, attributes, message_id, ordering_key, publish_time, subscription, **kwargs):
        record(
            self.name(),
            {
                "data": data,
                "attributes": attributes,
                "message_id": message_id,
                "ordering_key": ordering_key,
                "publish_time": publish_time,
                "subscription": subscription,
                **kwargs,
            },
            self.task_info,
        )
        return "ok"


# -- django.tasks (Django 6; the django-tasks backport on 5.2) -----------------------------------

try:
    from django.tasks import task
except ImportError:
    from django_tasks import task

from django_integration.exceptions import PermanentTaskError  # noqa: E402
from django_integration.schedules import periodic  # noqa: E402

attempts_left: dict[str, int] = {}  # flaky(): failures still to come, by key


@task
def add(a, b):
    record("add", {"a": a, "b": b}, None)
    return a + b


@task(backend="deduplicated")
def rebuild(scope):
    record("rebuild", {"scope": scope}, None)
    return {"rebuilt": scope}


@task
def explode(n):
    record("explode", {"n": n}, None)
    raise RuntimeError(f"boom {n}")


@task
def flaky(key):
    """Fails while attempts_left[key] > 0, then succeeds."""
    record("flaky", {"key": key}, None)
    with _lock:
        left = attempts_left.get(key, 0)
        attempts_left[key] = left - 1
    if left > 0:
        raise RuntimeError(f"flaky {key}: {left} failure(s) to go")
    return "recovered"


@task
def refuse(reason):
    record("refuse", {"reason": reason}, None)
    raise PermanentTaskError(reason)


@task(takes_context=True)
def introspect(context, n):
    record("introspect", {"n": n}, context)
    return {"attempt": context.attempt, "id": context.task_result.id}


@task
async def async_double(n):
    record("async_double", {"n": n}, None)
    return n * 2


@task
def linger(seconds):
    record("linger", {"seconds": seconds}, None)
    time.sleep(seconds)
    return seconds


@task
def unserializable():
    record("unserializable", {}, None)
    return object()


@periodic("*/5 * * * *", kwargs={"scope": "recent"}, time_zone="Europe/Paris", retry_count=2)
@task
def sweep(scope):
    """Sweep the recent orders."""
    record("sweep", {"scope": scope}, None)
    return {"swept": scope}


@task(backend="immediate")
def elsewhere():
    record("elsewhere", {}, None)


def plain_function():
    record("plain_function", {}, None)
