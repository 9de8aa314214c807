"""The endpoints Google pushes to: POST only, OIDC-verified, then the named task runs.

Answers: 200 `{"result": ...}`; 400 unparseable body or envelope, or arguments that do not fit the
task's `run()`; 401 missing or invalid token; 403 valid token for another audience or caller; 404
unknown task (other names are never listed); 405 not a POST; 500 the task raised (an ERROR with
its traceback on the `django_integration.tasks` logger); 503 certificates unavailable. Cloud
Tasks, Cloud Scheduler (within its retry config) and Pub/Sub retry every non-2xx answer.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from typing import Any

import structlog
from django.http import HttpRequest, HttpResponse
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from django_integration import authentication, deliveries, payloads, recording, tasks

logger = structlog.get_logger()
# Standard logging, so Sentry, `mail_admins` and Cloud Error Reporting see failing tasks.
TASK_LOGGER = "django_integration.tasks"
failures = logging.getLogger(TASK_LOGGER)


class GoogleCloudTaskView(View):
    """Runs on-demand and periodic tasks (Cloud Tasks and Cloud Scheduler bodies are kwargs)."""

    http_method_names = ["post"]

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        # Google sends no CSRF token. Exempting the view function, not `dispatch` through
        # `method_decorator`, saves wrapping the method again on every request (~4 us).
        return csrf_exempt(super().as_view(**initkwargs))

    def post(self, request: HttpRequest, task_name: str) -> HttpResponse:
        try:
            claims = authentication.authenticate(request)
        except authentication.Refused as refusal:
            return _json(refusal.status, {"error": str(refusal)})
        request.oidc_claims = claims  # type: ignore[attr-defined]  # as django-gcp's auth does
        task_class = tasks.find(task_name)
        if task_class is None or not self.serves(task_class):
            return _json(404, {"error": "Task not found"})
        try:
            task_kwargs, delivery_attempt = self.parse(request)
        except ValueError as error:
            logger.warning("task_request_unparseable", task=task_name, error=str(error))
            return _json(400, {"error": f"Unable to parse request arguments. Error was: {error}"})
        try:
            tasks.check_arguments(task_class, task_kwargs)
        except TypeError as error:
            logger.warning("task_arguments_refused", task=task_name, error=str(error))
            return _json(400, {"error": f"Arguments do not fit {task_name}.run(): {error}"})
        headers = deliveries.EnvironHeaders(request.META)
        info = deliveries.task_info(headers, caller=(claims or {}).get("email"))
        if delivery_attempt is not None:
            info = dataclasses.replace(info, delivery_attempt=delivery_attempt)
        execution = recording.start(recording.class_delivery(task_class, task_kwargs, info))
        started = time.perf_counter()
        try:
            task = task_class()
            task.task_info = info
            result = task.execute(**task_kwargs)
        except Exception as error:
            execution.failed(error)
            context = {"task": task_name, **_log_context(info), "request": request}
            failures.error("Task %s failed", task_name, exc_info=True, extra=context)
            response = _json(500, {"error": "Error running task"})
            # Logged above with the traceback: Django's `log_response` skips a response so marked
            # instead of logging a second, traceback-less ERROR (and mail) on `django.request`.
            response._has_been_logged = True  # type: ignore[attr-defined]
            return response
        execution.succeeded(result)
        logger.info(
            "task_succeeded",
            task=task_name,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            **_log_context(info),
        )
        return _json(200, {"result": result})

    def serves(self, task_class: type[tasks.Task]) -> bool:
        return not issubclass(task_class, tasks.SubscriberTask)

    def parse(self, request: HttpRequest) -> tuple[dict[str, Any], int | None]:
        return payloads.decode_kwargs(request.body), None


class GoogleCloudSubscriberTaskView(GoogleCloudTaskView):
    """Runs subscriber tasks with the decoded Pub/Sub push envelope as kwargs."""

    def serves(self, task_class: type[tasks.Task]) -> bool:
        return issubclass(task_class, tasks.SubscriberTask)

    def parse(self, request: HttpRequest) -> tuple[dict[str, Any], int | None]:
        message = deliveries.decode_envelope(request.body)
        return message, message.pop("delivery_attempt")


def _json(status: int, payload: dict[str, Any]) -> HttpResponse:
    try:
        content = json.dumps(payload, cls=payloads.JSONEncoder)
    except (TypeError, ValueError):
        # The task ran: answering 500 would make Google run it again for an unencodable result.
        logger.warning("task_result_not_serializable", type=type(payload.get("result")).__name__)
        content = json.dumps({"result": str(payload.get("result"))})
    return HttpResponse(content, status=status, content_type="application/json")


def _log_context(info: deliveries.TaskInfo) -> dict[str, Any]:
    fields = ("task_name", "retry_count", "execution_count", "scheduler_job_name", "caller")
    return {field: getattr(info, field) for field in fields if getattr(info, field) is not None}
