"""The desired-state model shared by every registry source, the reconciler and Django.

Purely data: no I/O, no clock, no logging. Durations are seconds (float), as Google's
`Duration` fields are; field names follow Google's API so drift can name update-mask paths.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType

from controller.registry import google_defaults

API_VERSION = "gcptasks.dev/v1"
KIND = "TaskRegistry"


def _frozen(mapping: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType(dict(sorted((mapping or {}).items())))


@dataclasses.dataclass(frozen=True, slots=True)
class OidcToken:
    """Ask Google to attach a Google-signed ID token for this service account."""

    service_account_email: str
    audience: str = ""  # empty means Google's default: the target URI


@dataclasses.dataclass(frozen=True, slots=True)
class SchedulerRetry:
    """Cloud Scheduler `RetryConfig`, with Google's defaults."""

    retry_count: int = google_defaults.RETRY_COUNT
    max_retry_duration: float = google_defaults.MAX_RETRY_DURATION  # 0 means unlimited
    min_backoff_duration: float = google_defaults.MIN_BACKOFF_DURATION
    max_backoff_duration: float = google_defaults.MAX_BACKOFF_DURATION
    max_doublings: int = google_defaults.MAX_DOUBLINGS


@dataclasses.dataclass(frozen=True, slots=True)
class SchedulerJob:
    """One Cloud Scheduler job with an HTTP target; `name` is the job id, not the full path."""

    name: str
    schedule: str
    uri: str
    time_zone: str = google_defaults.TIME_ZONE
    description: str = ""
    paused: bool = False
    http_method: str = google_defaults.HTTP_METHOD
    body: str = ""
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    oidc_token: OidcToken | None = None
    retry: SchedulerRetry = SchedulerRetry()
    attempt_deadline: float = google_defaults.ATTEMPT_DEADLINE

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", _frozen(self.headers))


@dataclasses.dataclass(frozen=True, slots=True)
class PushRetry:
    """Pub/Sub `RetryPolicy`; a subscription without one is redelivered immediately."""

    minimum_backoff: float = google_defaults.MINIMUM_BACKOFF
    maximum_backoff: float = google_defaults.MAXIMUM_BACKOFF


@dataclasses.dataclass(frozen=True, slots=True)
class Subscription:
    """One Pub/Sub push subscription; `name` is the subscription id, `topic` the topic id."""

    name: str
    topic: str
    push_endpoint: str
    oidc_token: OidcToken | None = None
    ack_deadline_seconds: int = google_defaults.ACK_DEADLINE_SECONDS
    enable_message_ordering: bool = False  # immutable in Pub/Sub
    filter: str = ""  # immutable in Pub/Sub
    dead_letter_topic: str = ""  # topic id; empty means no dead-letter policy
    max_delivery_attempts: int = google_defaults.MAX_DELIVERY_ATTEMPTS
    retry: PushRetry | None = None
    message_retention_duration: float = google_defaults.MESSAGE_RETENTION_DURATION
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict)
    create_topic: bool = True  # desired-only: create the topic when it is missing

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", _frozen(self.labels))


@dataclasses.dataclass(frozen=True)
class Registry:
    """One app's desired state, as read from one source (file, URL, ConfigMap, custom resource)."""

    source: str  # where it came from, for error messages and conflict reports
    project: str
    location: str  # of its scheduler jobs (subscriptions are project-wide); "" for a SubscriberTask
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


@dataclasses.dataclass(frozen=True, slots=True)
class ObservedJob:
    """A scheduler job as listed from the cloud; `owner` comes from our description marker."""

    job: SchedulerJob
    owner: str | None  # None: no marker, so not ours


@dataclasses.dataclass(frozen=True, slots=True)
class ObservedSubscription:
    """A subscription as listed from the cloud; `owner` comes from our ownership labels."""

    subscription: Subscription
    owner: str | None  # None: no ownership label, so not ours
    push: bool  # False for pull subscriptions, which we never touch
