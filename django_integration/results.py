"""Django's `TaskResult` objects, read from stored runs (`models.TaskRun`) and their executions.

The run's status, times and return value become the result's; each execution is one of its
`worker_ids` (so `attempts` counts deliveries) and each failed one a `TaskError`. A cancelled run
is FAILED with a `TaskCancelledError` last among its errors.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import router
from django.utils.module_loading import import_string

from django_integration import catalog, exceptions, framework, models, recording

_CANCELLED = f"{exceptions.TaskCancelledError.__module__}.{exceptions.TaskCancelledError.__name__}"


def read(run_id: str) -> Any:
    """The result of the django.tasks run `run_id`; `TaskResultDoesNotExist` if there is none."""
    runs = models.TaskRun.objects.using(router.db_for_read(models.TaskRun))
    try:
        run = runs.exclude(backend="").get(pk=run_id)
    except (models.TaskRun.DoesNotExist, ValueError):
        raise framework.TaskResultDoesNotExist(run_id) from None
    earlier = [
        recording.Earlier(worker_id, exception_path, traceback)
        for worker_id, exception_path, traceback in run.executions.order_by(
            "attempt", "id"
        ).values_list("worker_id", "exception_path", "traceback")
    ]
    return build(task(run), run, earlier)


def task(run: models.TaskRun) -> Any:
    """The django.tasks Task of a run, as its enqueue made it (backend and queue)."""
    found = catalog.find(run.task)
    if found is None:
        # Written by our own enqueue or endpoint, never by a request: importing it is safe.
        found = import_string(run.task)
        if not isinstance(found, framework.Task):
            raise framework.TaskResultDoesNotExist(run.id)
    if (found.backend, found.queue_name) != (run.backend, run.queue_name):
        found = found.using(backend=run.backend, queue_name=run.queue_name or None)
    return found


def build(
    task: Any,
    run: models.TaskRun,
    earlier: Iterable[recording.Earlier],
    *,
    current_worker: str | None = None,
    attempt: int | None = None,
) -> Any:
    """The `TaskResult` of `run`; `current_worker` adds the delivery running it now, and
    `attempt`, the cloud's count, pads `worker_ids` with "" for attempts nobody recorded."""
    earlier = list(earlier)
    errors = [
        framework.TaskError(exception_class_path=e.exception_path, traceback=e.traceback)
        for e in earlier
        if e.exception_path
    ]
    if run.cancelled_at is not None:
        errors.append(
            framework.TaskError(
                exception_class_path=_CANCELLED,
                traceback=f"Cancelled at {run.cancelled_at.isoformat()}; it never ran after.",
            )
        )
    worker_ids = [e.worker_id for e in earlier if e.worker_id]
    if current_worker is not None:
        worker_ids.append(current_worker)
    if attempt is not None and attempt > len(worker_ids):
        worker_ids = [""] * (attempt - len(worker_ids)) + worker_ids
    result = framework.TaskResult(
        task=task,
        id=run.id,
        status=framework.TaskResultStatus(run.status),
        enqueued_at=run.enqueued_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        last_attempted_at=run.last_attempted_at,
        args=run.args,
        kwargs=run.kwargs,
        backend=run.backend,
        errors=errors,
        worker_ids=worker_ids,
    )
    object.__setattr__(result, "_return_value", run.return_value)
    return result
