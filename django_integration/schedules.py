"""Cron schedules for django.tasks tasks: `@periodic("0 3 * * *", ...)` written above `@task`.

Each schedule is exported in the TaskRegistry as a Cloud Scheduler job beside the `PeriodicTask`
classes (`registry`), so the controller creates, updates, pauses and deletes it like theirs; the
job POSTs `{"args": [...], "kwargs": {...}}` to the task's `gcp-django-tasks` endpoint. Defaults
are `PeriodicTask`'s (django-gcp's): UTC, not paused, Google's retry config, a 30-minute deadline.
"""

from __future__ import annotations

import dataclasses
import inspect
import threading
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, TypeVar

from django.template.defaultfilters import slugify

from django_integration import exceptions, payloads, tasks

T = TypeVar("T")
_Defaults = tasks.PeriodicTask

_lock = threading.Lock()
_schedules: dict[str, Schedule] = {}


@dataclasses.dataclass(frozen=True)
class Schedule:
    """When and how Cloud Scheduler runs one django.tasks task."""

    task: Any  # the django.tasks Task
    cron: str
    time_zone: str = _Defaults.time_zone
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    paused: bool = _Defaults.paused
    description: str = ""
    name: str = ""  # the job's slug; the function's name when empty
    retry_count: int = _Defaults.retry_count
    max_retry_duration: float = _Defaults.max_retry_duration
    min_backoff_duration: float = _Defaults.min_backoff_duration
    max_backoff_duration: float = _Defaults.max_backoff_duration
    max_doublings: int = _Defaults.max_doublings
    attempt_deadline: float = _Defaults.attempt_deadline

    @property
    def slug(self) -> str:
        return str(slugify(self.name or self.task.name))

    @property
    def body(self) -> str:
        """What every firing posts: canonical JSON, so the registry is byte-stable."""
        return payloads.encode({"args": list(self.args), "kwargs": dict(self.kwargs)})


def periodic(
    cron: str,
    *,
    time_zone: str = _Defaults.time_zone,
    args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
    paused: bool = _Defaults.paused,
    description: str | None = None,
    name: str = "",
    retry_count: int = _Defaults.retry_count,
    max_retry_duration: float = _Defaults.max_retry_duration,
    min_backoff_duration: float = _Defaults.min_backoff_duration,
    max_backoff_duration: float = _Defaults.max_backoff_duration,
    max_doublings: int = _Defaults.max_doublings,
    attempt_deadline: float = _Defaults.attempt_deadline,
) -> Callable[[T], T]:
    """Give a `@task` of a `CloudTasksBackend` a unix-cron schedule; the task is returned as it
    is. `description` defaults to the first line of the function's docstring."""

    def register(task: T) -> T:
        _check_task(task)
        doc = inspect.getdoc(task.func) or ""  # type: ignore[attr-defined]
        schedule = Schedule(
            task=task,
            cron=cron,
            time_zone=time_zone,
            args=tuple(args),
            kwargs=MappingProxyType(dict(kwargs or {})),
            paused=paused,
            description=doc.split("\n", 1)[0] if description is None else description,
            name=name,
            retry_count=retry_count,
            max_retry_duration=max_retry_duration,
            min_backoff_duration=min_backoff_duration,
            max_backoff_duration=max_backoff_duration,
            max_doublings=max_doublings,
            attempt_deadline=attempt_deadline,
        )
        schedule.body  # noqa: B018  (arguments that are not JSON fail here, at import)
        with _lock:
            _schedules[task.module_path] = schedule  # type: ignore[attr-defined]
        return task

    return register


def schedules() -> dict[str, Schedule]:
    """Every schedule by its task's module path, sorted."""
    with _lock:
        return dict(sorted(_schedules.items()))


def _check_task(task: Any) -> None:
    if not (hasattr(task, "module_path") and hasattr(task, "get_backend")):
        raise exceptions.IncorrectTaskUsageError(
            f"@periodic schedules a django.tasks Task: write it above @task, not on {task!r}"
        )
    from django_integration import backends  # a Task exists, so the framework does too

    if not isinstance(task.get_backend(), backends.CloudTasksBackend):
        raise exceptions.IncorrectTaskUsageError(
            f"@periodic needs a task of a CloudTasksBackend; {task.module_path} uses "
            f"TASKS[{task.backend!r}]"
        )
