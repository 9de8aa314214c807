"""Field-by-field comparison: each field's drift, and each normalisation that avoids false drift."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from controller.planning import diffs
from controller.registry import model, ownership

URI = "https://shop.example/gcp-tasks/report"
TOKEN = model.OidcToken("tasks@shop-prod.iam.gserviceaccount.com")
JOB = model.SchedulerJob(
    name="shop--report",
    schedule="0 3 * * *",
    uri=URI,
    headers={"X-Tenant": "eu"},
    oidc_token=TOKEN,
    body="{}",
)
ENDPOINT = "https://shop.example/gcp-subscriber-tasks/orders"
SUB = model.Subscription(
    name="shop--orders--created",
    topic="orders",
    push_endpoint=ENDPOINT,
    oidc_token=TOKEN,
    dead_letter_topic="orders-dead",
    max_delivery_attempts=7,
    retry=model.PushRetry(10.0, 600.0),
    labels={"team": "checkout"},
)


def job(**changes: Any) -> model.SchedulerJob:
    return dataclasses.replace(JOB, **changes)


def sub(**changes: Any) -> model.Subscription:
    return dataclasses.replace(SUB, **changes)


JOB_CASES = [
    ("identical", JOB, JOB, ()),
    ("schedule", JOB, job(schedule="0 4 * * *"), ("schedule",)),
    ("schedule-whitespace", JOB, job(schedule=" 0  3 * * * "), ()),
    ("time_zone", JOB, job(time_zone="Europe/Paris"), ("time_zone",)),
    ("time_zone-empty-is-utc", JOB, job(time_zone=""), ()),
    ("description", JOB, job(description="edited in the console"), ("description",)),
    ("uri", JOB, job(uri=URI + "-v2"), ("http_target.uri",)),
    ("http_method", JOB, job(http_method="PUT"), ("http_target.http_method",)),
    ("http_method-case", JOB, job(http_method="post"), ()),
    ("http_method-unset-is-post", JOB, job(http_method="HTTP_METHOD_UNSPECIFIED"), ()),
    ("body", JOB, job(body='{"x": 1}'), ("http_target.body",)),
    ("headers", JOB, job(headers={"X-Tenant": "us"}), ("http_target.headers",)),
    ("headers-missing", JOB, job(headers={}), ("http_target.headers",)),
    (
        "headers-extra",
        JOB,
        job(headers={"X-Tenant": "eu", "X-Debug": "1"}),
        ("http_target.headers",),
    ),
    ("headers-name-case", JOB, job(headers={"x-tenant": "eu"}), ()),
    (
        "headers-google-added",
        JOB,
        job(
            headers={
                "X-Tenant": "eu",
                "User-Agent": "Google-Cloud-Scheduler",
                "Content-Type": "application/octet-stream",
            }
        ),
        (),
    ),
    (
        "headers-content-type-changed-behind-our-back",
        JOB,
        job(headers={"X-Tenant": "eu", "Content-Type": "text/plain"}),
        ("http_target.headers",),
    ),
    (
        "headers-desired-content-type-replaced-by-default",
        job(headers={"Content-Type": "application/json"}),
        job(headers={"Content-Type": "application/octet-stream"}),
        ("http_target.headers",),
    ),
    ("oidc-missing", JOB, job(oidc_token=None), ("http_target.oidc_token",)),
    (
        "oidc-email",
        JOB,
        job(oidc_token=model.OidcToken("other@x.iam.gserviceaccount.com")),
        ("http_target.oidc_token",),
    ),
    (
        "oidc-empty-audience-is-uri",
        JOB,
        job(oidc_token=dataclasses.replace(TOKEN, audience=URI)),
        (),
    ),
    (
        "oidc-audience",
        JOB,
        job(oidc_token=dataclasses.replace(TOKEN, audience="https://a.test")),
        ("http_target.oidc_token",),
    ),
    ("uri-with-default-audiences", JOB, job(uri=URI + "-v2"), ("http_target.uri",)),
    ("retry_config", JOB, job(retry=model.SchedulerRetry(retry_count=3)), ("retry_config",)),
    (
        "retry_config-nanos",
        JOB,
        job(retry=model.SchedulerRetry(min_backoff_duration=5.0000000001)),
        (),
    ),
    ("attempt_deadline", JOB, job(attempt_deadline=60.0), ("attempt_deadline",)),
    ("attempt_deadline-unset-is-180s", JOB, job(attempt_deadline=0.0), ()),
    ("paused-is-not-an-update", JOB, job(paused=True), ()),
    (
        "several-fields-in-mask-order",
        JOB,
        job(attempt_deadline=60.0, schedule="0 4 * * *", body=""),
        ("schedule", "http_target.body", "attempt_deadline"),
    ),
]


@pytest.mark.parametrize(
    ("desired", "actual", "fields"), [c[1:] for c in JOB_CASES], ids=[c[0] for c in JOB_CASES]
)
def test_compare_jobs(
    desired: model.SchedulerJob, actual: model.SchedulerJob, fields: tuple[str, ...]
) -> None:
    drift = diffs.compare_jobs(desired, actual)
    assert tuple(d.field for d in drift) == fields
    json.dumps([(d.desired, d.actual) for d in drift])  # drift values are JSON-ready for logs


def test_drift_carries_both_values() -> None:
    (drift,) = diffs.compare_jobs(JOB, job(schedule="*/5 * * * *"))
    assert (drift.field, drift.desired, drift.actual) == ("schedule", "0 3 * * *", "*/5 * * * *")
    (headers,) = diffs.compare_jobs(
        JOB, job(headers={"X-Tenant": "us", "User-Agent": "Google-Cloud-Scheduler"})
    )
    assert (headers.desired, headers.actual) == ({"X-Tenant": "eu"}, {"X-Tenant": "us"})


@pytest.mark.parametrize(
    ("desired", "actual", "paused"),
    [
        (False, False, None),
        (True, True, None),
        (True, False, (True, False)),
        (False, True, (False, True)),
    ],
)
def test_compare_paused(desired: bool, actual: bool, paused: tuple[bool, bool] | None) -> None:
    drift = diffs.compare_paused(job(paused=desired), job(paused=actual))
    assert (drift and (drift.field, drift.desired, drift.actual)) == (
        paused and ("paused", *paused)
    )


SUB_CASES = [
    ("identical", SUB, SUB, ()),
    ("topic", SUB, sub(topic="payments"), ("topic",)),
    ("push_endpoint", SUB, sub(push_endpoint=ENDPOINT + "-v2"), ("push_config",)),
    ("push-oidc-missing", SUB, sub(oidc_token=None), ("push_config",)),
    (
        "push-oidc-empty-audience-is-endpoint",
        SUB,
        sub(oidc_token=dataclasses.replace(TOKEN, audience=ENDPOINT)),
        (),
    ),
    ("ack_deadline_seconds", SUB, sub(ack_deadline_seconds=60), ("ack_deadline_seconds",)),
    ("ack_deadline-unset-is-10", SUB, sub(ack_deadline_seconds=0), ()),
    ("dead_letter-topic", SUB, sub(dead_letter_topic="elsewhere"), ("dead_letter_policy",)),
    ("dead_letter-attempts", SUB, sub(max_delivery_attempts=5), ("dead_letter_policy",)),
    ("dead_letter-removed", SUB, sub(dead_letter_topic=""), ("dead_letter_policy",)),
    (
        "dead_letter-attempts-unset-is-5",
        sub(max_delivery_attempts=5),
        sub(max_delivery_attempts=0),
        (),
    ),
    (
        "dead_letter-none-ignores-attempts",
        sub(dead_letter_topic=""),
        sub(dead_letter_topic="", max_delivery_attempts=9),
        (),
    ),
    ("retry_policy", SUB, sub(retry=model.PushRetry(20.0, 600.0)), ("retry_policy",)),
    ("retry_policy-removed", SUB, sub(retry=None), ("retry_policy",)),
    ("retry_policy-nanos", SUB, sub(retry=model.PushRetry(10.0000000001, 600.0)), ()),
    (
        "message_retention_duration",
        SUB,
        sub(message_retention_duration=3600.0),
        ("message_retention_duration",),
    ),
    ("message_retention-unset-is-7-days", SUB, sub(message_retention_duration=0.0), ()),
    ("labels-value", SUB, sub(labels={"team": "billing"}), ("labels",)),
    ("labels-missing", SUB, sub(labels={}), ("labels",)),
    (
        "labels-ownership-and-foreign-ignored",
        SUB,
        sub(
            labels={
                "team": "checkout",
                **ownership.labels("shop"),
                "cost-center": "7",
            }
        ),
        (),
    ),
    ("filter", SUB, sub(filter='attributes.x = "1"'), ("filter",)),
    (
        "enable_message_ordering",
        SUB,
        sub(enable_message_ordering=True),
        ("enable_message_ordering",),
    ),
    ("create_topic-is-desired-only", SUB, sub(create_topic=False), ()),
    (
        "mutable-and-immutable",
        SUB,
        sub(filter="x", ack_deadline_seconds=20),
        ("ack_deadline_seconds", "filter"),
    ),
]


@pytest.mark.parametrize(
    ("desired", "actual", "fields"), [c[1:] for c in SUB_CASES], ids=[c[0] for c in SUB_CASES]
)
def test_compare_subscriptions(
    desired: model.Subscription, actual: model.Subscription, fields: tuple[str, ...]
) -> None:
    drift = diffs.compare_subscriptions(desired, actual)
    assert tuple(d.field for d in drift) == fields
    json.dumps([(d.desired, d.actual) for d in drift])


def test_immutable_fields() -> None:
    immutable = {"topic", "filter", "enable_message_ordering"}
    assert immutable == diffs.IMMUTABLE_SUBSCRIPTION_FIELDS
