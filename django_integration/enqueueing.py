"""The only code that talks to Cloud Tasks: one client per process, queues created on demand.

The client is created lazily under a lock and reused by every enqueue (gRPC channels are
thread-safe); it talks to an emulator over an insecure channel when `GCP_TASKS_EMULATOR_TARGET`
or `CLOUD_TASKS_EMULATOR_HOST` is set. Queues are not checked before each task: a missing queue
shows up as NotFound, is created once, and the task is retried once. Values derived from settings
are cached until Django's `setting_changed` signal (sent by `override_settings`), as Django's own
caches are, and keyed on the environment variables they read.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Iterable, Sequence
from concurrent import futures
from datetime import datetime
from typing import Any

import grpc
import structlog
from django.core.signals import setting_changed
from google.api_core import exceptions as api_exceptions
from google.cloud import tasks_v2
from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport
from google.protobuf import duration_pb2

from django_integration import conf, exceptions

logger = structlog.get_logger()

# Cloud Tasks' documented system limit on the size of one task (quotas page: "Maximum task
# size: 1 MB"); the whole serialized Task counts, so name, URL and headers are included.
MAX_TASK_BYTES = 1_000_000
# Below this body size a task cannot reach the limit, so the exact (serializing) check is skipped.
_SIZE_SLACK = 64 * 1024

_client_lock = threading.Lock()
_client: tuple[str | None, tasks_v2.CloudTasksClient] | None = None
_queue_lock = threading.Lock()
_queues_created: set[str] = set()
# Derived settings by the environment variables they depend on; emptied when a setting changes.
_targets: dict[str | None, str | None] = {}
_queue_paths: dict[tuple[str, str | None], str] = {}
_oidc: dict[None, tuple[str | None, str | None]] = {}
# The raw protobuf classes: one constructor call builds the whole message, far faster than
# setting proto-plus fields one by one.
_TASK_PB = tasks_v2.Task.pb()
_HTTP_REQUEST_PB = tasks_v2.HttpRequest.pb()
_OIDC_TOKEN_PB = tasks_v2.OidcToken.pb()
_POST = int(tasks_v2.HttpMethod.POST)


@dataclasses.dataclass(frozen=True)
class Destination:
    """The project and location of the queues, and whom Google signs the tasks' tokens for, when
    not the `GCP_TASKS_*` settings (a `CloudTasksBackend`'s OPTIONS)."""

    project: str
    location: str
    service_account_email: str | None = None
    audience: str | None = None


@dataclasses.dataclass(frozen=True)
class TaskRequest:
    """One HTTP task to create: where it goes, its JSON body, and its optional id and time."""

    queue: str
    url: str
    body: str
    task_id: str | None = None  # set for deduplicated tasks
    schedule_time: datetime | None = None
    dispatch_deadline: float | None = None
    destination: Destination | None = None  # None: the GCP_TASKS_* settings


def client() -> tasks_v2.CloudTasksClient:
    """The process's Cloud Tasks client, rebuilt only when the emulator target changes."""
    global _client
    host = os.environ.get("CLOUD_TASKS_EMULATOR_HOST")
    try:
        target = _targets[host]
    except KeyError:
        target = _targets[host] = conf.settings.emulator_target
    current = _client
    if current is not None and current[0] == target:
        return current[1]
    with _client_lock:
        if _client is None or _client[0] != target:
            _client = (target, _build_client(target))
            with _queue_lock:
                _queues_created.clear()
        return _client[1]


def _build_client(target: str | None) -> tasks_v2.CloudTasksClient:
    if target:
        channel = grpc.insecure_channel(target)
        return tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=channel))
    return tasks_v2.CloudTasksClient()


def enqueue(request: TaskRequest) -> tasks_v2.Task:
    """Create the task; raises `DuplicateTaskError` when its id exists or existed recently."""
    parent = queue_path(request.queue, request.destination)
    return _create(client(), parent, build_task(parent, request))


def delete(task_path: str) -> bool:
    """Delete a pending task by its full name; False when Cloud Tasks no longer has it."""
    try:
        client().delete_task(name=task_path)
    except api_exceptions.NotFound:
        return False
    return True


def enqueue_many(
    requests: Iterable[TaskRequest | Exception], *, max_workers: int = 16
) -> list[Any]:
    """Create many tasks concurrently over the one client: each created task or its exception.

    Each task is sent as soon as it is built, so sending overlaps building the rest; an item
    that is already an exception (its request could not be made) is reported as it is."""
    if isinstance(requests, Sequence):
        if not requests:
            return []
        max_workers = min(max_workers, len(requests))
    shared = client()
    with futures.ThreadPoolExecutor(
        max_workers=max(1, max_workers), thread_name_prefix="enqueue"
    ) as pool:
        pending: list[Any] = []
        for request in requests:
            if isinstance(request, Exception):
                pending.append(request)
                continue
            try:
                parent = queue_path(request.queue, request.destination)
                pending.append(pool.submit(_create, shared, parent, build_task(parent, request)))
            except Exception as error:  # reported for this item only
                pending.append(error)
        return [item if isinstance(item, Exception) else _outcome(item) for item in pending]


def queue_path(queue: str, destination: Destination | None = None) -> str:
    if destination is not None:
        return f"projects/{destination.project}/locations/{destination.location}/queues/{queue}"
    # The project may come from GOOGLE_CLOUD_PROJECT, which no signal announces: part of the key.
    key = (queue, os.environ.get("GOOGLE_CLOUD_PROJECT"))
    try:
        return _queue_paths[key]
    except KeyError:
        settings = conf.settings
        path = f"projects/{settings.project}/locations/{settings.region}/queues/{queue}"
        _queue_paths[key] = path
        return path


def build_task(parent: str, request: TaskRequest) -> tasks_v2.Task:
    """The Cloud Tasks message, refused before any API call when it exceeds the size limit."""
    http_request = _HTTP_REQUEST_PB(
        http_method=_POST,
        url=request.url,
        headers={"Content-Type": "application/json"},
        body=request.body.encode("utf-8"),
    )
    destination = request.destination
    if destination is None:
        email, audience = _oidc_settings()
    else:
        email, audience = destination.service_account_email, destination.audience
    if email:
        http_request.oidc_token.CopyFrom(
            _OIDC_TOKEN_PB(service_account_email=email, audience=audience or request.url)
        )
    task = _TASK_PB(http_request=http_request)
    if request.task_id:
        task.name = f"{parent}/tasks/{request.task_id}"
    if request.schedule_time is not None:
        task.schedule_time.FromDatetime(request.schedule_time)
    if request.dispatch_deadline is not None:
        task.dispatch_deadline.CopyFrom(
            duration_pb2.Duration(seconds=int(request.dispatch_deadline))
        )
    if len(http_request.body) + _SIZE_SLACK > MAX_TASK_BYTES:
        size = task.ByteSize()
        if size > MAX_TASK_BYTES:
            raise exceptions.PayloadTooLargeError(
                f"Task of {size} bytes exceeds Cloud Tasks' limit of {MAX_TASK_BYTES} bytes: "
                "pass a reference (an id, a storage path) instead of the data"
            )
    wrapped: tasks_v2.Task = tasks_v2.Task.wrap(task)
    return wrapped


def _oidc_settings() -> tuple[str | None, str | None]:
    try:
        return _oidc[None]
    except KeyError:
        settings = conf.settings
        value = _oidc[None] = (settings.service_account_email, settings.oidc_audience)
        return value


def _clear_caches(**kwargs: Any) -> None:
    _targets.clear()
    _queue_paths.clear()
    _oidc.clear()


setting_changed.connect(_clear_caches, dispatch_uid="django_integration.enqueueing")


def _create(shared: tasks_v2.CloudTasksClient, parent: str, task: tasks_v2.Task) -> tasks_v2.Task:
    try:
        return _create_task(shared, parent, task)
    except api_exceptions.NotFound:
        _ensure_queue(shared, parent)
    try:
        return _create_task(shared, parent, task)
    except api_exceptions.NotFound as error:
        with _queue_lock:
            _queues_created.discard(parent)  # deleted behind our back: the next call recreates it
        raise exceptions.TaskQueueDoesNotExistError(f"Queue {parent}") from error


def _create_task(
    shared: tasks_v2.CloudTasksClient, parent: str, task: tasks_v2.Task
) -> tasks_v2.Task:
    try:
        return shared.create_task(parent=parent, task=task)
    except api_exceptions.AlreadyExists as error:
        raise exceptions.DuplicateTaskError(exceptions.DUPLICATE_TASK_EXPLANATION) from error
    except api_exceptions.FailedPrecondition as error:
        if "existed recently" in str(error.message):
            raise exceptions.TaskQueueDeletedRecentlyError(f"Queue {parent}") from error
        raise


def _ensure_queue(shared: tasks_v2.CloudTasksClient, parent: str) -> None:
    with _queue_lock:
        if parent in _queues_created:
            return  # another thread created it while this one waited
        try:
            shared.create_queue(parent=parent.rsplit("/queues/", 1)[0], queue={"name": parent})
            logger.info("queue_created", queue=parent)
        except api_exceptions.AlreadyExists:
            pass
        except api_exceptions.FailedPrecondition as error:
            raise exceptions.TaskQueueDeletedRecentlyError(f"Queue {parent}") from error
        except api_exceptions.GoogleAPICallError as error:
            raise exceptions.TaskQueueDoesNotExistError(f"Queue {parent}") from error
        _queues_created.add(parent)


def _outcome(future: futures.Future[tasks_v2.Task]) -> Any:
    error = future.exception()
    return error if error is not None else future.result()
