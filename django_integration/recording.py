"""Recording runs and executions (`models`) for every endpoint: a no-op unless
`GCP_TASKS_RECORD_EXECUTIONS` is True.

Recording never changes a task's outcome: a database error is logged (standard `logging`, so the
app's LOGGING and Sentry see it, and structlog) and the task runs and answers as it would without
recording. Each step is one transaction of its own (a savepoint inside ATOMIC_REQUESTS), whose
first statement writes, so SQLite takes its write lock at once instead of failing to upgrade it.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import logging
import os
import secrets
import socket
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import structlog
from django.db import models as db_models
from django.db import router, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from django_integration import conf, deliveries, models, payloads, tasks, writing

logger = structlog.get_logger()
log = logging.getLogger(__name__)

# Tracebacks are kept to their last 64 KiB (the end names the failing line) and messages to 2,000
# characters: one huge exception must not make every row of the executions list heavy.
MAX_TRACEBACK = 65_536
MAX_MESSAGE = 2_000
_worker_ids: dict[int, str] = {}


class Outcome(enum.Enum):
    """What a delivery of a django.tasks run may do, decided by `claim`."""

    RUN = "run"  # this delivery holds the lease (or nothing is recorded): run the task
    SUCCEEDED_BEFORE = "succeeded_before"  # an earlier delivery succeeded: run nothing, 200
    RUNNING_ELSEWHERE = "running_elsewhere"  # another delivery holds the lease: answer 409
    CLOSED = "closed"  # cancelled or failed permanently: run nothing, 200


@dataclasses.dataclass(frozen=True)
class Delivery:
    """What an endpoint knows about one delivery before the task runs."""

    kind: models.Kind
    task: str
    info: deliveries.TaskInfo
    args: list[Any] = dataclasses.field(default_factory=list)
    kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    backend: str = ""
    queue_name: str = ""
    message_id: str | None = None
    subscription: str | None = None

    @property
    def attempt(self) -> int | None:
        """The attempt number the cloud reports, when it reports one."""
        if self.info.retry_count is not None:
            return self.info.retry_count + 1
        return self.info.delivery_attempt

    @property
    def key(self) -> str:
        """Which deliveries are the same logical run (see `TaskRun.delivery_key`); "" if unknown."""
        info = self.info
        if self.kind == models.Kind.SUBSCRIBER and self.message_id and self.subscription:
            return f"pubsub:{self.subscription}/{self.message_id}"
        if info.scheduler_job_name and info.schedule_time is not None:
            return f"scheduler:{info.scheduler_job_name}@{info.schedule_time.isoformat()}"
        if info.task_name and info.queue_name:
            return f"cloudtasks:{info.queue_name}/{info.task_name}"
        return ""


@dataclasses.dataclass(frozen=True)
class Earlier:
    """A recorded earlier attempt of the same run, as Django's `TaskResult` lists them."""

    worker_id: str
    exception_path: str
    traceback: str


@dataclasses.dataclass(frozen=True)
class Failure:
    """An exception as it is stored and as Django's `TaskError` names it."""

    exception_path: str
    message: str
    traceback: str


def failure(error: BaseException) -> Failure:
    kind = type(error)
    return Failure(
        exception_path=f"{kind.__module__}.{kind.__qualname__}"[:255],
        message=str(error)[:MAX_MESSAGE],
        traceback="".join(traceback.format_exception(error))[-MAX_TRACEBACK:],
    )


@dataclasses.dataclass
class Execution:
    """One delivery being recorded; `succeeded` or `failed` closes it. Without a `run_id`
    (recording off, or it failed) both do nothing."""

    attempt: int
    run_id: str | None = None
    execution_id: int | None = None
    lease_id: str = ""
    run: models.TaskRun | None = None  # the run as this delivery found it
    earlier: tuple[Earlier, ...] = ()
    _started: float = dataclasses.field(default_factory=time.perf_counter)

    def succeeded(self, return_value: Any) -> None:
        if self.run_id is None:
            return
        with _recorded("finish", task_run=self.run_id):
            _finish(self, models.Status.SUCCESSFUL, return_value=_storable(return_value))

    def failed(self, error: BaseException, *, retryable: bool = True) -> None:
        if self.run_id is None:
            return
        with _recorded("finish", task_run=self.run_id):
            _finish(self, models.Status.FAILED, error=error, retryable=retryable)


def enabled() -> bool:
    return conf.settings.record_executions


def class_delivery(
    task_class: type[tasks.Task], kwargs: dict[str, Any], info: deliveries.TaskInfo
) -> Delivery:
    """The delivery of a class-based task (`views`): its kind follows from its base class."""
    kind = models.Kind.ON_DEMAND
    if issubclass(task_class, tasks.PeriodicTask):
        kind = models.Kind.PERIODIC
    elif issubclass(task_class, tasks.SubscriberTask):
        return Delivery(
            kind=models.Kind.SUBSCRIBER,
            task=task_class.name(),
            info=info,
            kwargs=kwargs,
            message_id=kwargs.get("message_id"),
            subscription=kwargs.get("subscription"),
        )
    return Delivery(kind=kind, task=task_class.name(), info=info, kwargs=kwargs)


def worker_id() -> str:
    """This process, as `TaskResult.worker_ids` names the workers that ran a task."""
    pid = os.getpid()  # a forked worker is a new worker: the cache is keyed on it
    known = _worker_ids.get(pid)
    if known is None:
        known = _worker_ids[pid] = f"{socket.gethostname()}:{pid}"
    return known


def start(delivery: Delivery) -> Execution:
    """Record the start of a delivery of a class-based task (no lease: those run as before)."""
    execution = Execution(attempt=delivery.attempt or 1)
    if not enabled():
        return execution
    with _recorded("start", task=delivery.task):
        with transaction.atomic(using=_database()):
            run = _resume(delivery) or _create(delivery, status=models.Status.RUNNING)
            row = _open(execution, run, delivery)
        # Only once committed: a rolled-back start leaves nothing for `succeeded` to update.
        execution.run_id, execution.execution_id, execution.run = run.id, row.id, run
    return execution


def claim(run_id: str, delivery: Delivery) -> tuple[Outcome, Execution]:
    """Take the lease of a django.tasks run for this delivery, creating the run if it is new.

    One conditional UPDATE decides, so two concurrent deliveries never both run it: the run must
    be retryable and READY, FAILED, or RUNNING under an expired lease."""
    execution = Execution(attempt=delivery.attempt or 1)
    if not enabled():
        return Outcome.RUN, execution
    with _recorded("claim", task_run=run_id):
        with transaction.atomic(using=_database()):
            _create(delivery, status=models.Status.READY, run_id=run_id, ignore_conflicts=True)
            now = timezone.now()
            lease_id = secrets.token_hex(16)
            claimable = Q(status__in=[models.Status.READY, models.Status.FAILED]) | Q(
                status=models.Status.RUNNING, lease_expires_at__lt=now
            )
            taken = (
                _runs()
                .filter(claimable, pk=run_id, retryable=True)
                .update(
                    status=models.Status.RUNNING,
                    lease_id=lease_id,
                    lease_expires_at=now + timedelta(seconds=conf.settings.lease_seconds),
                    started_at=Coalesce("started_at", db_models.Value(now)),
                    last_attempted_at=now,
                    attempts=db_models.F("attempts") + 1,
                )
            )
            run = _runs().get(pk=run_id)
            if not taken:
                return _refusal(run), execution
            earlier = tuple(
                Earlier(e.worker_id, e.exception_path, e.traceback)
                for e in run.executions.order_by("attempt", "id")
            )
            row = _open(execution, run, delivery)
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
    if not enabled():
        return False
    with _recorded("enqueue", task_run=run_id):
        with transaction.atomic(using=_database()):
            now = timezone.now()
            _runs().create(
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
    with _recorded("discard", task_run=run_id), transaction.atomic(using=_database()):
        _runs().filter(pk=run_id, attempts=0).delete()


def enqueue_failed(run_id: str, error: BaseException) -> None:
    """A deferred enqueue (on commit) failed: the run says so, as it can no longer raise."""
    with _recorded("enqueue_failed", task_run=run_id), transaction.atomic(using=_database()):
        now = timezone.now()
        _runs().filter(pk=run_id).update(
            status=models.Status.FAILED, retryable=False, finished_at=now
        )
        run = _runs().get(pk=run_id)
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
        _describe_failure(row, error)
        row.save(using=_database())


def cancel(run_id: str) -> models.TaskRun | None:
    """Mark a run that has not started (or will be retried) as cancelled; None if it cannot be:
    unknown, running, finished or already closed. Deliveries of it then run nothing."""
    now = timezone.now()
    with transaction.atomic(using=_database()):
        taken = (
            _runs()
            .filter(
                pk=run_id,
                retryable=True,
                status__in=[models.Status.READY, models.Status.FAILED],
            )
            .update(status=models.Status.FAILED, retryable=False, cancelled_at=now, finished_at=now)
        )
        return _runs().get(pk=run_id) if taken else None


# -- the steps ----------------------------------------------------------------------------------


def _resume(delivery: Delivery) -> models.TaskRun | None:
    """Count this delivery on the newest unfinished run of its key (a retry); None if none."""
    if not delivery.key:
        return None
    if not writing.resume(_database(), delivery.key, timezone.now()):
        return None
    return (
        _runs()
        .filter(delivery_key=delivery.key)
        .exclude(status=models.Status.SUCCESSFUL)
        .order_by("-created_at")
        .first()
    )


def _create(
    delivery: Delivery,
    *,
    status: models.Status,
    run_id: str | None = None,
    ignore_conflicts: bool = False,
) -> models.TaskRun:
    now = timezone.now()
    run = models.TaskRun(
        id=run_id or secrets.token_hex(16),
        kind=delivery.kind,
        task=delivery.task,
        backend=delivery.backend,
        queue_name=delivery.queue_name or delivery.info.queue_name or "",
        status=status,
        args=delivery.args,
        kwargs=delivery.kwargs,
        created_at=now,
        enqueued_at=delivery.info.schedule_time,  # a Scheduler firing: when it was due
        delivery_key=delivery.key,
    )
    if status == models.Status.RUNNING:
        run.started_at = run.last_attempted_at = now
        run.attempts = 1
    if ignore_conflicts:
        _runs().bulk_create([run], ignore_conflicts=True)
    else:
        writing.insert(run, _database())
    return run


def _open(execution: Execution, run: models.TaskRun, delivery: Delivery) -> models.TaskExecution:
    info = delivery.info
    execution.attempt = delivery.attempt or run.attempts or 1
    row = models.TaskExecution(
        run=run,
        kind=run.kind,
        task=run.task,
        attempt=execution.attempt,
        caller=info.caller or "",
        worker_id=worker_id(),
        cloud_task_name=info.task_name or "",
        scheduler_job_name=info.scheduler_job_name or "",
        message_id=delivery.message_id or "",
    )
    writing.insert(row, _database())
    return row


def _refusal(run: models.TaskRun) -> Outcome:
    if run.status == models.Status.SUCCESSFUL:
        return Outcome.SUCCEEDED_BEFORE
    if not run.retryable:
        return Outcome.CLOSED
    return Outcome.RUNNING_ELSEWHERE


def _finish(
    execution: Execution,
    status: models.Status,
    *,
    return_value: Any = None,
    error: BaseException | None = None,
    retryable: bool = True,
) -> None:
    now = timezone.now()
    duration = timedelta(seconds=time.perf_counter() - execution._started)
    finished: dict[str, Any] = {"status": status, "finished_at": now, "duration": duration}
    if error is not None:
        described = failure(error)
        finished.update(
            exception_path=described.exception_path,
            error_message=described.message,
            traceback=described.traceback,
        )
    changes: dict[str, Any] = {"status": status, "finished_at": now}
    where: dict[str, Any] = {"id": execution.run_id}
    if execution.lease_id:
        changes.update(lease_id="", lease_expires_at=None)
        where["lease_id"] = execution.lease_id
    if status == models.Status.SUCCESSFUL:
        changes["return_value"] = return_value
    elif not retryable:
        changes["retryable"] = False
    database = _database()
    with transaction.atomic(using=database):
        if not writing.update(models.TaskRun, database, changes, where):
            # Our lease expired and another delivery took the run: its outcome is the run's.
            logger.warning("task_run_lease_lost", task_run=execution.run_id)
        writing.update(models.TaskExecution, database, finished, {"id": execution.execution_id})


def _describe_failure(row: models.TaskExecution, error: BaseException) -> None:
    described = failure(error)
    row.exception_path = described.exception_path
    row.error_message = described.message
    row.traceback = described.traceback


def _storable(value: Any) -> Any:
    """The value as the JSON column will hold it, or None when it has no JSON form."""
    try:
        json.dumps(value, cls=payloads.JSONEncoder)
    except (TypeError, ValueError):
        logger.warning("task_return_value_not_stored", type=type(value).__name__)
        return None
    return value


def _database() -> str:
    return router.db_for_write(models.TaskRun)


def _runs() -> db_models.QuerySet[models.TaskRun]:
    return models.TaskRun.objects.using(_database())


@contextmanager
def _recorded(action: str, **context: Any) -> Iterator[None]:
    """Log and swallow whatever goes wrong while recording (a missing table, a lost connection)."""
    try:
        yield
    except Exception as error:
        hint = ""
        if models.TaskRun._meta.db_table in str(error):
            hint = " (django_integration's tables are missing: run `manage.py migrate`)"
        log.error(
            "Recording a task %s failed; the task runs and answers unrecorded%s",
            action,
            hint,
            exc_info=error,
        )
        logger.error(
            "task_recording_failed",
            action=action,
            error=f"{type(error).__name__}: {error}",
            **context,
        )
