"""The endpoint `backends.CloudTasksBackend` tasks are pushed to: `django-tasks/<module path>`
(URL name `gcp-django-tasks`), by Cloud Tasks (enqueued tasks) and Cloud Scheduler (periodic ones).

Verified like the other endpoints. It runs only a task the backend validated (`catalog`) and
imports nothing a request names. The body is `{"id", "backend", "args", "kwargs"}` (a Scheduler
firing has no id: its job and schedule time name the run). Answers:

- 200: the task succeeded; or it ran nothing because an earlier delivery succeeded or the run was
  cancelled; or it failed with `PermanentTaskError` (`"retry": false`). Google retries every
  non-2xx answer, so 200 is the only way to say "failed, do not retry".
- 400: the body, or arguments that do not fit the function. 401/403/503: as the other endpoints.
- 404: no such task here. 409: another delivery is running it now (Google retries later), or
  the id names a run of another task (nothing runs or changes).
- 500: the task raised (logged with its traceback; Google retries).

Django's own receivers log each run on `django.tasks` (start and success at INFO, a failure at
ERROR with its traceback); this module logs the rest once each: refusals on
`django_integration.refusals`, deliveries that ran nothing on `django_integration.django_tasks`.
"""

from __future__ import annotations

import functools
import inspect
import re
import secrets
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from django_integration import (
    authentication,
    catalog,
    claiming,
    deliveries,
    exceptions,
    framework,
    loggers,
    models,
    payloads,
    recording,
    results,
    views,
)

RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class DjangoTaskView(views.PushView):
    """Runs one delivery of a django.tasks task (see the module docstring for the answers)."""

    def post(self, request: HttpRequest, task_path: str) -> HttpResponse:
        try:
            claims = authentication.authenticate(request)
        except authentication.Refused as refusal:
            response = JsonResponse({"error": str(refusal)}, status=refusal.status)
            return loggers.refused(request, response, refusal.reason)
        request.oidc_claims = claims  # type: ignore[attr-defined]  # as the other endpoints
        registered = catalog.find(task_path)
        if registered is None:
            return _not_found(request, task_path, "no such task here")
        headers = deliveries.EnvironHeaders(request.META)
        info = deliveries.task_info(headers, caller=(claims or {}).get("email"))
        try:
            fields = payloads.decode_kwargs(request.body)
        except ValueError as error:
            return _bad_request(request, task_path, error)
        task = _for_backend(registered, fields.get("backend"))
        if task is None:
            return _not_found(request, task_path, "not a task of a CloudTasksBackend here")
        try:
            run_id, args, kwargs = _parse(fields, info)
            _check_arguments(task, args, kwargs)
        except ValueError as error:
            return _bad_request(request, task_path, error)
        kind = models.Kind.PERIODIC if info.scheduler_job_name else models.Kind.DJANGO_TASK
        delivery = recording.Delivery(
            kind=kind,
            task=task_path,
            info=info,
            args=args,
            kwargs=kwargs,
            backend=task.backend,
            queue_name=task.queue_name,
        )
        outcome, execution = claiming.claim(run_id, delivery)
        if outcome is not claiming.Outcome.RUN:
            return _not_run(run_id, task_path, outcome)
        return _run(task, run_id, args, kwargs, delivery, execution)


def _for_backend(registered: Any, alias: Any) -> Any | None:
    """The task as backend `alias` (default: its own) runs it, if that is a CloudTasksBackend."""
    from django_integration import backends  # the framework exists: a task was registered

    alias = alias or registered.backend
    try:
        backend = framework.task_backends[alias]
        if not isinstance(backend, backends.CloudTasksBackend):
            return None
        return registered if alias == registered.backend else registered.using(backend=alias)
    except (TypeError, framework.InvalidTaskBackend, framework.InvalidTask):
        return None


def _parse(
    fields: dict[str, Any], info: deliveries.TaskInfo
) -> tuple[str, list[Any], dict[str, Any]]:
    args, kwargs = fields.get("args", []), fields.get("kwargs", {})
    if not isinstance(args, list):
        raise ValueError("args must be a JSON array")
    if not isinstance(kwargs, dict):
        raise ValueError("kwargs must be a JSON object")
    run_id = fields.get("id")
    if run_id is None:
        run_id = _firing_id(info)
    elif not isinstance(run_id, str) or not RUN_ID.fullmatch(run_id):
        raise ValueError("id must be 1-64 letters, digits, '-' or '_'")
    try:  # Django's rules for task arguments, checked before anything is claimed or recorded
        return run_id, framework.normalize_json(args), framework.normalize_json(kwargs)
    except (TypeError, ValueError, RecursionError) as error:
        raise ValueError(f"the arguments are not task arguments: {error}") from None


def _firing_id(info: deliveries.TaskInfo) -> str:
    """A Scheduler firing's run id: its job and schedule time, so retries of it are one run."""
    if info.scheduler_job_name and info.schedule_time is not None:
        return payloads.digest(f"scheduler:{info.scheduler_job_name}@{info.schedule_time}")
    return secrets.token_hex(16)


def _check_arguments(task: Any, args: list[Any], kwargs: dict[str, Any]) -> None:
    context = [None] if task.takes_context else []
    try:
        _signature(task.func).bind(*context, *args, **kwargs)
    except TypeError as error:
        raise ValueError(f"the arguments do not fit {task.name}(): {error}") from None


@functools.cache
def _signature(function: Any) -> inspect.Signature:
    return inspect.signature(function)


def _not_found(request: HttpRequest, task_path: str, reason: str) -> HttpResponse:
    response = JsonResponse({"error": "Task not found"}, status=404)
    return loggers.refused(request, response, reason, task=task_path)


def _bad_request(request: HttpRequest, task_path: str, error: ValueError) -> HttpResponse:
    response = JsonResponse({"error": f"Bad request: {error}"}, status=400)
    return loggers.refused(request, response, str(error), task=task_path)


def _not_run(run_id: str, task_path: str, outcome: claiming.Outcome) -> HttpResponse:
    loggers.django_tasks.info(
        "Delivery of task %s (run %s) ran nothing: %s",
        task_path,
        run_id,
        outcome.value,
        extra={"task": task_path, "task_run": run_id, "reason": outcome.value},
    )
    if outcome is claiming.Outcome.OTHER_TASK:
        response = JsonResponse(
            {"id": run_id, "error": "the id names a run of another task"}, status=409
        )
        response._has_been_logged = True  # type: ignore[attr-defined]  # logged just above
        return response
    if outcome is claiming.Outcome.RUNNING_ELSEWHERE:
        response = JsonResponse({"id": run_id, "status": "RUNNING"}, status=409)
        response._has_been_logged = True  # type: ignore[attr-defined]  # logged just above
        return response
    if outcome is claiming.Outcome.SUCCEEDED_BEFORE:
        return JsonResponse({"id": run_id, "status": "SUCCESSFUL", "duplicate": True})
    return JsonResponse({"id": run_id, "status": "FAILED", "retry": False})


def _run(
    task: Any,
    run_id: str,
    args: list[Any],
    kwargs: dict[str, Any],
    delivery: recording.Delivery,
    execution: recording.Execution,
) -> HttpResponse:
    worker = recording.worker_id()
    run = execution.run or models.TaskRun(
        id=run_id,
        status=models.Status.RUNNING,
        args=args,
        kwargs=kwargs,
        backend=task.backend,
        queue_name=task.queue_name,
        started_at=timezone.now(),
        last_attempted_at=timezone.now(),
    )
    result = results.build(
        task, run, execution.earlier, current_worker=worker, attempt=delivery.attempt
    )
    sender = type(task.get_backend())
    _signal(framework.task_started, sender, result)
    try:
        if task.takes_context:
            value = task.call(framework.TaskContext(task_result=result), *args, **kwargs)
        else:
            value = task.call(*args, **kwargs)
        # Django's rule for return values; one that breaks it fails the same way every time.
        value = _normalized(value)
    except Exception as error:
        retry = not isinstance(error, exceptions.PermanentTaskError)
        execution.failed(error, retryable=retry)
        _close(result, framework.TaskResultStatus.FAILED, error=error)
        # Sent inside this except block, so Django's own receiver logs the failure once, with
        # its traceback, at ERROR on `django.tasks` (the backport: `django_tasks`).
        _signal(framework.task_finished, sender, result)
        if not retry:
            return JsonResponse({"id": run_id, "status": "FAILED", "retry": False})
        response = JsonResponse(
            {"id": run_id, "status": "FAILED", "error": "Error running task"}, status=500
        )
        response._has_been_logged = True  # type: ignore[attr-defined]  # not again on django.request
        return response
    execution.succeeded(value)
    _close(result, framework.TaskResultStatus.SUCCESSFUL, value=value)
    _signal(framework.task_finished, sender, result)  # Django's receiver logs the success
    return JsonResponse({"id": run_id, "status": "SUCCESSFUL", "result": value})


def _normalized(value: Any) -> Any:
    try:
        return framework.normalize_json(value)
    except (TypeError, ValueError) as error:
        raise exceptions.PermanentTaskError(f"the return value is not JSON: {error}") from error


def _close(
    result: Any, status: Any, *, value: Any = None, error: BaseException | None = None
) -> None:
    object.__setattr__(result, "status", status)
    object.__setattr__(result, "finished_at", timezone.now())
    object.__setattr__(result, "_return_value", value)
    if error is not None:
        failure = recording.failure(error)
        result.errors.append(
            framework.TaskError(
                exception_class_path=failure.exception_path, traceback=failure.traceback
            )
        )


def _signal(signal: Any, sender: type, result: Any) -> None:
    # Receivers must not turn a finished task into a retried one: their errors are logged.
    for receiver, response in signal.send_robust(sender=sender, task_result=result):
        if isinstance(response, Exception):
            loggers.django_tasks.error(
                "Task signal receiver %r failed", receiver, exc_info=response
            )
