"""The desired-state model shared by every registry source, the reconciler and Django.

Purely data: no I/O, no clock, no logging. Durations are seconds (float), as Google's
`Duration` fields are; field names follow Google's API so drift can name update-mask paths.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType

API_VERSION = "gcptasks.dev/v1"
KIND = "TaskRegistry"


def _frozen(mapping: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType(dict(sorted((mapping or {}).items())))


@dataclasses.dataclass(frozen=True)
class OidcToken:
    """Ask Google to attach a Google-signed ID token for this service account."""

    service_account_email: str
    audience: str = ""  # empty means Google's default: the target URI


@dataclasses.dataclass(frozen=True)
class SchedulerRetry:
    """Cloud Scheduler `RetryConfig`, with Google's defaults."""

    retry_count: int = 0
    max_retry_duration: float = 0.0  # 0 means unlimited
    min_backoff_duration: float = 5.0
    max_backoff_duration: float = 3600.0
    max_doublings: int = 5


@dataclasses.dataclass(frozen=True)
class SchedulerJob:
    """One Cloud Scheduler job with an HTTP target; `name` is the job id, not the full path."""

    name: str
    schedule: str
    uri: str
    time_zone: str = "UTC"
    description: str = ""
    paused: bool = False
    http_method: str = "POST"
    body: str = ""
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    oidc_token: OidcToken | None = None
    retry: SchedulerRetry = SchedulerRetry()
    attempt_deadline: float = 180.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", _frozen(self.headers))


@dataclasses.dataclass(frozen=True)
class PushRetry:
    """Pub/Sub `RetryPolicy`; a subscription without one is redelivered immediately."""

    minimum_backoff: float = 10.0
    maximum_backoff: float = 600.0


@dataclasses.dataclass(frozen=True)
class Subscription:
    """One Pub/Sub push subscription; `name` is the subscription id, `topic` the topic id."""

    name: str
    topic: str
    push_endpoint: str
    oidc_token: OidcToken | None = None
    ack_deadline_seconds: int = 10
    enable_message_ordering: bool = False  # immutable in Pub/Sub
    filter: str = ""  # immutable in Pub/Sub
    dead_letter_topic: str = ""  # topic id; empty means no dead-letter policy
    max_delivery_attempts: int = 5
    retry: PushRetry | None = None
    message_retention_duration: float = 604800.0
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict)
    create_topic: bool = True  # desired-only: create the topic when it is missing

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", _frozen(self.labels))


@dataclasses.dataclass(frozen=True)
class Registry:
    """One app's desired state, as read from one source (file, URL, ConfigMap, custom resource)."""

    source: str  # where it came from, for error messages and conflict reports
    project: str
    location: str
    affix: str
    owner: str
    delimiter: str = "--"
    scheduler_jobs: tuple[SchedulerJob, ...] = ()
    subscriptions: tuple[Subscription, ...] = ()
    name: str = ""  # metadata.name of the document
    generated_by: str = ""  # metadata.generatedBy: the producer, e.g. "django_integration 0.1.0"
    annotations: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "scheduler_jobs", tuple(self.scheduler_jobs))
        object.__setattr__(self, "subscriptions", tuple(self.subscriptions))
        object.__setattr__(self, "annotations", _frozen(self.annotations))

    @property
    def prefix(self) -> str:
        """Every resource this registry owns has a name starting with this (the ownership affix).

        Empty without an affix (only `task_manager` builds such a registry, as django-gcp allows):
        then the ownership marker alone says what is ours."""
        return f"{self.affix}{self.delimiter}" if self.affix else ""

    @property
    def is_empty(self) -> bool:
        return not self.scheduler_jobs and not self.subscriptions


@dataclasses.dataclass(frozen=True)
class ObservedJob:
    """A scheduler job as listed from the cloud; `owner` comes from our description marker."""

    job: SchedulerJob
    owner: str | None  # None: no marker, so not ours


@dataclasses.dataclass(frozen=True)
class ObservedSubscription:
    """A subscription as listed from the cloud; `owner` comes from our ownership labels."""

    subscription: Subscription
    owner: str | None  # None: no ownership label, so not ours
    push: bool  # False for pull subscriptions, which we never touch
