"""Field-by-field comparison of a desired resource with the observed one, without false drift.

Both sides are normalised the way Google reads them before comparing, so a value Google fills
in or reports differently never looks like drift:

- durations are compared to the nanosecond (Google keeps seconds + nanos);
- an unset attempt deadline (0) is Google's default 180s; an unset ack deadline (0) is 10s,
  message retention 0 is 7 days, max delivery attempts 0 is 5;
- an empty time zone is UTC; an empty or unspecified HTTP method is POST; methods are upper-cased;
  a cron schedule's whitespace is collapsed;
- header names are case-insensitive; Cloud Scheduler adds `User-Agent: Google-Cloud-Scheduler`
  and `Content-Type: application/octet-stream` to jobs, so those two (with exactly those values)
  are ignored on the observed side when the desired side does not set that header;
- an empty OIDC audience means the target URI (Google's default): two empty audiences are equal,
  otherwise each side's effective audience is compared;
- labels: only the keys the desired side declares are compared (the ownership labels are the
  adapters' business, and labels added by other tools are left alone);
- `create_topic` is desired-only and never compared; `paused` is reported on its own.

Drift values are JSON-ready (str, int, float, bool, None, dicts of those) for structured logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from controller.planning import plans
from controller.registry import google_defaults, model, ownership

# Fields Pub/Sub cannot change on an existing subscription: a difference needs a recreate.
IMMUTABLE_SUBSCRIPTION_FIELDS = frozenset({"topic", "filter", "enable_message_ordering"})
_GOOGLE_ADDED_HEADERS = {
    "user-agent": "Google-Cloud-Scheduler",
    "content-type": "application/octet-stream",
}


def _nanos(seconds: float) -> int:
    return round(seconds * 1_000_000_000)


def _same_seconds(a: float, b: float) -> bool:
    """Equal to the nanosecond, as Google keeps durations (seconds + nanos)."""
    return a == b or _nanos(a) == _nanos(b)


def _or_default(value: float, default: float) -> float:
    return value if value else default


def _time_zone(name: str) -> str:
    return name or google_defaults.TIME_ZONE


def _method(method: str) -> str:
    method = method.upper()
    unset = method in ("", "HTTP_METHOD_UNSPECIFIED")
    return google_defaults.HTTP_METHOD if unset else method


def _headers(headers: Mapping[str, str], desired: Mapping[str, str]) -> dict[str, str]:
    declared = {name.lower() for name in desired}
    return {
        name: value
        for name, value in headers.items()
        if name.lower() in declared or _GOOGLE_ADDED_HEADERS.get(name.lower()) != value
    }


def _lowered(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _same_headers(desired: Mapping[str, str], actual: Mapping[str, str]) -> bool:
    if desired == actual:
        return True
    return _lowered(desired) == _lowered(_headers(actual, desired))


def _oidc(token: model.OidcToken | None) -> dict[str, str] | None:
    if token is None:
        return None
    return {"service_account_email": token.service_account_email, "audience": token.audience}


def _same_oidc(
    desired: model.OidcToken | None,
    desired_uri: str,
    actual: model.OidcToken | None,
    actual_uri: str,
) -> bool:
    if desired is None or actual is None:
        return desired is actual
    if desired.service_account_email != actual.service_account_email:
        return False
    if not desired.audience and not actual.audience:
        return True
    return (desired.audience or desired_uri) == (actual.audience or actual_uri)


def _retry_config(retry: model.SchedulerRetry) -> dict[str, Any]:
    return {
        "retry_count": retry.retry_count,
        "max_retry_duration": retry.max_retry_duration,
        "min_backoff_duration": retry.min_backoff_duration,
        "max_backoff_duration": retry.max_backoff_duration,
        "max_doublings": retry.max_doublings,
    }


def _same_retry_config(a: model.SchedulerRetry, b: model.SchedulerRetry) -> bool:
    return (
        a.retry_count == b.retry_count
        and a.max_doublings == b.max_doublings
        and _same_seconds(a.max_retry_duration, b.max_retry_duration)
        and _same_seconds(a.min_backoff_duration, b.min_backoff_duration)
        and _same_seconds(a.max_backoff_duration, b.max_backoff_duration)
    )


def compare_jobs(
    desired: model.SchedulerJob, actual: model.SchedulerJob
) -> tuple[plans.Drift, ...]:
    """The drift of every updatable job field, in update-mask order; `paused` is not included.
    The values a drift carries are built only for a field that differs (a listing of thousands
    of jobs is compared on every resync)."""
    drift: list[plans.Drift] = []

    def differs(field: str, want: object, have: object, same: bool | None = None) -> None:
        if not (want == have if same is None else same):
            drift.append(plans.Drift(field, want, have))

    want_schedule, have_schedule = desired.schedule, actual.schedule
    differs(
        "schedule",
        want_schedule,
        have_schedule,
        want_schedule == have_schedule or want_schedule.split() == have_schedule.split(),
    )
    differs("time_zone", _time_zone(desired.time_zone), _time_zone(actual.time_zone))
    differs("description", desired.description, actual.description)
    differs("http_target.uri", desired.uri, actual.uri)
    differs("http_target.http_method", _method(desired.http_method), _method(actual.http_method))
    differs("http_target.body", desired.body, actual.body)
    if not _same_headers(desired.headers, actual.headers):
        have_headers = _headers(actual.headers, desired.headers)
        drift.append(plans.Drift("http_target.headers", dict(desired.headers), have_headers))
    if not _same_oidc(desired.oidc_token, desired.uri, actual.oidc_token, actual.uri):
        want_token, have_token = _oidc(desired.oidc_token), _oidc(actual.oidc_token)
        drift.append(plans.Drift("http_target.oidc_token", want_token, have_token))
    if not _same_retry_config(desired.retry, actual.retry):
        want_retry, have_retry = _retry_config(desired.retry), _retry_config(actual.retry)
        drift.append(plans.Drift("retry_config", want_retry, have_retry))
    want_deadline, have_deadline = (
        desired.attempt_deadline,
        _or_default(actual.attempt_deadline, google_defaults.ATTEMPT_DEADLINE),
    )
    differs(
        "attempt_deadline",
        want_deadline,
        have_deadline,
        _same_seconds(want_deadline, have_deadline),
    )
    return tuple(drift)


def compare_paused(desired: model.SchedulerJob, actual: model.SchedulerJob) -> plans.Drift | None:
    """The drift of the paused state, which Cloud Scheduler changes by Pause/Resume, not Update."""
    if desired.paused == actual.paused:
        return None
    return plans.Drift("paused", desired.paused, actual.paused)


def _push_config(sub: model.Subscription) -> dict[str, Any]:
    return {"push_endpoint": sub.push_endpoint, "oidc_token": _oidc(sub.oidc_token)}


def _dead_letter_policy(sub: model.Subscription) -> dict[str, Any] | None:
    if not sub.dead_letter_topic:
        return None
    return {
        "dead_letter_topic": sub.dead_letter_topic,
        "max_delivery_attempts": sub.max_delivery_attempts or google_defaults.MAX_DELIVERY_ATTEMPTS,
    }


def _retry_policy(retry: model.PushRetry | None) -> dict[str, float] | None:
    if retry is None:
        return None
    return {"minimum_backoff": retry.minimum_backoff, "maximum_backoff": retry.maximum_backoff}


def _same_retry_policy(a: model.PushRetry | None, b: model.PushRetry | None) -> bool:
    if a is None or b is None:
        return a is b
    return _same_seconds(a.minimum_backoff, b.minimum_backoff) and _same_seconds(
        a.maximum_backoff, b.maximum_backoff
    )


def compare_subscriptions(
    desired: model.Subscription, actual: model.Subscription
) -> tuple[plans.Drift, ...]:
    """The drift of every subscription field, the immutable ones included (values built only
    for a field that differs)."""
    drift: list[plans.Drift] = []

    def differs(field: str, want: object, have: object, same: bool | None = None) -> None:
        if not (want == have if same is None else same):
            drift.append(plans.Drift(field, want, have))

    differs("topic", desired.topic, actual.topic)
    same_push = desired.push_endpoint == actual.push_endpoint and _same_oidc(
        desired.oidc_token, desired.push_endpoint, actual.oidc_token, actual.push_endpoint
    )
    if not same_push:
        drift.append(plans.Drift("push_config", _push_config(desired), _push_config(actual)))
    have_ack_deadline = actual.ack_deadline_seconds or google_defaults.ACK_DEADLINE_SECONDS
    differs("ack_deadline_seconds", desired.ack_deadline_seconds, have_ack_deadline)
    differs("dead_letter_policy", _dead_letter_policy(desired), _dead_letter_policy(actual))
    if not _same_retry_policy(desired.retry, actual.retry):
        want_retry, have_retry = _retry_policy(desired.retry), _retry_policy(actual.retry)
        drift.append(plans.Drift("retry_policy", want_retry, have_retry))
    want_retention = desired.message_retention_duration
    have_retention = _or_default(
        actual.message_retention_duration, google_defaults.MESSAGE_RETENTION_DURATION
    )
    differs(
        "message_retention_duration",
        want_retention,
        have_retention,
        _same_seconds(want_retention, have_retention),
    )
    want_labels = {k: v for k, v in desired.labels.items() if k not in ownership.LABELS}
    have_labels = {k: actual.labels[k] for k in want_labels if k in actual.labels}
    differs("labels", want_labels, have_labels)
    differs("filter", desired.filter, actual.filter)
    differs(
        "enable_message_ordering", desired.enable_message_ordering, actual.enable_message_ordering
    )
    return tuple(drift)
