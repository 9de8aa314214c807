"""Recording runs and executions (`models`) for every endpoint: a no-op unless
`GCP_TASKS_RECORD_EXECUTIONS` is True. The lease and the rest of a django.tasks run's life are
in `claiming`, on top of this.

Recording never changes a task's outcome: a database error is logged (standard `logging`, so the
app's LOGGING and Sentry see it, and structlog) and the task runs and answers as it would without
recording. Each step is one transaction of its own (a savepoint inside ATOMIC_REQUESTS), whose
first statement writes, so SQLite takes its write lock at once instead of failing to upgrade it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import secrets
import socket
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import structlog
from django.db import models as db_models
from django.db import router, transaction
from django.utils import timezone

from django_integration import conf, deliveries, models, payloads, tasks, writing

logger = structlog.get_logger()
log = logging.getLogger(__name__)

# Tracebacks are kept to their last 64 KiB (the end names the failing line) and messages to 2,000
# characters: one huge exception must not make every row of the executions list heavy.
MAX_TRACEBACK = 65_536
MAX_MESSAGE = 2_000
_worker_ids: dict[int, str] = {}


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
        with guarded("finish", task_run=self.run_id):
            _finish(self, models.Status.SUCCESSFUL, return_value=_storable(return_value))

    def failed(self, error: BaseException, *, retryable: bool = True) -> None:
        if self.run_id is None:
            return
        with guarded("finish", task_run=self.run_id):
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
    with guarded("start", task=delivery.task):
        with transaction.atomic(using=database()):
            run = _resume(delivery) or _insert_run(delivery, status=models.Status.RUNNING)
            row = open_execution(execution, run, delivery)
        # Only once committed: a rolled-back start leaves nothing for `succeeded` to update.
        execution.run_id, execution.execution_id, execution.run = run.id, row.id, run
    return execution


def _resume(delivery: Delivery) -> models.TaskRun | None:
    """Count this delivery on the newest unfinished run of its key (a retry); None if none."""
    if not delivery.key:
        return None
    # One UPDATE that finds and counts: the transaction's first statement is a write.
    if not writing.resume(database(), delivery.key, timezone.now()):
        return None
    return (
        runs()
        .filter(delivery_key=delivery.key)
        .exclude(status=models.Status.SUCCESSFUL)
        .order_by("-created_at")
        .first()
    )


def new_run(
    delivery: Delivery,
    *,
    status: models.Status,
    run_id: str | None = None,
    ignore_conflicts: bool = False,
) -> str:
    """Insert the run a delivery starts; `ignore_conflicts` leaves an existing `run_id` as is."""
    return _insert_run(delivery, status=status, run_id=run_id, ignore_conflicts=ignore_conflicts).id


def _insert_run(
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
        runs().bulk_create([run], ignore_conflicts=True)
    else:
        writing.insert(run, database())
    return run


def open_execution(
    execution: Execution, run: models.TaskRun, delivery: Delivery
) -> models.TaskExecution:
    """Insert the execution row of this delivery of `run`."""
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
    writing.insert(row, database())
    return row


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
    using = database()
    with transaction.atomic(using=using):
        if not writing.update(models.TaskRun, using, changes, where):
            # Our lease expired and another delivery took the run: its outcome is the run's.
            logger.warning("task_run_lease_lost", task_run=execution.run_id)
        writing.update(models.TaskExecution, using, finished, {"id": execution.execution_id})


def describe_failure(row: models.TaskExecution, error: BaseException) -> None:
    """Fill an execution's exception path, message and traceback from `error`."""
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


def database() -> str:
    """Where runs are written (and read back, so a lease is never judged on a replica)."""
    return router.db_for_write(models.TaskRun)


def runs() -> db_models.QuerySet[models.TaskRun]:
    """Every stored run, on `database()`."""
    return models.TaskRun.objects.using(database())


@contextmanager
def guarded(action: str, **context: Any) -> Iterator[None]:
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
