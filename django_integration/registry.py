"""The app's desired cloud state: a `model.Registry` built from its registered tasks.

Periodic tasks (`PeriodicTask` classes and `@periodic` django.tasks tasks) become Cloud Scheduler
jobs, subscriber tasks Pub/Sub push subscriptions, named as django-gcp names them. No I/O: the
document is rendered by `controller.registry.documents`.
"""

from __future__ import annotations

from importlib import metadata

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

from controller.registry import documents, model
from django_integration import conf, names, payloads, schedules, tasks

DISTRIBUTION = "gcp-tasks-controller"
JSON_HEADERS = {"Content-Type": "application/json"}


def declares_resources() -> bool:
    """Whether the app declares anything its registry holds: periodic or subscriber task classes,
    or `@periodic` schedules (then it needs an affix to export one)."""
    return bool(tasks.periodic_tasks() or tasks.subscriber_tasks() or schedules.schedules())


def build(project: str | None = None, *, require_affix: bool = True) -> model.Registry:
    """The registry of every registered periodic and subscriber task, in a stable order.

    Only `task_manager` passes `require_affix=False`: django-gcp's command works without an affix
    (names then carry no prefix); an exported registry always has one."""
    settings = conf.settings
    affix = settings.resource_affix or ""
    if not affix and require_affix:
        raise ImproperlyConfigured(
            "GCP_TASKS_RESOURCE_AFFIX must be set to export a task registry: the controller "
            "owns exactly the resources whose names start with it"
        )
    jobs = [job for _, job in periodic_jobs()]
    subscriptions = [subscription for _, subscription in subscriber_subscriptions()]
    owner = settings.registry_owner
    return model.Registry(
        source=f"django:{getattr(django_settings, 'SETTINGS_MODULE', None) or 'settings'}",
        project=project or settings.project,
        location=settings.region,
        affix=affix,
        owner=owner,
        delimiter=settings.delimiter,
        scheduler_jobs=tuple(jobs),
        subscriptions=tuple(subscriptions),
        name=owner,
        generated_by=f"django_integration {_version()}",
    )


def periodic_jobs() -> list[tuple[str, model.SchedulerJob]]:
    """Each periodic task (its class name, or its django.tasks module path) and its job, by job
    name; the task is what its recorded executions are filed under."""
    jobs = [(name, _scheduler_job(cls)) for name, cls in tasks.periodic_tasks().items()]
    jobs += [(path, _scheduled_job(schedule)) for path, schedule in schedules.schedules().items()]
    return sorted(jobs, key=lambda pair: pair[1].name)


def subscriber_subscriptions() -> list[tuple[str, model.Subscription]]:
    """Each subscriber task's class name and its subscription, by subscription name."""
    found = [(name, _subscription(cls)) for name, cls in tasks.subscriber_tasks().items()]
    return sorted(found, key=lambda pair: pair[1].name)


def render(project: str | None = None) -> str:
    """The registry document as canonical JSON: identical input gives identical bytes."""
    return documents.render(build(project))


def _oidc_token(email: str | None = None, audience: str | None = None) -> model.OidcToken | None:
    settings = conf.settings
    email = email or settings.service_account_email
    if not email:
        return None
    audience = audience or settings.oidc_audience
    return model.OidcToken(service_account_email=email, audience=audience or "")


def _scheduler_job(cls: type[tasks.PeriodicTask]) -> model.SchedulerJob:
    task = cls()
    return model.SchedulerJob(
        name=task.schedule_name,
        schedule=str(cls.run_every),
        uri=cls.url(),
        time_zone=cls.time_zone,
        description=cls.description,
        paused=cls.paused,
        http_method="POST",
        body=payloads.encode(dict(cls.run_kwargs)),
        headers=JSON_HEADERS,
        oidc_token=_oidc_token(),
        retry=_retry(cls),
        attempt_deadline=float(cls.attempt_deadline),
    )


def _scheduled_job(schedule: schedules.Schedule) -> model.SchedulerJob:
    backend = schedule.task.get_backend()
    settings = conf.settings
    destination = backend.destination
    return model.SchedulerJob(
        name=names.scheduler_job(schedule.slug, settings.resource_affix, settings.delimiter),
        schedule=schedule.cron,
        uri=backend.url(schedule.task),
        time_zone=schedule.time_zone,
        description=schedule.description,
        paused=schedule.paused,
        http_method="POST",
        body=schedule.body,
        headers=JSON_HEADERS,
        oidc_token=_oidc_token(destination.service_account_email, destination.audience),
        retry=_retry(schedule),
        attempt_deadline=float(schedule.attempt_deadline),
    )


def _retry(source: type[tasks.PeriodicTask] | schedules.Schedule) -> model.SchedulerRetry:
    """Cloud Scheduler's RetryConfig from a `PeriodicTask` class or a schedule (same names)."""
    return model.SchedulerRetry(
        retry_count=source.retry_count,
        max_retry_duration=float(source.max_retry_duration),
        min_backoff_duration=float(source.min_backoff_duration),
        max_backoff_duration=float(source.max_backoff_duration),
        max_doublings=source.max_doublings,
    )


def _subscription(cls: type[tasks.SubscriberTask]) -> model.Subscription:
    task = cls()
    retry = None
    if cls.minimum_backoff is not None or cls.maximum_backoff is not None:
        defaults = model.PushRetry()
        retry = model.PushRetry(
            minimum_backoff=float(
                defaults.minimum_backoff if cls.minimum_backoff is None else cls.minimum_backoff
            ),
            maximum_backoff=float(
                defaults.maximum_backoff if cls.maximum_backoff is None else cls.maximum_backoff
            ),
        )
    return model.Subscription(
        name=task.subscription_id,
        topic=task.topic_id,
        push_endpoint=cls.url(),
        oidc_token=_oidc_token(),
        ack_deadline_seconds=cls.ack_deadline_seconds,
        enable_message_ordering=cls.enable_message_ordering,
        filter=cls.filter,
        dead_letter_topic=cls.dead_letter_topic_id or "",
        max_delivery_attempts=cls.max_delivery_attempts,
        retry=retry,
        message_retention_duration=float(cls.message_retention_duration),
        labels=dict(cls.labels),
    )


def _version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown"
