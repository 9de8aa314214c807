from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.cloud import tasks_v2

from emulators import serving
from emulators.cloud_tasks import retries

T0 = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)


def config(**fields: object) -> tasks_v2.RetryConfig:
    return retries.retry_config(tasks_v2.RetryConfig(**fields))


def seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


def test_defaults_are_googles() -> None:
    defaults = retries.retry_config(None)
    assert (
        defaults.max_attempts,
        defaults.min_backoff,
        defaults.max_backoff,
        defaults.max_doublings,
        defaults.max_retry_duration,
    ) == (100, seconds(0.1), seconds(3600), 16, timedelta(0))
    limits = retries.rate_limits(None)
    assert (
        limits.max_dispatches_per_second,
        limits.max_burst_size,
        limits.max_concurrent_dispatches,
    ) == (500, 100, 1000)


def test_given_fields_are_kept_and_the_input_is_not_modified() -> None:
    given = tasks_v2.RetryConfig(max_attempts=5, min_backoff=seconds(2))
    result = retries.retry_config(given)
    assert (result.max_attempts, result.min_backoff, result.max_backoff) == (
        5,
        seconds(2),
        seconds(3600),
    )
    assert given.max_backoff == timedelta(0)


@pytest.mark.parametrize(
    ("fields", "failures", "expected"),
    [
        # Google's documented example: 10s, 20s, 40s, 80s, 160s, 240s, 300s, 300s, ...
        ({"min_backoff": seconds(10), "max_backoff": seconds(300), "max_doublings": 3}, 1, 10),
        ({"min_backoff": seconds(10), "max_backoff": seconds(300), "max_doublings": 3}, 2, 20),
        ({"min_backoff": seconds(10), "max_backoff": seconds(300), "max_doublings": 3}, 3, 40),
        ({"min_backoff": seconds(10), "max_backoff": seconds(300), "max_doublings": 3}, 4, 80),
        ({"min_backoff": seconds(10), "max_backoff": seconds(300), "max_doublings": 3}, 5, 160),
        ({"min_backoff": seconds(10), "max_backoff": seconds(300), "max_doublings": 3}, 6, 240),
        ({"min_backoff": seconds(10), "max_backoff": seconds(300), "max_doublings": 3}, 7, 300),
        ({"min_backoff": seconds(10), "max_backoff": seconds(300), "max_doublings": 3}, 20, 300),
        ({}, 1, 0.1),
        ({}, 4, 0.8),
        ({}, 20, 3600),
        ({"min_backoff": seconds(1), "max_backoff": seconds(1)}, 9, 1),
    ],
)
def test_backoff(fields: dict, failures: int, expected: float) -> None:
    assert retries.backoff(config(**fields), failures) == seconds(expected)


def test_backoff_needs_a_failure() -> None:
    with pytest.raises(ValueError):
        retries.backoff(config(), 0)


@pytest.mark.parametrize(
    ("fields", "attempts", "elapsed", "expected"),
    [
        ({"max_attempts": 3}, 2, 0, False),
        ({"max_attempts": 3}, 3, 0, True),
        ({"max_attempts": -1}, 10_000, 10**6, False),
        ({"max_attempts": 3, "max_retry_duration": seconds(60)}, 3, 59, False),
        ({"max_attempts": 3, "max_retry_duration": seconds(60)}, 3, 60, True),
        ({"max_attempts": 3, "max_retry_duration": seconds(60)}, 2, 600, False),
    ],
)
def test_exhausted_needs_both_limits(
    fields: dict, attempts: int, elapsed: float, expected: bool
) -> None:
    assert retries.exhausted(config(**fields), attempts, T0, T0 + seconds(elapsed)) is expected


@pytest.mark.parametrize(
    "fields",
    [
        {"max_attempts": -2},
        {"min_backoff": seconds(10), "max_backoff": seconds(5)},
        {"max_doublings": -1},
        {"max_retry_duration": seconds(-1)},
    ],
)
def test_invalid_retry_configs(fields: dict) -> None:
    with pytest.raises(serving.ApiError) as caught:
        config(**fields)
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize(
    "fields", [{"max_dispatches_per_second": 501}, {"max_concurrent_dispatches": 5001}]
)
def test_invalid_rate_limits(fields: dict) -> None:
    with pytest.raises(serving.ApiError) as caught:
        retries.rate_limits(tasks_v2.RateLimits(**fields))
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT
