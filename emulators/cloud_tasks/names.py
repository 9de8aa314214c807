"""Cloud Tasks resource names: parsing and validation, with Google's error wording."""

from __future__ import annotations

import re
from dataclasses import dataclass

import grpc

from emulators import serving

_LOCATION = re.compile(r"projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)")
_QUEUE = re.compile(_LOCATION.pattern + r"/queues/(?P<queue>[^/]+)")
_TASK = re.compile(_QUEUE.pattern + r"/tasks/(?P<task>[^/]+)")
_PROJECT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9:.\-]*")
_LOCATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-]*")
QUEUE_ID = re.compile(r"[A-Za-z0-9-]{1,100}")
TASK_ID = re.compile(r"[A-Za-z0-9_-]{1,500}")

LOCATION_FORMAT = '"projects/<PROJECT_ID>/locations/<LOCATION_ID>"'
QUEUE_FORMAT = '"projects/<PROJECT_ID>/locations/<LOCATION_ID>/queues/<QUEUE_ID>"'
TASK_FORMAT = '"projects/<PROJECT_ID>/locations/<LOCATION_ID>/queues/<QUEUE_ID>/tasks/<TASK_ID>"'


@dataclass(frozen=True)
class QueueName:
    project: str
    location: str
    queue: str

    @property
    def parent(self) -> str:
        return f"projects/{self.project}/locations/{self.location}"

    def __str__(self) -> str:
        return f"{self.parent}/queues/{self.queue}"


@dataclass(frozen=True)
class TaskName:
    queue_name: QueueName
    task: str

    def __str__(self) -> str:
        return f"{self.queue_name}/tasks/{self.task}"


def location(name: str) -> str:
    """Validate a `projects/P/locations/L` parent and return it."""
    match = _LOCATION.fullmatch(name)
    if not match or not _ids_valid(match["project"], match["location"]):
        raise _invalid(
            f"Invalid resource field value in the request. Location name must be formatted: "
            f"{LOCATION_FORMAT}, got {name!r}"
        )
    return name


def queue(name: str) -> QueueName:
    match = _QUEUE.fullmatch(name)
    if not match or not _ids_valid(match["project"], match["location"]):
        raise _invalid(f"Queue name must be formatted: {QUEUE_FORMAT}, got {name!r}")
    if not QUEUE_ID.fullmatch(match["queue"]):
        raise _invalid(
            f'Queue ID "{match["queue"]}" can contain only letters ([A-Za-z]), numbers ([0-9]), '
            "or hyphens (-). Queue ID must be between 1 and 100 characters."
        )
    return QueueName(match["project"], match["location"], match["queue"])


def task(name: str) -> TaskName:
    match = _TASK.fullmatch(name)
    if not match or not _ids_valid(match["project"], match["location"]):
        raise _invalid(f"Task name must be formatted: {TASK_FORMAT}, got {name!r}")
    queue_name = queue(name.rsplit("/tasks/", 1)[0])
    if not TASK_ID.fullmatch(match["task"]):
        raise _invalid(
            f'Task ID "{match["task"]}" can contain only letters ([A-Za-z]), numbers ([0-9]), '
            "hyphens (-), or underscores (_). Task ID must be between 1 and 500 characters."
        )
    return TaskName(queue_name, match["task"])


def _ids_valid(project: str, location_id: str) -> bool:
    return bool(_PROJECT_ID.fullmatch(project) and _LOCATION_ID.fullmatch(location_id))


def _invalid(message: str) -> serving.ApiError:
    return serving.ApiError(grpc.StatusCode.INVALID_ARGUMENT, message)
