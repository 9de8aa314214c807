"""Cron firing, retries and OIDC tokens of the Cloud Scheduler emulator, on the test clock."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from google.auth.transport import requests as auth_requests
from google.cloud import scheduler_v1
from google.cloud.scheduler_v1 import types
from google.oauth2 import id_token
from google.rpc import code_pb2

from emulators import clock, dispatching, oidc, testing
from emulators.cloud_scheduler import firing
from emulators.testing import PushTarget, eventually

PARENT = "projects/test-project/locations/europe-west1"
SERVICE_ACCOUNT = "scheduler@test-project.iam.gserviceaccount.com"
QUIET = 0.3  # how long a test watches for a firing that must not happen


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def create(
    api: scheduler_v1.CloudSchedulerClient,
    target: PushTarget,
    *,
    schedule: str = "* * * * *",
    time_zone: str = "UTC",
    retry: types.RetryConfig | None = None,
    **http: object,
) -> types.Job:
    job = types.Job(
        name=f"{PARENT}/jobs/job-{len(api.list_jobs(parent=PARENT).jobs)}",
        schedule=schedule,
        time_zone=time_zone,
        http_target=types.HttpTarget(uri=target.url_for("/cron"), **http),
        retry_config=retry,
    )
    return api.create_job(parent=PARENT, job=job)


def job_after(api: scheduler_v1.CloudSchedulerClient, name: str, **expected: object) -> types.Job:
    """The job once every expected field has its value (attempts finish in the background)."""

    def matches() -> types.Job | None:
        job = api.get_job(name=name)
        return job if all(_field(job, key) == value for key, value in expected.items()) else None

    return eventually(matches)


def _field(job: types.Job, key: str) -> object:
    if key == "status_code":  # only once an attempt has finished: before, there is no status
        return job.status.code if "status" in job else None
    return getattr(job, key)


def test_fires_at_its_cron_time_in_its_time_zone_with_body_headers_and_token(
    scheduler_api: scheduler_v1.CloudSchedulerClient,
    push_target: PushTarget,
    emulator_clock: clock.ManualClock,
    oidc_issuer: oidc.Issuer,
) -> None:
    job = create(
        scheduler_api,
        push_target,
        schedule="0 9 * * *",
        time_zone="Europe/Paris",
        body=b'{"report": "nightly"}',
        headers={"Content-Type": "application/json", "X-Custom": "yes"},
        oidc_token=types.OidcToken(service_account_email=SERVICE_ACCOUNT),
    )
    # 09:00 in Paris in January is 08:00 UTC.
    assert job.schedule_time == utc(2025, 1, 16, 8, 0)
    emulator_clock.set(utc(2025, 1, 16, 7, 59, 59))
    time.sleep(QUIET)
    assert push_target.received == []

    emulator_clock.set(utc(2025, 1, 16, 8, 0))
    (request,) = eventually(lambda: push_target.received)

    assert request.method == "POST"
    assert request.path == "/cron"
    assert request.body == b'{"report": "nightly"}'
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Custom"] == "yes"
    assert request.headers["User-Agent"] == "Google-Cloud-Scheduler"
    assert request.headers["X-CloudScheduler"] == "true"
    assert request.headers["X-CloudScheduler-JobName"] == "job-0"
    assert request.headers["X-CloudScheduler-ScheduleTime"] == "2025-01-16T09:00:00+01:00"
    scheme, token = request.headers["Authorization"].split(" ", 1)
    assert scheme == "Bearer"
    claims = id_token.verify_token(
        token,
        auth_requests.Request(),
        audience=push_target.url_for("/cron"),  # the default audience is the target's URI
        certs_url=oidc_issuer.certs_url,
    )
    assert claims["email"] == SERVICE_ACCOUNT
    assert claims["email_verified"] is True

    fired = job_after(
        scheduler_api, job.name, schedule_time=utc(2025, 1, 17, 8, 0), status_code=code_pb2.OK
    )
    assert fired.last_attempt_time == utc(2025, 1, 16, 8, 0)
    assert fired.state == types.Job.State.ENABLED


def test_oidc_audience_can_be_set(
    scheduler_api: scheduler_v1.CloudSchedulerClient,
    push_target: PushTarget,
    oidc_issuer: oidc.Issuer,
) -> None:
    token_config = types.OidcToken(service_account_email=SERVICE_ACCOUNT, audience="my-app")
    job = create(scheduler_api, push_target, oidc_token=token_config)
    scheduler_api.run_job(name=job.name)
    (request,) = eventually(lambda: push_target.received)
    token = request.headers["Authorization"].removeprefix("Bearer ")
    claims = id_token.verify_token(
        token, auth_requests.Request(), audience="my-app", certs_url=oidc_issuer.certs_url
    )
    assert claims["aud"] == "my-app"


def test_without_oidc_token_no_authorization_is_sent(
    scheduler_api: scheduler_v1.CloudSchedulerClient, push_target: PushTarget
) -> None:
    job = create(scheduler_api, push_target, http_method=types.HttpMethod.GET)
    scheduler_api.run_job(name=job.name)
    (request,) = eventually(lambda: push_target.received)
    assert request.method == "GET"
    assert "Authorization" not in request.headers


def test_a_clock_jump_over_many_ticks_fires_once(
    scheduler_api: scheduler_v1.CloudSchedulerClient,
    push_target: PushTarget,
    emulator_clock: clock.ManualClock,
) -> None:
    job = create(scheduler_api, push_target)
    emulator_clock.advance(timedelta(hours=1))
    eventually(lambda: push_target.received)
    job_after(scheduler_api, job.name, schedule_time=utc(2025, 1, 15, 13, 1))
    time.sleep(QUIET)
    assert len(push_target.received) == 1


def test_fires_every_tick_as_the_clock_moves(
    scheduler_api: scheduler_v1.CloudSchedulerClient,
    push_target: PushTarget,
    emulator_clock: clock.ManualClock,
) -> None:
    job = create(scheduler_api, push_target, schedule="*/10 * * * *")
    for tick in range(1, 4):
        emulator_clock.set(testing.FIXED_START + timedelta(minutes=10 * tick))
        eventually(lambda tick=tick: len(push_target.received) == tick)
        job_after(
            scheduler_api,
            job.name,
            schedule_time=testing.FIXED_START + timedelta(minutes=10 * (tick + 1)),
        )
    stamps = [request.headers["X-CloudScheduler-ScheduleTime"] for request in push_target.received]
    assert stamps == [
        "2025-01-15T12:10:00+00:00",
        "2025-01-15T12:20:00+00:00",
        "2025-01-15T12:30:00+00:00",
    ]


def test_paused_job_does_not_fire_and_fires_again_after_resume(
    scheduler_api: scheduler_v1.CloudSchedulerClient,
    push_target: PushTarget,
    emulator_clock: clock.ManualClock,
) -> None:
    job = create(scheduler_api, push_target)
    scheduler_api.pause_job(name=job.name)
    emulator_clock.advance(timedelta(minutes=5))
    time.sleep(QUIET)
    assert push_target.received == []

    resumed = scheduler_api.resume_job(name=job.name)
    assert resumed.schedule_time == utc(2025, 1, 15, 12, 6)
    emulator_clock.advance(timedelta(minutes=1))
    eventually(lambda: len(push_target.received) == 1)


def test_run_fires_now_without_moving_the_schedule(
    scheduler_api: scheduler_v1.CloudSchedulerClient,
    push_target: PushTarget,
    emulator_clock: clock.ManualClock,
) -> None:
    job = create(scheduler_api, push_target, schedule="0 9 * * *")
    emulator_clock.advance(30)
    scheduler_api.run_job(name=job.name)
    (request,) = eventually(lambda: push_target.received)
    assert request.headers["X-CloudScheduler-ScheduleTime"] == "2025-01-15T12:00:30+00:00"
    ran = job_after(scheduler_api, job.name, status_code=code_pb2.OK)
    assert ran.last_attempt_time == utc(2025, 1, 15, 12, 0, 30)
    assert ran.schedule_time == job.schedule_time


def test_run_fires_a_paused_job_once_and_it_stays_paused(
    scheduler_api: scheduler_v1.CloudSchedulerClient,
    push_target: PushTarget,
    emulator_clock: clock.ManualClock,
) -> None:
    job = create(scheduler_api, push_target)
    scheduler_api.pause_job(name=job.name)
    scheduler_api.run_job(name=job.name)
    eventually(lambda: push_target.received)
    emulator_clock.advance(timedelta(minutes=3))
    time.sleep(QUIET)
    assert len(push_target.received) == 1
    assert scheduler_api.get_job(name=job.name).state == types.Job.State.PAUSED


def test_failed_attempts_are_retried_with_backoff_then_wait_for_the_next_tick(
    scheduler_api: scheduler_v1.CloudSchedulerClient,
    push_target: PushTarget,
    emulator_clock: clock.ManualClock,
) -> None:
    retry = types.RetryConfig(
        retry_count=2,
        min_backoff_duration=timedelta(seconds=10),
        max_backoff_duration=timedelta(seconds=100),
        max_doublings=1,
    )
    job = create(scheduler_api, push_target, schedule="0 * * * *", retry=retry)
    push_target.answer(500, 503, 404)
    tick = utc(2025, 1, 15, 13, 0)

    emulator_clock.set(tick)
    failed = job_after(scheduler_api, job.name, schedule_time=tick + timedelta(seconds=10))
    assert failed.status.code == code_pb2.INTERNAL
    assert failed.last_attempt_time == tick

    emulator_clock.advance(10)
    failed = job_after(scheduler_api, job.name, schedule_time=tick + timedelta(seconds=30))
    assert failed.status.code == code_pb2.UNAVAILABLE
    assert failed.last_attempt_time == tick + timedelta(seconds=10)

    emulator_clock.advance(20)
    # While an attempt is in flight schedule_time already shows the next tick: wait for both.
    job_after(
        scheduler_api,
        job.name,
        schedule_time=tick + timedelta(hours=1),
        status_code=code_pb2.NOT_FOUND,
    )
    assert len(push_target.received) == 3
    # Retries repeat the execution's schedule time.
    assert {r.headers["X-CloudScheduler-ScheduleTime"] for r in push_target.received} == {
        "2025-01-15T13:00:00+00:00"
    }

    emulator_clock.set(tick + timedelta(hours=1))
    recovered = job_after(scheduler_api, job.name, status_code=code_pb2.OK)
    assert recovered.schedule_time == tick + timedelta(hours=2)
    assert len(push_target.received) == 4


def test_no_retry_by_default(
    scheduler_api: scheduler_v1.CloudSchedulerClient,
    push_target: PushTarget,
    emulator_clock: clock.ManualClock,
) -> None:
    job = create(scheduler_api, push_target)
    push_target.answer(500)
    emulator_clock.advance(60)
    failed = job_after(scheduler_api, job.name, status_code=code_pb2.INTERNAL)
    assert failed.schedule_time == utc(2025, 1, 15, 12, 2)
    emulator_clock.advance(30)
    time.sleep(QUIET)
    assert len(push_target.received) == 1


def test_retries_stop_at_the_next_scheduled_time(
    scheduler_api: scheduler_v1.CloudSchedulerClient,
    push_target: PushTarget,
    emulator_clock: clock.ManualClock,
) -> None:
    retry = types.RetryConfig(retry_count=5, min_backoff_duration=timedelta(seconds=40))
    job = create(scheduler_api, push_target, retry=retry)
    push_target.answer(500, 503)
    emulator_clock.advance(60)  # 12:01 fails; the first retry (12:01:40) is before 12:02
    job_after(scheduler_api, job.name, schedule_time=utc(2025, 1, 15, 12, 1, 40))
    emulator_clock.advance(40)  # fails again; the next retry (+80s) would pass 12:02
    job_after(
        scheduler_api,
        job.name,
        status_code=code_pb2.UNAVAILABLE,
        schedule_time=utc(2025, 1, 15, 12, 2),
    )
    assert len(push_target.received) == 2


def test_unreachable_target_is_unavailable(
    scheduler_api: scheduler_v1.CloudSchedulerClient,
) -> None:
    closed = PushTarget().start()
    closed.stop()  # nothing listens on its port any more
    job = create(scheduler_api, closed)
    scheduler_api.run_job(name=job.name)
    failed = job_after(scheduler_api, job.name, status_code=code_pb2.UNAVAILABLE)
    assert failed.status.message


def test_a_slow_target_never_blocks_the_api(
    scheduler_api: scheduler_v1.CloudSchedulerClient, push_target: PushTarget
) -> None:
    push_target.delay = 1.0
    job = create(scheduler_api, push_target)
    started = time.monotonic()
    scheduler_api.run_job(name=job.name)
    eventually(lambda: push_target.received)
    scheduler_api.get_job(name=job.name)
    scheduler_api.list_jobs(parent=PARENT)
    assert time.monotonic() - started < 0.8


def test_deleted_job_stops_firing(
    scheduler_api: scheduler_v1.CloudSchedulerClient,
    push_target: PushTarget,
    emulator_clock: clock.ManualClock,
) -> None:
    job = create(scheduler_api, push_target)
    scheduler_api.delete_job(name=job.name)
    emulator_clock.advance(timedelta(minutes=5))
    time.sleep(QUIET)
    assert push_target.received == []


@pytest.mark.parametrize(
    ("delivery", "code"),
    [
        (dispatching.Delivery(200, None, 0.1), code_pb2.OK),
        (dispatching.Delivery(204, None, 0.1), code_pb2.OK),
        (dispatching.Delivery(400, None, 0.1), code_pb2.INVALID_ARGUMENT),
        (dispatching.Delivery(401, None, 0.1), code_pb2.UNAUTHENTICATED),
        (dispatching.Delivery(403, None, 0.1), code_pb2.PERMISSION_DENIED),
        (dispatching.Delivery(404, None, 0.1), code_pb2.NOT_FOUND),
        (dispatching.Delivery(418, None, 0.1), code_pb2.FAILED_PRECONDITION),
        (dispatching.Delivery(429, None, 0.1), code_pb2.RESOURCE_EXHAUSTED),
        (dispatching.Delivery(500, None, 0.1), code_pb2.INTERNAL),
        (dispatching.Delivery(503, None, 0.1), code_pb2.UNAVAILABLE),
        (dispatching.Delivery(504, None, 0.1), code_pb2.DEADLINE_EXCEEDED),
        (dispatching.Delivery(None, "ReadTimeout: too slow", 180), code_pb2.DEADLINE_EXCEEDED),
        (dispatching.Delivery(None, "ConnectionError: refused", 0), code_pb2.UNAVAILABLE),
    ],
)
def test_status_of(delivery: dispatching.Delivery, code: int) -> None:
    assert delivery.rpc_status().code == code


def test_headers_drop_what_google_reserves() -> None:
    job = types.Job(
        name=f"{PARENT}/jobs/x",
        time_zone="America/New_York",
        http_target=types.HttpTarget(
            uri="http://x",
            headers={"Host": "h", "X-Google-Foo": "1", "X-AppEngine-Bar": "2", "Keep": "3"},
        ),
    )
    headers = firing.headers_for(job, utc(2025, 7, 1, 12, 0))
    assert headers == {
        "Keep": "3",
        "X-CloudScheduler": "true",
        "X-CloudScheduler-JobName": "x",
        "X-CloudScheduler-ScheduleTime": "2025-07-01T08:00:00-04:00",
    }
