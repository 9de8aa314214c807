"""Django's task framework: `django.tasks` on Django 6+, else the `django-tasks` backport.

The only module that knows there are two; the rest import the names from here. Importing it
never fails: without either package, using any of its names raises `ImproperlyConfigured`, so
apps that only use the class-based task API need neither.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured

try:
    from django.tasks import (
        Task,
        TaskContext,
        TaskResult,
        TaskResultStatus,
        task,
        task_backends,
    )
    from django.tasks.backends.base import BaseTaskBackend
    from django.tasks.base import DEFAULT_TASK_PRIORITY, TaskError
    from django.tasks.exceptions import (
        InvalidTask,
        InvalidTaskBackend,
        TaskResultDoesNotExist,
    )
    from django.tasks.signals import task_enqueued, task_finished, task_started
    from django.utils.json import normalize_json

    PACKAGE: str | None = "django.tasks"
except ImportError:
    try:
        from django_tasks import (  # type: ignore[no-redef]
            TaskContext,
            TaskResult,
            TaskResultStatus,
            task,
            task_backends,
        )
        from django_tasks.backends.base import BaseTaskBackend  # type: ignore[no-redef]
        from django_tasks.base import (  # type: ignore[no-redef]
            DEFAULT_TASK_PRIORITY,
            Task,
            TaskError,
        )
        from django_tasks.exceptions import (  # type: ignore[no-redef]
            InvalidTaskBackendError as InvalidTaskBackend,
        )
        from django_tasks.exceptions import (  # type: ignore[no-redef]
            InvalidTaskError as InvalidTask,
        )
        from django_tasks.exceptions import TaskResultDoesNotExist  # type: ignore[no-redef]
        from django_tasks.signals import (  # type: ignore[no-redef]
            task_enqueued,
            task_finished,
            task_started,
        )
        from django_tasks.utils import normalize_json  # type: ignore[no-redef]

        PACKAGE = "django_tasks"
    except ImportError:
        PACKAGE = None

__all__ = [
    "DEFAULT_TASK_PRIORITY",
    "PACKAGE",
    "BaseTaskBackend",
    "InvalidTask",
    "InvalidTaskBackend",
    "Task",
    "TaskContext",
    "TaskError",
    "TaskResult",
    "TaskResultDoesNotExist",
    "TaskResultStatus",
    "normalize_json",
    "task",
    "task_backends",
    "task_enqueued",
    "task_finished",
    "task_started",
]


def __getattr__(name: str) -> Any:
    # Only reached for names the imports above did not define: the framework is missing.
    if name in __all__:
        raise ImproperlyConfigured(
            "django.tasks needs Django 6 or later, or on Django 5.2 the django-tasks backport: "
            "pip install 'gcp-tasks-controller[backport]'"
        )
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
