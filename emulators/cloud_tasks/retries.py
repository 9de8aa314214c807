"""Queue defaults and retry arithmetic, as Google documents them. Pure functions, no I/O."""

from __future__ import annotations

from datetime import datetime, timedelta

import grpc
from google.cloud import tasks_v2

from emulators import serving

MAX_ATTEMPTS = 100
MIN_BACKOFF = timedelta(seconds=0.1)
MAX_BACKOFF = timedelta(seconds=3600)
MAX_DOUBLINGS = 16
MAX_DISPATCHES_PER_SECOND = 500.0
MAX_BURST_SIZE = 100
MAX_CONCURRENT_DISPATCHES = 1000


def retry_config(given: tasks_v2.RetryConfig | None) -> tasks_v2.RetryConfig:
    """`given` with unset (zero) fields replaced by Google's defaults, validated."""
    # A copy: callers pass messages that belong to a request.
    config = tasks_v2.RetryConfig.deserialize(
        tasks_v2.RetryConfig.serialize(given if given is not None else tasks_v2.RetryConfig())
    )
    if config.max_attempts == 0:
        config.max_attempts = MAX_ATTEMPTS
    if not config.min_backoff:
        config.min_backoff = MIN_BACKOFF
    if not config.max_backoff:
        config.max_backoff = MAX_BACKOFF
    if config.max_doublings == 0:
        config.max_doublings = MAX_DOUBLINGS
    if config.max_attempts < -1:
        raise _invalid("RetryConfig.max_attempts must be -1 (unlimited) or positive")
    if config.min_backoff < timedelta(0) or config.max_backoff < timedelta(0):
        raise _invalid("RetryConfig backoffs must not be negative")
    if config.min_backoff > config.max_backoff:
        raise _invalid("RetryConfig.min_backoff must be less than or equal to max_backoff")
    if config.max_doublings < 0:
        raise _invalid("RetryConfig.max_doublings must not be negative")
    if config.max_retry_duration < timedelta(0):
        raise _invalid("RetryConfig.max_retry_duration must not be negative")
    return config


def rate_limits(given: tasks_v2.RateLimits | None) -> tasks_v2.RateLimits:
    """`given` with unset fields defaulted; the burst size is output only, as in Google's API."""
    limits = tasks_v2.RateLimits.deserialize(
        tasks_v2.RateLimits.serialize(given if given is not None else tasks_v2.RateLimits())
    )
    if not limits.max_dispatches_per_second:
        limits.max_dispatches_per_second = MAX_DISPATCHES_PER_SECOND
    if not limits.max_concurrent_dispatches:
        limits.max_concurrent_dispatches = MAX_CONCURRENT_DISPATCHES
    limits.max_burst_size = MAX_BURST_SIZE
    if not 0 < limits.max_dispatches_per_second <= MAX_DISPATCHES_PER_SECOND:
        raise _invalid("RateLimits.max_dispatches_per_second must be in (0, 500]")
    if not 0 < limits.max_concurrent_dispatches <= 5000:
        raise _invalid("RateLimits.max_concurrent_dispatches must be in [1, 5000]")
    return limits


def backoff(config: tasks_v2.RetryConfig, failures: int) -> timedelta:
    """Delay before the next attempt after `failures` failed attempts (>= 1).

    The interval starts at min_backoff, doubles max_doublings times, then grows linearly by the
    last doubled interval, always capped at max_backoff (Google's RetryConfig documentation).
    """
    if failures < 1:
        raise ValueError("backoff is for a task that failed at least once")
    retry = failures - 1
    if retry <= config.max_doublings:
        delay = config.min_backoff * (2**retry)
    else:
        step = config.min_backoff * (2**config.max_doublings)
        delay = step * (retry - config.max_doublings + 1)
    return min(delay, config.max_backoff)


def exhausted(
    config: tasks_v2.RetryConfig, attempts: int, first_attempt: datetime, now: datetime
) -> bool:
    """Whether a task that failed `attempts` times gets no further attempt.

    Google stops when both limits are reached: max_attempts (-1 never) and, if set,
    max_retry_duration measured from the first attempt.
    """
    attempts_reached = config.max_attempts != -1 and attempts >= config.max_attempts
    duration = config.max_retry_duration
    duration_reached = not duration or now - first_attempt >= duration
    return attempts_reached and duration_reached


def _invalid(message: str) -> serving.ApiError:
    return serving.ApiError(grpc.StatusCode.INVALID_ARGUMENT, message)
