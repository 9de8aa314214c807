"""The life of a stored django.tasks run: recorded at enqueue, claimed by one delivery at a time
(the lease), closed for good by a permanent failure or a cancellation. Built on `recording`, and
like it a no-op unless `GCP_TASKS_RECORD_EXECUTIONS` is True.
"""

from __future__ import annotations

import enum
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.db import models as db_models
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from django_integration import conf, models, recording


class Outcome(enum.Enum):
    """What a delivery of a django.tasks run may do, decided by `claim`."""

    RUN = "run"  # this delivery holds the lease (or nothing is recorded): run the task
    SUCCEEDED_BEFORE = "succeeded_before"  # an earlier delivery succeeded: run nothing, 200
    RUNNING_ELSEWHERE = "running_elsewhere"  # another delivery holds the lease: answer 409
    CLOSED = "closed"  # cancelled or failed permanently: run nothing, 200
    OTHER_TASK = "other_task"  # the id names a run of another task: run nothing, 409


def claim(run_id: str, delivery: recording.Delivery) -> tuple[Outcome, recording.Execution]:
    """Take the lease of a django.tasks run for this delivery, creating the run if it is new.

    One conditional UPDATE decides, so two concurrent deliveries never both run it: the run must
    be retryable and READY, FAILED, or RUNNING under an expired lease."""
    execution = recording.Execution(attempt=delivery.attempt or 1)
    if not recording.enabled():
        return Outcome.RUN, execution
    with recording.guarded("claim", task_run=run_id):
        with transaction.atomic(using=recording.database()):
            recording.new_run(
                delivery, status=models.Status.READY, run_id=run_id, ignore_conflicts=True
            )
            now = timezone.now()
            lease_id = secrets.token_hex(16)
            claimable = Q(status__in=[models.Status.READY, models.Status.FAILED]) | Q(
                status=models.Status.RUNNING, lease_expires_at__lt=now
            )
            taken = (
                recording.runs()
                .filter(
                    claimable,
                    pk=run_id,
                    task=delivery.task,
                    backend=delivery.backend,
                    retryable=True,
                )
                .update(
                    status=models.Status.RUNNING,
                    lease_id=lease_id,
                    lease_expires_at=now + timedelta(seconds=conf.settings.lease_seconds),
                    started_at=Coalesce("started_at", db_models.Value(now)),
                    last_attempted_at=now,
                    attempts=db_models.F("attempts") + 1,
                )
            )
            run = recording.runs().get(pk=run_id)
            if not taken:
                return _refusal(run, delivery), execution
            earlier = tuple(
                recording.Earlier(e.worker_id, e.exception_path, e.traceback)
                for e in run.executions.order_by("attempt", "id")
            )
            row = recording.open_execution(execution, run, delivery)
        execution.run_id, execution.execution_id, execution.run = run.id, row.id, run
        execution.lease_id, execution.earlier = lease_id, earlier
    return Outcome.RUN, execution


def enqueued(
    run_id: str,
    *,
    task: str,
    backend: str,
    queue_name: str,
    args: list[Any],
    kwargs: dict[str, Any],
    run_after: datetime | None,
    cloud_task_path: str,
) -> bool:
    """Record a django.tasks run as READY before its Cloud Tasks task is created."""
    if not recording.enabled():
        return False
    with recording.guarded("enqueue", task_run=run_id):
        with transaction.atomic(using=recording.database()):
            now = timezone.now()
            recording.runs().create(
                id=run_id,
                kind=models.Kind.DJANGO_TASK,
                task=task,
                backend=backend,
                queue_name=queue_name,
                args=args,
                kwargs=kwargs,
                created_at=now,
                enqueued_at=now,
                run_after=run_after,
                cloud_task_path=cloud_task_path,
            )
        return True
    return False


def discard(run_id: str) -> None:
    """Forget a run whose Cloud Tasks task was never created (the enqueue raised)."""
    with (
        recording.guarded("discard", task_run=run_id),
        transaction.atomic(using=recording.database()),
    ):
        recording.runs().filter(pk=run_id, attempts=0).delete()


def enqueue_failed(run_id: str, error: BaseException) -> None:
    """A deferred enqueue (on commit) failed: the run says so, as it can no longer raise."""
    with (
        recording.guarded("enqueue_failed", task_run=run_id),
        transaction.atomic(using=recording.database()),
    ):
        now = timezone.now()
        recording.runs().filter(pk=run_id).update(
            status=models.Status.FAILED, retryable=False, finished_at=now
        )
        run = recording.runs().get(pk=run_id)
        # Attempt 0: the error is the enqueue's, no delivery ever ran the task.
        row = models.TaskExecution(
            run=run,
            kind=run.kind,
            task=run.task,
            attempt=0,
            status=models.Status.FAILED,
            started_at=now,
            finished_at=now,
        )
        recording.describe_failure(row, error)
        row.save(using=recording.database())


def cancel(run_id: str) -> models.TaskRun | None:
    """Mark a run that has not started (or will be retried) as cancelled; None if it cannot be:
    unknown, running, finished or already closed. Deliveries of it then run nothing."""
    now = timezone.now()
    with transaction.atomic(using=recording.database()):
        taken = (
            recording.runs()
            .filter(
                pk=run_id,
                retryable=True,
                status__in=[models.Status.READY, models.Status.FAILED],
            )
            .exclude(backend="")  # django.tasks runs only: class tasks' runs are not results
            .update(status=models.Status.FAILED, retryable=False, cancelled_at=now, finished_at=now)
        )
        return recording.runs().get(pk=run_id) if taken else None


# -- the steps ----------------------------------------------------------------------------------


def _refusal(run: models.TaskRun, delivery: recording.Delivery) -> Outcome:
    if (run.task, run.backend) != (delivery.task, delivery.backend):
        return Outcome.OTHER_TASK  # never ours to run, whatever its state
    if run.status == models.Status.SUCCESSFUL:
        return Outcome.SUCCEEDED_BEFORE
    if not run.retryable:
        return Outcome.CLOSED
    return Outcome.RUNNING_ELSEWHERE
