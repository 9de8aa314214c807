"""Task messages: validating a new task the way Google does, and the BASIC/FULL views. No I/O."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import grpc
from google.cloud import tasks_v2

from emulators import serving
from emulators.cloud_tasks import names, retries

DEFAULT_DISPATCH_DEADLINE = timedelta(minutes=10)
MIN_DISPATCH_DEADLINE = timedelta(seconds=15)
MAX_DISPATCH_DEADLINE = timedelta(minutes=30)
MAX_SCHEDULE_AHEAD = timedelta(days=30)
MAX_TASK_BYTES = 1024 * 1024
MAX_HEADER_BYTES = 80 * 1024
MAX_URL_LENGTH = 2083
BODY_METHODS = {tasks_v2.HttpMethod.POST, tasks_v2.HttpMethod.PUT, tasks_v2.HttpMethod.PATCH}


def new(
    queue_name: names.QueueName, given: tasks_v2.Task, now: datetime, *, can_sign: bool
) -> tasks_v2.Task:
    """The task as stored after CreateTask (FULL view), or ApiError for what Google refuses."""
    if given.name:
        name = names.task(given.name)
        if name.queue_name != queue_name:
            raise _invalid(
                f"The queue name from request ('{queue_name}') must be the same as the queue "
                f"name in the named task ('{name.queue_name}')."
            )
    else:
        # Google's generated ids are long decimal numbers.
        name = names.TaskName(queue_name, str(secrets.randbelow(9 * 10**18) + 10**18))
    kind = tasks_v2.Task.pb(given).WhichOneof("message_type")
    if kind == "app_engine_http_request":
        raise serving.ApiError(
            grpc.StatusCode.UNIMPLEMENTED,
            "The emulator does not dispatch App Engine tasks; use an HTTP task (http_request)",
        )
    if kind != "http_request":
        raise _invalid("Task.http_request or Task.app_engine_http_request must be set")
    task = tasks_v2.Task(
        name=str(name),
        http_request=_http_request(given.http_request, can_sign=can_sign),
        schedule_time=given.schedule_time or now,
        create_time=now,
        dispatch_deadline=given.dispatch_deadline or DEFAULT_DISPATCH_DEADLINE,
        view=tasks_v2.Task.View.FULL,
    )
    if "retry_config" in given:
        task.retry_config = given.retry_config
    if task.schedule_time > now + MAX_SCHEDULE_AHEAD:
        raise _invalid("Task.schedule_time must not be more than 30 days in the future")
    if not MIN_DISPATCH_DEADLINE <= task.dispatch_deadline <= MAX_DISPATCH_DEADLINE:
        raise _invalid("Task.dispatch_deadline must be between 15 seconds and 30 minutes")
    if len(tasks_v2.Task.serialize(task)) > MAX_TASK_BYTES:
        raise _invalid(f"Task size too large: the maximum task size is {MAX_TASK_BYTES} bytes")
    return task


def retry_config(task: tasks_v2.Task, queue: tasks_v2.Queue) -> tasks_v2.RetryConfig:
    """The retry config in force: the queue's, overridden field by field by the task's own."""
    config = serving.copy_message(queue.retry_config)
    if "retry_config" in task:
        tasks_v2.RetryConfig.pb(config).MergeFrom(tasks_v2.RetryConfig.pb(task.retry_config))
    return retries.retry_config(config)


def view(task: tasks_v2.Task, response_view: tasks_v2.Task.View) -> tasks_v2.Task:
    """A copy for a response: BASIC (the default) leaves out the body, like Google."""
    shown = serving.copy_message(task)
    if response_view == tasks_v2.Task.View.FULL:
        shown.view = tasks_v2.Task.View.FULL
    else:
        shown.view = tasks_v2.Task.View.BASIC
        if "http_request" in shown:
            shown.http_request.body = b""
    return shown


def _http_request(given: tasks_v2.HttpRequest, *, can_sign: bool) -> tasks_v2.HttpRequest:
    request = serving.copy_message(given)
    url = urlsplit(request.url)
    if url.scheme not in ("http", "https") or not url.hostname or len(request.url) > MAX_URL_LENGTH:
        raise _invalid(f"HttpRequest.url must be a valid HTTP or HTTPS URL, got {request.url!r}")
    if request.http_method == tasks_v2.HttpMethod.HTTP_METHOD_UNSPECIFIED:
        request.http_method = tasks_v2.HttpMethod.POST
    if request.body and request.http_method not in BODY_METHODS:
        raise _invalid(
            "A request body is allowed only if the HTTP method is POST, PUT, or PATCH, "
            f"not {request.http_method.name}"
        )
    header_bytes = sum(len(key) + len(value) for key, value in request.headers.items())
    if header_bytes > MAX_HEADER_BYTES:
        raise _invalid("HttpRequest.headers must be smaller than 80KB in total")
    if "oauth_token" in request:
        raise serving.ApiError(
            grpc.StatusCode.UNIMPLEMENTED,
            "The emulator cannot mint OAuth access tokens; use oidc_token",
        )
    if "oidc_token" in request:
        if not request.oidc_token.service_account_email:
            raise _invalid("OidcToken.service_account_email must be set")
        if not can_sign:
            raise serving.ApiError(
                grpc.StatusCode.FAILED_PRECONDITION,
                "This emulator was started without an OIDC issuer, so it cannot send "
                "tasks with oidc_token",
            )
    return request


def _invalid(message: str) -> serving.ApiError:
    return serving.ApiError(grpc.StatusCode.INVALID_ARGUMENT, message)
