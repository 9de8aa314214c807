"""Running a recorded run again with the same arguments (the admin's Retry): a new run, linked to
the first through `retry_of`, sent through Cloud Tasks like any enqueue, so it is delivered,
verified and recorded as usual.

A class-based task's new run is stored before its Cloud Tasks task is created, under the delivery
key its delivery will carry (`recording.Delivery.key`), so the endpoint records the delivery on
it. A django.tasks task is enqueued through its backend, which stores the run itself.
"""

from __future__ import annotations

import base64
import dataclasses
import secrets
from typing import Any

from django.db import router
from django.utils import timezone
from google.api_core import exceptions as api_exceptions

from django_integration import (
    conf,
    deliveries,
    enqueueing,
    exceptions,
    models,
    payloads,
    recording,
    results,
    tasks,
)


class NotRetryable(Exception):
    """The run cannot be sent again; the message says why."""


def retry(run: models.TaskRun) -> models.TaskRun:
    """Send `run`'s task again with its arguments; the new run (READY until delivered)."""
    settings = conf.settings
    if not settings.record_executions:
        raise NotRetryable("GCP_TASKS_RECORD_EXECUTIONS is off: a retry would not be recorded")
    if settings.disable_execute or settings.eager_execute:
        raise NotRetryable(
            "GCP_TASKS_DISABLE_EXECUTE or GCP_TASKS_EAGER_EXECUTE is set: a retry is sent "
            "through Cloud Tasks, which this app does not use"
        )
    try:
        if run.backend:
            return _retry_django_task(run)
        return _retry_class_task(run)
    except (exceptions.DuplicateTaskError, api_exceptions.GoogleAPICallError) as error:
        raise NotRetryable(f"Cloud Tasks refused it: {error}") from error


def _retry_django_task(run: models.TaskRun) -> models.TaskRun:
    try:
        task = results.task(run)
    except Exception as error:  # renamed or removed since it ran
        raise NotRetryable(f"{run.task} is no longer a task of this app: {error}") from error
    result = task.enqueue(*run.args, **run.kwargs)
    runs = _runs()
    runs.filter(pk=result.id).update(retry_of=run)
    try:
        return runs.get(pk=result.id)
    except models.TaskRun.DoesNotExist:
        raise NotRetryable(f"{run.task} was enqueued as {result.id} but not recorded") from None


def _retry_class_task(run: models.TaskRun) -> models.TaskRun:
    task_class = tasks.find(run.task)
    if task_class is None:
        raise NotRetryable(f"No task named {run.task!r} is registered in this app")
    kwargs = dict(run.kwargs)
    task = task_class()
    queue = task.queue_name
    task_id = secrets.token_hex(16)
    info = deliveries.TaskInfo(queue_name=queue, task_name=task_id)
    # The key the endpoint will compute for this delivery, so it records it on the new run.
    key = recording.class_delivery(task_class, kwargs, info).key
    # The task's own request (URL, dispatch deadline...), with the retry's body and id.
    request = dataclasses.replace(
        task._request(kwargs, None), body=_body(task_class, kwargs), task_id=task_id
    )
    now = timezone.now()
    retried = _runs().create(
        id=secrets.token_hex(16),
        kind=run.kind,
        task=run.task,
        queue_name=queue,
        kwargs=kwargs,
        created_at=now,
        enqueued_at=now,
        cloud_task_path=f"{enqueueing.queue_path(queue)}/tasks/{task_id}",
        delivery_key=key,
        retry_of=run,
    )
    try:
        enqueueing.enqueue(request)
    except BaseException:
        retried.delete()
        raise
    return retried


def _body(task_class: type[tasks.Task], kwargs: dict[str, Any]) -> str:
    """What the endpoint of `task_class` reads: its kwargs, or for a subscriber the Pub/Sub push
    envelope they were decoded from (the data as JSON)."""
    if not issubclass(task_class, tasks.SubscriberTask):
        return payloads.encode(kwargs)
    message = {
        "data": base64.b64encode(payloads.encode(kwargs.get("data")).encode()).decode(),
        "attributes": kwargs.get("attributes") or {},
        "messageId": kwargs.get("message_id"),
        "publishTime": kwargs.get("publish_time"),
    }
    if kwargs.get("ordering_key"):
        message["orderingKey"] = kwargs["ordering_key"]
    return payloads.encode({"message": message, "subscription": kwargs.get("subscription")})


def _runs() -> Any:
    return models.TaskRun.objects.using(router.db_for_write(models.TaskRun))
