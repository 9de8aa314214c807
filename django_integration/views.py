"""The endpoints Google pushes to: POST only, OIDC-verified, then the named task runs.

Answers: 200 `{"result": ...}`; 400 unparseable body or envelope, or arguments that do not fit the
task's `run()`; 401 missing or invalid token; 403 valid token for another audience or caller; 404
unknown task (other names are never listed); 405 not a POST; 500 the task raised (an ERROR with
its traceback on the `django_integration.tasks` logger); 503 certificates unavailable. Cloud
Tasks, Cloud Scheduler (within its retry config) and Pub/Sub retry every non-2xx answer. Each
refusal is logged once, with its reason, on `django_integration.refusals` (`loggers`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from django_integration import authentication, deliveries, loggers, payloads, recording, tasks


class PushView(View):
    """A view Google pushes to: POST only, and exempt from CSRF (Google sends no token)."""

    http_method_names = ["post"]

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        # Exempting the view function, not `dispatch` through `method_decorator`, saves wrapping
        # the method again on every request (~4 us).
        return csrf_exempt(super().as_view(**initkwargs))


class GoogleCloudTaskView(PushView):
    """Runs on-demand and periodic tasks (Cloud Tasks and Cloud Scheduler bodies are kwargs)."""

    def post(self, request: HttpRequest, task_name: str) -> HttpResponse:
        try:
            claims = authentication.authenticate(request)
        except authentication.Refused as refusal:
            response = _json(refusal.status, {"error": str(refusal)})
            return loggers.refused(request, response, refusal.reason)
        request.oidc_claims = claims  # type: ignore[attr-defined]  # as django-gcp's auth does
        task_class = tasks.find(task_name)
        if task_class is None or not self.serves(task_class):
            response = _json(404, {"error": "Task not found"})
            return loggers.refused(request, response, "no such task here", task=task_name)
        try:
            task_kwargs, delivery_attempt = self.parse(request)
        except ValueError as error:
            response = _json(
                400, {"error": f"Unable to parse request arguments. Error was: {error}"}
            )
            return loggers.refused(request, response, str(error), task=task_name)
        try:
            tasks.check_arguments(task_class, task_kwargs)
        except TypeError as error:
            response = _json(400, {"error": f"Arguments do not fit {task_name}.run(): {error}"})
            return loggers.refused(request, response, str(error), task=task_name)
        headers = deliveries.EnvironHeaders(request.META)
        info = deliveries.task_info(headers, caller=(claims or {}).get("email"))
        if delivery_attempt is not None:
            info = dataclasses.replace(info, delivery_attempt=delivery_attempt)
        execution = recording.start_class(task_class, task_kwargs, info)
        started = time.perf_counter()
        try:
            task = task_class()
            task.task_info = info
            result = task.execute(**task_kwargs)
        except Exception as error:
            execution.failed(error)
            context = {"task": task_name, **_log_context(info), "request": request}
            loggers.tasks.error("Task %s failed", task_name, exc_info=True, extra=context)
            response = _json(500, {"error": "Error running task"})
            # Logged above with the traceback: Django's `log_response` skips a response so marked
            # instead of logging a second, traceback-less ERROR (and mail) on `django.request`.
            response._has_been_logged = True  # type: ignore[attr-defined]
            return response
        execution.succeeded(result)
        if loggers.tasks.isEnabledFor(logging.INFO):  # not even the fields when nobody listens
            duration_ms = round((time.perf_counter() - started) * 1000, 3)
            context = {"task": task_name, "duration_ms": duration_ms, **_log_context(info)}
            loggers.tasks.info("Task %s succeeded", task_name, extra=context)
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


# One encoder for every answer: json.dumps with `cls` would build one per call.
_ENCODER = payloads.JSONEncoder()


def _json(status: int, payload: dict[str, Any]) -> HttpResponse:
    try:
        content = _ENCODER.encode(payload)
    except (TypeError, ValueError):
        # The task ran: answering 500 would make Google run it again for an unencodable result.
        kind = type(payload.get("result")).__name__
        loggers.tasks.warning(
            "A task returned a %s, which is not JSON: answered with its str()",
            kind,
            extra={"type": kind},
        )
        content = json.dumps({"result": str(payload.get("result"))})
    return HttpResponse(content, status=status, content_type="application/json")


def _log_context(info: deliveries.TaskInfo) -> dict[str, Any]:
    fields = ("task_name", "retry_count", "execution_count", "scheduler_job_name", "caller")
    return {field: getattr(info, field) for field in fields if getattr(info, field) is not None}
