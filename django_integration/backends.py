"""`CloudTasksBackend`: Django's task framework (`django.tasks`) on Google Cloud Tasks.

`TASKS = {"default": {"BACKEND": "django_integration.backends.CloudTasksBackend", "QUEUES": [...],
"OPTIONS": {...}}}`. Every option defaults to its `GCP_TASKS_*` setting, so the class-based API
and this backend share one configuration. A task becomes a Cloud Tasks HTTP task carrying an OIDC
token, created over the process's one client (`enqueueing`), pushed to the `gcp-django-tasks`
endpoint (`backend_views`), which runs only tasks this backend validated (`catalog`).
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from datetime import datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import transaction
from django.template.defaultfilters import slugify
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone

from django_integration import (
    catalog,
    checks,
    claiming,
    conf,
    enqueueing,
    exceptions,
    framework,
    loggers,
    names,
    payloads,
    recording,
    results,
    tasks,
)

URL_NAME = "gcp-django-tasks"
# Every OPTIONS key and the setting it defaults to (None: no setting, see the README).
OPTIONS = {
    "PROJECT": "GCP_TASKS_PROJECT",
    "REGION": "GCP_TASKS_REGION",
    "DOMAIN": "GCP_TASKS_DOMAIN",
    "SERVICE_ACCOUNT_EMAIL": "GCP_TASKS_SERVICE_ACCOUNT_EMAIL",
    "OIDC_AUDIENCE": "GCP_TASKS_OIDC_AUDIENCE",
    "QUEUE_IDS": None,
    "DEDUPLICATE": None,
    "ENQUEUE_ON_COMMIT": None,
    "DISPATCH_DEADLINE": None,
}

# Settings-derived values of each backend and the URL paths `reverse()` gave, until Django's
# `setting_changed` signal (sent by `override_settings`) empties them.
_configs: dict[tuple[int, str | None], _Config] = {}
_paths: dict[tuple[str, Any, str], str] = {}


@dataclasses.dataclass(frozen=True)
class _Config:
    destination: enqueueing.Destination
    domain: str
    queue_ids: dict[str, str]
    storing: bool  # GCP_TASKS_RECORD_EXECUTIONS, read once: a missing setting is slow to read


class CloudTasksBackend(framework.BaseTaskBackend):
    """Enqueues onto Cloud Tasks; results are stored when `GCP_TASKS_RECORD_EXECUTIONS` is on."""

    supports_defer = True  # run_after becomes the task's schedule time
    supports_async_task = True
    # Cloud Tasks has no priorities: validate_task refuses any but the default, never drops it.
    supports_priority = False

    def __init__(self, alias: str, params: dict[str, Any]) -> None:
        super().__init__(alias, params)
        self.deduplicate = self.options.get("DEDUPLICATE", False) is True
        self.enqueue_on_commit = self.options.get("ENQUEUE_ON_COMMIT", False) is True
        deadline = self.options.get("DISPATCH_DEADLINE")
        self.dispatch_deadline = float(deadline) if deadline is not None else None

    @property  # type: ignore[override]
    def supports_get_result(self) -> bool:
        """Results can be read back only when runs are stored."""
        return recording.enabled()

    def validate_task(self, task: Any) -> None:
        """Django's rules (module-level function, `context` argument, default priority, aware
        `run_after`, a queue in QUEUES), Cloud Tasks' 30-day limit; then the task is runnable."""
        super().validate_task(task)
        try:
            _schedule_time(task.run_after)
        except ValueError as error:
            raise framework.InvalidTask(str(error)) from None
        catalog.add(task)

    def enqueue(self, task: Any, args: Any, kwargs: Any) -> Any:
        self.validate_task(task)
        config = self._config()
        run_id = secrets.token_hex(16)
        # TaskResult normalizes the arguments by Django's JSON rules (TypeError, ValueError).
        result = framework.TaskResult(
            task=task,
            id=run_id,
            status=framework.TaskResultStatus.READY,
            enqueued_at=None,
            started_at=None,
            finished_at=None,
            last_attempted_at=None,
            args=args,
            kwargs=kwargs,
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        body = {"id": run_id, "backend": self.alias, "args": result.args, "kwargs": result.kwargs}
        storing = config.storing
        task_id = self._task_id(task, result) if self.deduplicate else None
        if storing and task_id is None:
            task_id = run_id  # a named task can be cancelled (DeleteTask) by its result's id
        request = enqueueing.TaskRequest(
            queue=config.queue_ids.get(task.queue_name, task.queue_name),
            url=self._url(task, config),
            body=payloads.encode(body),
            task_id=task_id,
            schedule_time=_schedule_time(task.run_after),
            dispatch_deadline=self.dispatch_deadline,
            destination=config.destination,
        )
        parent = enqueueing.queue_path(request.queue, request.destination)
        on_commit = self.enqueue_on_commit and transaction.get_connection().in_atomic_block
        if on_commit:  # too large: raise now, before a run is stored, not after the commit
            enqueueing.build_task(parent, request)
        stored = storing and claiming.enqueued(
            run_id,
            task=task.module_path,
            backend=self.alias,
            queue_name=task.queue_name,
            args=result.args,
            kwargs=result.kwargs,
            run_after=request.schedule_time,
            cloud_task_path=f"{parent}/tasks/{task_id}",
        )
        if on_commit:
            transaction.on_commit(lambda: self._create_after_commit(request, result, stored))
        else:
            self._create(request, result, stored)
        return result

    def get_result(self, result_id: str) -> Any:
        """The stored result; `TaskResultDoesNotExist` when there is none."""
        if not recording.enabled():
            return super().get_result(result_id)  # NotImplementedError, as Django's backends
        return results.read(result_id)

    def cancel(self, result_id: str) -> Any:
        """Cancel a task that has not run yet (or failed and awaits a retry): its Cloud Tasks
        task is deleted and its result says so (FAILED, a `TaskCancelledError` among its errors).
        Needs result storage; raises `TaskNotCancellableError` when it is running or finished."""
        if not recording.enabled():
            raise exceptions.TaskNotCancellableError(
                "Cancelling needs stored results: set GCP_TASKS_RECORD_EXECUTIONS = True"
            )
        run = claiming.cancel(result_id)
        if run is None:
            raise exceptions.TaskNotCancellableError(
                f"Task result {result_id} is unknown, running, finished or already cancelled"
            )
        # Deliveries of a cancelled run run nothing, so a task already on its way is harmless.
        if run.cloud_task_path and not enqueueing.delete(run.cloud_task_path):
            loggers.enqueueing.info(
                "Cancelled run %s: its Cloud Tasks task was already gone",
                result_id,
                extra={"task_run": result_id},
            )
        return results.read(result_id)

    def url(self, task: Any) -> str:
        """The endpoint URL Cloud Tasks and Cloud Scheduler push `task` to."""
        return self._url(task, self._config())

    def _url(self, task: Any, config: _Config) -> str:
        key = (task.module_path, get_urlconf(), get_script_prefix())
        try:
            path = _paths[key]
        except KeyError:
            path = _paths[key] = reverse(URL_NAME, args=(task.module_path,))
        return f"{config.domain}{path}"

    @property
    def destination(self) -> enqueueing.Destination:
        """The project, location and token settings of this backend's tasks."""
        return self._config().destination

    def check(self, **kwargs: Any) -> list[Any]:
        return checks.backend_problems(self)

    def _config(self) -> _Config:
        key = (id(self), os.environ.get("GOOGLE_CLOUD_PROJECT"))
        try:
            return _configs[key]
        except KeyError:
            config = _configs[key] = self._read_config()
            return config

    def _read_config(self) -> _Config:
        options, settings = self.options, conf.settings
        domain = options.get("DOMAIN") or settings.domain
        if not domain:
            raise ImproperlyConfigured("GCP_TASKS_DOMAIN (or the backend's DOMAIN) is not set")
        domain = str(domain).rstrip("/")
        if not domain.startswith("https://") and not settings.emulating:
            raise exceptions.InvalidTaskDomainError(domain)
        queue_ids = dict(options.get("QUEUE_IDS") or {})
        if settings.default_queue_name:
            queue_ids.setdefault("default", settings.default_queue_name)
        return _Config(
            destination=enqueueing.Destination(
                project=options.get("PROJECT") or settings.project,
                location=options.get("REGION") or settings.region,
                service_account_email=options.get("SERVICE_ACCOUNT_EMAIL")
                or settings.service_account_email,
                audience=options.get("OIDC_AUDIENCE") or settings.oidc_audience,
            ),
            domain=domain,
            queue_ids=queue_ids,
            storing=settings.record_executions,
        )

    def _task_id(self, task: Any, result: Any) -> str:
        """The deduplicated id: the same task and arguments give the same Cloud Tasks task."""
        payload = {"task": task.module_path, "args": result.args, "kwargs": result.kwargs}
        settings = conf.settings
        return names.task_id(
            payloads.digest(payloads.encode(payload)),
            slugify(task.name),
            settings.resource_affix,
            settings.delimiter,
        )

    def _create(self, request: enqueueing.TaskRequest, result: Any, stored: bool) -> None:
        try:
            enqueueing.enqueue(request)
        except BaseException:
            if stored:
                claiming.discard(result.id)
            raise
        self._enqueued(result)

    def _create_after_commit(
        self, request: enqueueing.TaskRequest, result: Any, stored: bool
    ) -> None:
        # The caller's transaction has committed: nobody is left to raise to.
        try:
            enqueueing.enqueue(request)
        except Exception as error:
            loggers.enqueueing.error(
                "Enqueueing task %s failed after commit",
                result.id,
                exc_info=error,
                extra={"task_run": result.id, "error": str(error)},
            )
            if stored:
                claiming.enqueue_failed(result.id, error)
            return
        self._enqueued(result)

    def _enqueued(self, result: Any) -> None:
        object.__setattr__(result, "enqueued_at", timezone.now())
        framework.task_enqueued.send(type(self), task_result=result)


def _schedule_time(run_after: datetime | None) -> datetime | None:
    return None if run_after is None else tasks.schedule_time(run_after)


def _clear_caches(**kwargs: Any) -> None:
    _configs.clear()
    _paths.clear()


setting_changed.connect(_clear_caches, dispatch_uid="django_integration.backends")
