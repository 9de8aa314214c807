"""Google's defaults: the published JSON Schema documents the same values the code uses."""

from __future__ import annotations

from typing import Any

import pytest

from controller.registry import durations, google_defaults, schemas

JOB, SUB = "schedulerJob", "subscription"


def _schema_default(definition: str, *path: str) -> Any:
    node = schemas.load()["$defs"][definition]
    for key in path:
        node = node["properties"][key]
    return node["default"]


@pytest.mark.parametrize(
    ("definition", "path", "value"),
    [
        (JOB, ("timeZone",), google_defaults.TIME_ZONE),
        (JOB, ("httpTarget", "httpMethod"), google_defaults.HTTP_METHOD),
        (JOB, ("attemptDeadline",), durations.format(google_defaults.ATTEMPT_DEADLINE)),
        (JOB, ("retryConfig", "retryCount"), google_defaults.RETRY_COUNT),
        (
            JOB,
            ("retryConfig", "maxRetryDuration"),
            durations.format(google_defaults.MAX_RETRY_DURATION),
        ),
        (
            JOB,
            ("retryConfig", "minBackoffDuration"),
            durations.format(google_defaults.MIN_BACKOFF_DURATION),
        ),
        (
            JOB,
            ("retryConfig", "maxBackoffDuration"),
            durations.format(google_defaults.MAX_BACKOFF_DURATION),
        ),
        (JOB, ("retryConfig", "maxDoublings"), google_defaults.MAX_DOUBLINGS),
        (SUB, ("ackDeadlineSeconds",), google_defaults.ACK_DEADLINE_SECONDS),
        (
            SUB,
            ("deadLetterPolicy", "maxDeliveryAttempts"),
            google_defaults.MAX_DELIVERY_ATTEMPTS,
        ),
        (
            SUB,
            ("retryPolicy", "minimumBackoff"),
            durations.format(google_defaults.MINIMUM_BACKOFF),
        ),
        (
            SUB,
            ("retryPolicy", "maximumBackoff"),
            durations.format(google_defaults.MAXIMUM_BACKOFF),
        ),
        (
            SUB,
            ("messageRetentionDuration",),
            durations.format(google_defaults.MESSAGE_RETENTION_DURATION),
        ),
    ],
)
def test_the_schema_documents_googles_defaults(
    definition: str, path: tuple[str, ...], value: object
) -> None:
    assert _schema_default(definition, *path) == value
