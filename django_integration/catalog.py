"""The django.tasks tasks of this process's `CloudTasksBackend`s: the only ones its endpoint runs.

Django validates a task with its backend whenever the task is created (`@task`, `.using()`), and
the backend adds it here; the app imports every installed app's `tasks` module on startup, so
their tasks are here before the first request. The endpoint looks a requested module path up in
this mapping and never imports anything a request names.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_tasks: dict[str, Any] = {}  # module path -> the django.tasks Task as first validated


def add(task: Any) -> None:
    """Remember `task` by its module path; variants made by `.using()` keep the original."""
    path = task.module_path
    with _lock:
        known = _tasks.get(path)
        # The same function again is a `.using()` variant; another function under the same path
        # is its module executed again (a reload), which replaces it.
        if known is None or known.func is not task.func:
            _tasks[path] = task


def find(module_path: str) -> Any | None:
    """The registered task at `module_path`, if any."""
    with _lock:
        return _tasks.get(module_path)


def tasks() -> dict[str, Any]:
    """Every registered task by module path, sorted."""
    with _lock:
        return dict(sorted(_tasks.items()))
