"""Calls: counted, writes throttled by a token bucket, retryable errors retried with capped
jittered backoff, permanent ones raised at once as our errors with Google's as the cause."""

from __future__ import annotations

import random

import pytest
import structlog
from google.api_core import exceptions as google_exceptions

from controller.gcp import calling, errors
from tests.controller.fake_time import FakeTime


def _failing(*failures: Exception, result: str = "done"):  # type: ignore[no-untyped-def]
    remaining = list(failures)

    def call(**options: object) -> str:
        assert options == {"retry": calling.NO_RETRY, "timeout": calling.TIMEOUT_SECONDS}
        if remaining:
            raise remaining.pop(0)
        return result

    return call


@pytest.mark.parametrize(
    ("attempt", "cap"),
    [(1, 0.4), (2, 0.8), (3, 1.6), (10, 10.0), (30, 10.0)],
)
def test_backoff_is_capped_full_jitter(attempt: int, cap: float) -> None:
    backoff = calling.Backoff(base=0.2, cap=10.0)
    rng = random.Random(7)

    delays = [backoff.delay(attempt, rng) for _ in range(200)]

    assert all(0.0 <= delay <= cap for delay in delays)
    assert max(delays) > cap * 0.8  # jitter spreads over the whole range


def test_token_bucket_allows_a_burst_then_paces() -> None:
    fake = FakeTime()
    bucket = calling.TokenBucket(2.0, burst=2, clock=fake.clock, sleep=fake.sleep)

    waits = [bucket.acquire() for _ in range(5)]

    assert waits[:2] == [0.0, 0.0]
    assert waits[2:] == pytest.approx([0.5, 0.5, 0.5])
    assert fake.now == pytest.approx(1.5)  # 5 writes at 2/s with a burst of 2


def test_token_bucket_refills_while_idle() -> None:
    fake = FakeTime()
    bucket = calling.TokenBucket(1.0, clock=fake.clock, sleep=fake.sleep)
    bucket.acquire()
    fake.now += 10.0

    assert bucket.acquire() == 0.0


def test_retryable_errors_are_retried_and_counted() -> None:
    fake = FakeTime()
    calls = calling.Calls(sleep=fake.sleep, rng=random.Random(1))
    flaky = _failing(
        google_exceptions.ServiceUnavailable("down"), google_exceptions.DeadlineExceeded("slow")
    )

    assert calls.write("UpdateJob", "jobs/j", flaky) == "done"

    assert calls.counts.writes == 3
    assert calls.counts.retries == 2
    assert calls.counts.errors == {"UNAVAILABLE": 2}
    assert len(fake.slept) == 2


def test_permanent_errors_are_raised_at_once_with_the_cause() -> None:
    fake = FakeTime()
    calls = calling.Calls(sleep=fake.sleep)
    cause = google_exceptions.PermissionDenied("denied")

    with pytest.raises(errors.PermissionDenied) as raised:
        calls.read("ListJobs", "projects/p", _failing(cause))

    assert raised.value.__cause__ is cause
    assert calls.counts.reads == 1 and calls.counts.retries == 0
    assert fake.slept == []


def test_retries_stop_after_the_last_attempt() -> None:
    fake = FakeTime()
    calls = calling.Calls(backoff=calling.Backoff(attempts=3), sleep=fake.sleep)
    down = [google_exceptions.ServiceUnavailable("down") for _ in range(5)]

    with pytest.raises(errors.Unavailable):
        calls.read("ListJobs", "projects/p", _failing(*down))

    assert calls.counts.reads == 3 and calls.counts.retries == 2


def test_writes_wait_for_the_limiter_reads_do_not() -> None:
    fake = FakeTime()
    limiter = calling.TokenBucket(1.0, clock=fake.clock, sleep=fake.sleep)
    calls = calling.Calls(limiter=limiter, sleep=fake.sleep)

    for _ in range(3):
        calls.read("ListJobs", "p", lambda **options: None)
    for _ in range(3):
        calls.write("CreateJob", "p", lambda **options: None)

    assert fake.slept == pytest.approx([1.0, 1.0])
    assert calls.counts.total == 6


def test_a_quota_error_halves_the_rate_and_spends_the_saved_tokens() -> None:
    fake = FakeTime()
    bucket = calling.TokenBucket(4.0, clock=fake.clock, sleep=fake.sleep)

    with structlog.testing.capture_logs() as logs:
        bucket.slow_down(operation="CreateJob")

    assert bucket.rate == 2.0
    assert bucket.acquire() == pytest.approx(0.5)  # no burst left: one write per 1/2.0 s
    assert logs == [
        {
            "event": "write_rate_lowered",
            "log_level": "warning",
            "rate": 2.0,
            "previous_rate": 4.0,
            "normal_rate": 4.0,
            "operation": "CreateJob",
        }
    ]


def test_the_rate_never_falls_below_a_twentieth() -> None:
    bucket = calling.TokenBucket(4.0, clock=FakeTime().clock)
    for _ in range(10):
        bucket.slow_down()
    assert bucket.rate == pytest.approx(4.0 * calling.SLOWEST_FRACTION)


@pytest.mark.parametrize(
    ("idle", "rate"),
    [(0.0, 2.0), (15.0, 3.0), (29.0, 2.0 + 29 * 4 / 60), (30.0, 4.0), (600.0, 4.0)],
)
def test_the_rate_climbs_back_linearly_over_a_minute(idle: float, rate: float) -> None:
    fake = FakeTime()
    bucket = calling.TokenBucket(4.0, clock=fake.clock, sleep=fake.sleep)
    bucket.slow_down()
    fake.now += idle

    bucket.acquire()

    assert bucket.rate == pytest.approx(rate)


def test_back_to_normal_is_logged_once_with_how_long_it_took() -> None:
    fake = FakeTime()
    bucket = calling.TokenBucket(4.0, clock=fake.clock, sleep=fake.sleep)
    bucket.slow_down()

    with structlog.testing.capture_logs() as logs:
        for _ in range(200):  # paced by the bucket itself: time passes as it sleeps
            bucket.acquire()

    restored = [e for e in logs if e["event"] == "write_rate_restored"]
    assert len(restored) == 1
    assert restored[0]["rate"] == 4.0
    assert (
        29.0 <= restored[0]["slowed_for_s"] <= 31.0
    )  # from 2/s to 4/s: 30 s, give or take a write


@pytest.mark.parametrize(("write", "slowed"), [(True, True), (False, False)])
def test_quota_errors_on_writes_slow_the_limiter(write: bool, slowed: bool) -> None:
    fake = FakeTime()
    limiter = calling.TokenBucket(4.0, clock=fake.clock, sleep=fake.sleep)
    calls = calling.Calls(limiter=limiter, sleep=fake.sleep)
    quota = _failing(google_exceptions.TooManyRequests("quota"))

    (calls.write if write else calls.read)("CreateJob", "jobs/j", quota)

    assert (limiter.rate < limiter.normal_rate) is slowed
    assert calls.counts.errors == {"RESOURCE_EXHAUSTED": 1}
