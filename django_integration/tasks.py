"""The task API, compatible with `django_gcp.tasks`: subclass, implement `run()`, enqueue.

Every concrete subclass registers itself when its class is created (abstract ones, declared with
`abstract = True` in their own body, do not); the app also imports each installed app's `tasks`
module on startup, so a forgotten import cannot silently drop a task.
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.template.defaultfilters import slugify
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone

from controller.registry import google_defaults
from django_integration import conf, deliveries, enqueueing, exceptions, names, payloads

# Cloud Tasks refuses schedule times more than 30 days ahead.
MAX_SCHEDULE_AHEAD = timedelta(days=30)

_lock = threading.Lock()
_registered: dict[str, type[Task]] = {}
_conflicts: dict[str, set[str]] = {}
# Paths `reverse()` gave and the execution mode, until Django's `setting_changed` signal (sent by
# `override_settings`) empties them, as it empties Django's own URL caches.
_paths: dict[tuple[str, str, Any, str], str] = {}
_modes: dict[None, str] = {}
_domains: dict[None, str] = {}  # only an https:// domain, valid whatever the environment


class TaskMeta(type):
    """Registers concrete task classes and refuses instances of the base classes."""

    def __new__(mcs, name: str, bases: tuple[type, ...], attrs: dict[str, Any]) -> TaskMeta:
        cls = super().__new__(mcs, name, bases, attrs)
        # `abstract` only counts where it is written: subclasses of an abstract task are concrete.
        cls.abstract = bool(attrs.get("abstract", False))
        if not attrs.get("_base_task", False) and not cls.abstract:
            _register(cls)  # type: ignore[arg-type]
        return cls

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls.__dict__.get("_base_task", False):
            raise exceptions.IncorrectTaskUsageError(
                f"Do not instantiate a {cls.__name__}. Inherit and create your own."
            )
        return super().__call__(*args, **kwargs)


class Task(metaclass=TaskMeta):
    """Common behaviour; subclass `OnDemandTask`, `PeriodicTask` or `SubscriberTask` instead."""

    _base_task = True
    _url_name = "gcp-tasks"
    abstract: ClassVar[bool] = False
    deduplicate = False
    dispatch_deadline: float | None = None  # seconds Cloud Tasks waits for a response (15-1800)
    task_info: deliveries.TaskInfo | None = None  # set by the endpoint before execute()

    def run(self, **kwargs: Any) -> Any:
        raise NotImplementedError()

    def execute(self, **task_kwargs: Any) -> Any:
        """Run the task; override to wrap every run of a family of tasks (logging, context)."""
        return self.run(**task_kwargs)

    def enqueue(self, **kwargs: Any) -> Any:
        """Put the task on its queue: returns the created Cloud Tasks `Task`, the result when
        `GCP_TASKS_EAGER_EXECUTE` is set, or None when `GCP_TASKS_DISABLE_EXECUTE` is set."""
        return self._send(kwargs, schedule_time=None)

    def enqueue_later(self, when: int | float | timedelta | datetime, **kwargs: Any) -> Any:
        """Like `enqueue()`, to run after `when`: seconds, a `timedelta` or a `datetime`."""
        return self._send(kwargs, schedule_time=schedule_time(when))

    @classmethod
    def enqueue_many(
        cls, kwargs_list: Iterable[Mapping[str, Any]], *, max_workers: int = 16
    ) -> list[Any]:
        """Enqueue one task per kwargs mapping concurrently over the one client; the list holds,
        in order, each created task (or eager result, or None when disabled) or its exception."""
        task = cls()
        items = [dict(kwargs) for kwargs in kwargs_list]
        mode = _execution_mode()
        if mode == "disabled":
            return [None for _ in items]
        if mode == "eager":
            return [_capture(task._execute_eagerly, kwargs) for kwargs in items]
        if not items:
            return []
        # A generator: each task is sent while the next ones are still being prepared.
        requests = (_capture(task._request, kwargs, None) for kwargs in items)
        return enqueueing.enqueue_many(requests, max_workers=min(max_workers, len(items)))

    @classmethod
    def name(cls) -> str:
        return cls.__name__

    @property
    def queue_name(self) -> str:
        """The Cloud Tasks queue; override to send a task family to another queue."""
        queue = conf.settings.default_queue_name
        if not queue:
            raise ImproperlyConfigured("GCP_TASKS_DEFAULT_QUEUE_NAME is not set")
        return str(queue)

    @property
    def slug(self) -> str:
        return str(slugify(self.name()))

    @classmethod
    def url(cls) -> str:
        name = cls.name()
        # reverse() depends on the thread's urlconf and script prefix: both are in the key.
        key = (cls._url_name, name, get_urlconf(), get_script_prefix())
        try:
            path = _paths[key]
        except KeyError:
            path = _paths[key] = reverse(cls._url_name, args=(name,))
        return f"{_domain()}{path}"

    def _send(self, task_kwargs: dict[str, Any], schedule_time: datetime | None) -> Any:
        mode = _execution_mode()
        if mode == "disabled":
            return None
        if mode == "eager":
            return self._execute_eagerly(task_kwargs)
        return enqueueing.enqueue(self._request(task_kwargs, schedule_time))

    def _execute_eagerly(self, task_kwargs: dict[str, Any]) -> Any:
        # A JSON round trip, so eager runs see exactly what the endpoint would pass.
        return self.execute(**json.loads(payloads.encode(task_kwargs)))

    def _request(
        self, task_kwargs: dict[str, Any], schedule_time: datetime | None
    ) -> enqueueing.TaskRequest:
        body = payloads.encode(task_kwargs)
        task_id = None
        if self.deduplicate:
            settings = conf.settings
            task_id = names.task_id(
                payloads.digest(body), self.slug, settings.resource_affix, settings.delimiter
            )
        return enqueueing.TaskRequest(
            queue=self.queue_name,
            url=self.url(),
            body=body,
            task_id=task_id,
            schedule_time=schedule_time,
            dispatch_deadline=self.dispatch_deadline,
        )


class OnDemandTask(Task):
    """Inherit from here for tasks enqueued from code and pushed by Cloud Tasks."""

    _base_task = True
    abstract = True


class PeriodicTask(Task):
    """Inherit from here for tasks fired by a Cloud Scheduler job on the `run_every` cron."""

    _base_task = True
    run_every: str | None = None
    time_zone = google_defaults.TIME_ZONE
    run_kwargs: ClassVar[dict[str, Any]] = {}  # the JSON body of every firing
    description = ""
    paused = False
    attempt_deadline = 1800.0  # django-gcp's value: Cloud Scheduler's maximum for HTTP targets
    # Cloud Scheduler's RetryConfig, with Google's defaults.
    retry_count = google_defaults.RETRY_COUNT
    max_retry_duration = google_defaults.MAX_RETRY_DURATION
    min_backoff_duration = google_defaults.MIN_BACKOFF_DURATION
    max_backoff_duration = google_defaults.MAX_BACKOFF_DURATION
    max_doublings = google_defaults.MAX_DOUBLINGS

    @property
    def schedule_name(self) -> str:
        settings = conf.settings
        return names.scheduler_job(self.slug, settings.resource_affix, settings.delimiter)


class SubscriberTask(Task):
    """Inherit from here for tasks that receive the messages of a Pub/Sub topic (push)."""

    _base_task = True
    abstract = True
    _url_name = "gcp-subscriber-tasks"
    enable_message_ordering = False
    ack_deadline_seconds = google_defaults.ACK_DEADLINE_SECONDS
    filter = ""
    dead_letter_topic_id: str | None = None
    max_delivery_attempts = google_defaults.MAX_DELIVERY_ATTEMPTS
    minimum_backoff: float | None = None  # either one set gives the subscription a RetryPolicy
    maximum_backoff: float | None = None
    message_retention_duration = google_defaults.MESSAGE_RETENTION_DURATION
    labels: ClassVar[dict[str, str]] = {}

    @property
    def topic_id(self) -> str:
        raise NotImplementedError()

    @property
    def subscription_id(self) -> str:
        settings = conf.settings
        return names.subscription(
            self.topic_id, self.slug, settings.resource_affix, settings.delimiter
        )

    def run(
        self,
        data: Any,
        attributes: dict[str, str] | None,
        message_id: str | None,
        ordering_key: str | None,
        publish_time: datetime | None,
        subscription: str,
        **kwargs: Any,
    ) -> Any:
        raise NotImplementedError()

    def publish(
        self, data: Any, attributes: Mapping[str, str] | None = None, ordering_key: str = ""
    ) -> str:
        """Publish `data` (as JSON) to this task's topic, creating the topic if it is missing;
        returns the message id. Mostly useful in tests and demos."""
        from django_integration import publishing  # Pub/Sub's client is heavy to import

        return publishing.publish(
            topic_id=self.topic_id,
            data=payloads.encode(data).encode("utf-8"),
            attributes=attributes,
            ordering_key=ordering_key,
            enable_message_ordering=self.enable_message_ordering,
        )


def check_arguments(task_class: type[Task], task_kwargs: Mapping[str, Any]) -> None:
    """Raise `TypeError` naming the problem when `task_kwargs` do not fit the task's `run()` (or an
    overridden `execute()`): one missing, one not taken, or a name such as `self`."""
    _check_names(task_class, frozenset(task_kwargs))


@functools.lru_cache(maxsize=1024)
def _check_names(task_class: type[Task], names: frozenset[str]) -> None:
    # Whether arguments fit depends on their names alone, and deliveries of a task bring the same
    # few sets of names: each set is bound once (~20 us), a refused one every time.
    arguments = dict.fromkeys(names)
    for signature in _signatures(task_class):
        signature.bind(None, **arguments)  # None stands for the instance


@functools.cache
def _signatures(task_class: type[Task]) -> tuple[inspect.Signature, ...]:
    methods = [task_class.run]
    if task_class.execute is not Task.execute:
        methods.append(task_class.execute)
    return tuple(inspect.signature(method) for method in methods)


def find(name: str) -> type[Task] | None:
    """The task class registered under `name`, if any."""
    with _lock:
        return _registered.get(name)


def registered() -> dict[str, type[Task]]:
    """Every registered task class by name."""
    with _lock:
        return dict(sorted(_registered.items()))


def on_demand_tasks() -> dict[str, type[Task]]:
    return {
        name: cls
        for name, cls in registered().items()
        if not issubclass(cls, PeriodicTask | SubscriberTask)
    }


def periodic_tasks() -> dict[str, type[PeriodicTask]]:
    return {n: c for n, c in registered().items() if issubclass(c, PeriodicTask)}


def subscriber_tasks() -> dict[str, type[SubscriberTask]]:
    return {n: c for n, c in registered().items() if issubclass(c, SubscriberTask)}


def conflicts() -> dict[str, list[str]]:
    """Task names claimed by more than one class (the endpoint can run only one of them)."""
    with _lock:
        return {name: sorted(paths) for name, paths in sorted(_conflicts.items())}


def _register(cls: type[Task]) -> None:
    name = cls.name()
    path = f"{cls.__module__}.{cls.__qualname__}"
    with _lock:
        previous = _registered.get(name)
        previous_path = previous and f"{previous.__module__}.{previous.__qualname__}"
        # The same class defined again (a reloaded module) replaces itself silently.
        if previous_path and previous_path != path:
            _conflicts.setdefault(name, set()).update({previous_path, path})
        _registered[name] = cls


def _execution_mode() -> str:
    try:
        return _modes[None]
    except KeyError:
        mode = _modes[None] = _read_execution_mode()  # an incompatible pair raises every time
        return mode


def _read_execution_mode() -> str:
    settings = conf.settings
    if settings.disable_execute and settings.eager_execute:
        raise exceptions.IncompatibleSettingsError(
            "disable_execute and eager_execute should be mutually exclusive "
            "(GCP_TASKS_DISABLE_EXECUTE and GCP_TASKS_EAGER_EXECUTE are both set)"
        )
    if settings.disable_execute:
        return "disabled"
    return "eager" if settings.eager_execute else "enqueue"


def _domain() -> str:
    try:
        return _domains[None]
    except KeyError:
        pass
    settings = conf.settings
    domain = settings.domain
    if not domain:
        raise ImproperlyConfigured("GCP_TASKS_DOMAIN is not set")
    if not domain.startswith("https://") and not (settings.eager_execute or settings.emulating):
        raise exceptions.InvalidTaskDomainError(domain)
    if domain.startswith("https://"):
        _domains[None] = domain
    return domain


def schedule_time(when: Any) -> datetime:
    """Cloud Tasks' schedule time for a delay (seconds, timedelta) or a time (a naive one is in
    the current time zone); `ValueError` beyond Cloud Tasks' 30 days, a past time means now."""
    now = datetime.now(UTC)
    if isinstance(when, bool) or not isinstance(when, int | float | timedelta | datetime):
        raise ValueError(
            f"Unsupported schedule {when!r} of type {type(when).__name__}: "
            "give seconds (int or float), a timedelta or a datetime"
        )
    if isinstance(when, datetime):
        at = when if timezone.is_aware(when) else timezone.make_aware(when)
        if at - now > MAX_SCHEDULE_AHEAD:
            raise ValueError(
                f"Cloud Tasks schedules at most 30 days ahead, not until {at.isoformat()}"
            )
        return max(at, now)
    seconds = when.total_seconds() if isinstance(when, timedelta) else when
    if isinstance(seconds, float) and not math.isfinite(seconds):
        raise ValueError(f"Unsupported schedule {when!r}: the delay must be finite")
    # Checked before any date arithmetic, which would overflow on huge delays.
    if seconds > MAX_SCHEDULE_AHEAD.total_seconds():
        raise ValueError(f"Cloud Tasks schedules at most 30 days ahead, not {when!r} from now")
    return now + timedelta(seconds=max(seconds, 0))


def _clear_caches(**kwargs: Any) -> None:
    _paths.clear()
    _modes.clear()
    _domains.clear()


setting_changed.connect(_clear_caches, dispatch_uid="django_integration.tasks")


def _capture(function: Any, *args: Any) -> Any:
    try:
        return function(*args)
    except Exception as error:  # reported per item, as the caller asked for a list of outcomes
        return error
