"""Errors of the task API, named as in `django_gcp.exceptions` so `except` clauses carry over."""

from __future__ import annotations

DUPLICATE_TASK_EXPLANATION = (
    "Duplicate task detected (task already exists with this name and payload sha). You can trigger "
    "the same task repeatedly with different payloads, but attempting to repeat a task with the "
    "same payload will fail for ~1hour after the original task was deleted or executed."
)


class TaskNotRegisteredError(Exception):
    """Raised when a requested task name is not found among the registered tasks."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Task {name} not registered.")


class IncorrectTaskUsageError(Exception):
    """Raised when one of the Task base classes is instantiated instead of subclassed."""


class InvalidTaskDomainError(Exception):
    """Raised when GCP_TASKS_DOMAIN cannot be used as a push target."""

    def __init__(self, endpoint: str) -> None:
        super().__init__(
            "The GCP_TASKS_DOMAIN setting is invalid for use with GCP Tasks or PubSub push "
            "subscriptions. Domain must use https:// protocol in production. "
            f"Given value: {endpoint}"
        )


class InvalidPubSubMessageError(ValueError):
    """Raised when a Pub/Sub push envelope lacks the fields Pub/Sub always sends."""


class UnknownActionError(ValueError):
    """Raised when a management command is asked for an action it does not know."""


class DuplicateTaskError(Exception):
    """Raised when a deduplicated task is enqueued while the same task and payload exists."""


class TaskQueueDoesNotExistError(Exception):
    """Raised when a queue is missing and could not be created."""

    def __init__(self, resource: str) -> None:
        super().__init__(f"{resource} does not exist.")


class TaskQueueDeletedRecentlyError(Exception):
    """Raised when enqueueing to a recently deleted queue (Cloud Tasks blocks the name ~1 week)."""

    def __init__(self, resource: str, blocked_period: str = "1 week") -> None:
        super().__init__(
            f"{resource} was probably deleted recently. Cannot reuse name for {blocked_period}."
        )


class IncompatibleSettingsError(ValueError):
    """Raised when settings values are mutually exclusive."""


class PayloadTooLargeError(ValueError):
    """Raised before any API call when a serialized task would exceed Cloud Tasks' size limit."""


class PayloadNotSerializableError(TypeError):
    """Raised when task arguments cannot be written as JSON."""


class PermanentTaskError(Exception):
    """Raise it from a task to fail for good: the result is FAILED and Google is told not to
    retry (the endpoint answers 200, the only answer Cloud Tasks, Scheduler and Pub/Sub do not
    retry). Its message and traceback are recorded like any other failure."""


class TaskCancelledError(Exception):
    """The error a cancelled task's result lists: it was cancelled before it ran."""


class TaskNotCancellableError(Exception):
    """Raised when a result cannot be cancelled: unknown, running, finished, or not stored."""
