"""The Cloud Scheduler adapter: proto conversion, paginated listing, masked writes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from google.api_core import exceptions as api_exceptions
from google.cloud import scheduler_v1

from controller.gcp import calling, errors, scheduler_jobs
from controller.gcp import clients as gcp_clients
from controller.registry import model, ownership
from emulators import running
from emulators.testing import PushTarget, eventually
from tests.controller import resources
from tests.controller.gcp import proto_plus_readers

PARENT = "projects/p/locations/europe-west1"


@pytest.mark.parametrize(
    "job",
    [
        resources.job(),
        resources.job(paused=False, http_method="PUT", body="", headers={}),
        resources.job(
            description="with token",
            oidc_token=model.OidcToken("tasks@p.iam.gserviceaccount.com", "https://aud"),
            retry=model.SchedulerRetry(3, 60.5, 1.25, 30.0, 2),
            attempt_deadline=600.0,
        ),
    ],
    ids=["plain", "put-no-body", "oidc-retry-deadline"],
)
def test_proto_round_trip(job: model.SchedulerJob) -> None:
    proto = scheduler_jobs.to_proto(job, "shop", PARENT)

    observed = scheduler_jobs.from_proto(proto)

    assert proto.name == f"{PARENT}/jobs/{job.name}"
    assert observed == model.ObservedJob(job=job, owner="shop")


def test_unset_fields_read_as_google_defaults() -> None:
    proto = scheduler_v1.Job(
        name=f"{PARENT}/jobs/x",
        schedule="* * * * *",
        http_target=scheduler_v1.HttpTarget(uri="https://x"),
        state=scheduler_v1.Job.State.PAUSED,
    )

    observed = scheduler_jobs.from_proto(proto)

    assert observed.owner is None
    assert observed.job == model.SchedulerJob(
        name="x", schedule="* * * * *", uri="https://x", paused=True
    )


def test_a_method_newer_than_the_client_reads_as_drift_not_a_crash() -> None:
    raw = scheduler_v1.Job.pb(
        scheduler_v1.Job(name=f"{PARENT}/jobs/x", http_target=scheduler_v1.HttpTarget(uri="u"))
    )
    raw.http_target.http_method = 99  # an enum value this client library does not know

    observed = scheduler_jobs.from_pb(raw)

    assert observed.job.http_method == "99"


@pytest.fixture
def adapter(
    clients: gcp_clients.Clients, project: str
) -> tuple[scheduler_jobs.SchedulerJobs, calling.Calls]:
    calls = calling.Calls()
    jobs = scheduler_jobs.SchedulerJobs(
        clients.scheduler, calls, project, resources.LOCATION, page_size=2
    )
    return jobs, calls


def test_list_reads_every_page(
    adapter: tuple[scheduler_jobs.SchedulerJobs, calling.Calls],
    cloud_scheduler_emulator: running.Service,
) -> None:
    jobs, calls = adapter
    for index in range(5):
        jobs.create(resources.job(f"j{index}"), "shop")
    cloud_scheduler_emulator.requests.clear()

    listed = jobs.list()

    assert sorted(o.job.name for o in listed) == [f"shop--j{index}" for index in range(5)]
    assert {o.owner for o in listed} == {"shop"}
    assert cloud_scheduler_emulator.requests.count("ListJobs") == 3  # pages of 2, 2, 1
    assert calls.counts.reads == 3 and calls.counts.writes == 5


def test_writes_round_trip_through_the_emulator(
    adapter: tuple[scheduler_jobs.SchedulerJobs, calling.Calls],
    cloud_scheduler_emulator: running.Service,
) -> None:
    jobs, _ = adapter
    desired = resources.job(description="nightly")
    jobs.create(desired, "shop")
    changed = resources.job(description="nightly", schedule="0 5 * * *", time_zone="UTC")

    jobs.update(changed, "shop", ["time_zone", "schedule"])
    jobs.pause(desired.name)

    (observed,) = jobs.list()
    assert observed.owner == "shop"
    assert observed.job.schedule == "0 5 * * *" and observed.job.time_zone == "UTC"
    assert observed.job.paused and observed.job.description == "nightly"
    update = next(r for r in cloud_scheduler_emulator.requests.entries if r.method == "UpdateJob")
    assert update.update_mask == ("schedule", "time_zone")

    jobs.delete(desired.name)
    assert jobs.list() == []
    with pytest.raises(errors.NotFound):
        jobs.delete(desired.name)


def test_get_reads_one_job_as_listed(
    adapter: tuple[scheduler_jobs.SchedulerJobs, calling.Calls],
) -> None:
    jobs, calls = adapter
    jobs.create(resources.job(description="nightly"), "shop")

    assert jobs.get("shop--cleanup") == jobs.list()[0]
    assert calls.counts.reads == 2
    with pytest.raises(errors.NotFound):
        jobs.get("shop--missing")


def test_list_live_reads_state_and_the_last_attempt(
    adapter: tuple[scheduler_jobs.SchedulerJobs, calling.Calls],
    cloud_scheduler_emulator: running.Service,
    push_target: PushTarget,
) -> None:
    jobs, calls = adapter
    jobs.create(resources.job("fresh", uri=push_target.url_for("fresh"), time_zone="UTC"), "shop")
    jobs.create(resources.job("failing", uri=push_target.url_for("failing")), "shop")
    push_target.answer(503)
    cloud_scheduler_emulator.requests.clear()

    jobs.run("shop--failing")
    eventually(lambda: push_target.received)
    live = eventually(lambda: _settled(jobs.list_live()))

    fresh, failing = sorted(live, key=lambda job: job.observed.job.name, reverse=True)
    now = cloud_scheduler_emulator.clock.now()
    assert (fresh.state, fresh.last_attempt_time, fresh.last_attempt_code) == (
        "ENABLED",
        None,
        None,
    )
    assert fresh.schedule_time == datetime(2025, 1, 16, 3, 0, tzinfo=UTC)  # the next cron time
    assert failing.last_attempt_time == now
    assert failing.last_attempt_code == "UNAVAILABLE"
    assert "503" in failing.last_attempt_message
    assert [r.method for r in cloud_scheduler_emulator.requests.entries][:1] == ["RunJob"]
    assert calls.counts.writes == 3  # two creates and the run


def test_run_fires_a_paused_job_and_a_missing_one_is_not_found(
    adapter: tuple[scheduler_jobs.SchedulerJobs, calling.Calls],
    push_target: PushTarget,
) -> None:
    jobs, _ = adapter
    jobs.create(resources.job(uri=push_target.url_for("cleanup")), "shop")
    jobs.pause("shop--cleanup")

    jobs.run("shop--cleanup")

    eventually(lambda: push_target.received)
    (live,) = eventually(lambda: _settled(jobs.list_live()))
    assert (live.state, live.last_attempt_code, live.schedule_time) == ("PAUSED", "OK", None)
    with pytest.raises(errors.NotFound):
        jobs.run("shop--missing")


def _settled(live: list[scheduler_jobs.LiveJob]) -> list[scheduler_jobs.LiveJob] | None:
    """The listing once every attempt that started has an outcome."""
    attempted = [job for job in live if job.last_attempt_time is not None]
    return live if all(job.last_attempt_code for job in attempted) else None


# -- the raw reader against proto-plus attribute access (the reader before issue 13) ------------

RawJob = scheduler_v1.Job.pb()
_FULL_TARGET: dict[str, object] = {
    "uri": "https://shop.example.com/gcp-tasks/cleanup",
    "http_method": scheduler_v1.HttpMethod.PUT,
    "headers": {"Content-Type": "application/json", "X-Trace": "1"},
    "body": b'{"kind": "cleanup"}',
    "oidc_token": {"service_account_email": "tasks@p.iam.gserviceaccount.com", "audience": "a"},
}
_FULL_JOB: dict[str, object] = {
    "name": f"{PARENT}/jobs/shop--cleanup",
    "description": ownership.describe("nightly", "shop"),
    "schedule": "0 3 * * *",
    "time_zone": "Europe/London",
    "state": scheduler_v1.Job.State.ENABLED,
    "http_target": _FULL_TARGET,
    "retry_config": {
        "retry_count": 3,
        "max_retry_duration": {"seconds": 60, "nanos": 500_000_000},
        "min_backoff_duration": {"seconds": 1, "nanos": 250_000_000},
        "max_backoff_duration": {"seconds": 30},
        "max_doublings": 2,
    },
    "attempt_deadline": {"seconds": 600},
    "user_update_time": {"seconds": 1_700_000_000},
    "schedule_time": {"seconds": 1_700_000_100, "nanos": 5},
    "status": {"code": 5, "message": "not found"},
}
_SERVICE_ACCOUNT = "tasks@p.iam.gserviceaccount.com"
_BODY_METHODS = (
    scheduler_v1.HttpMethod.POST,
    scheduler_v1.HttpMethod.PUT,
    scheduler_v1.HttpMethod.PATCH,
)
# Each field's values worth reading apart: defaults, unset, Google's own additions, odd ones.
JOB_VARIANTS: dict[str, list[object]] = {
    "name": ["", f"{PARENT}/jobs/x", "projects/p/locations/l/jobs/a/jobs/b"],
    "description": [
        "",
        "nightly",
        ownership.describe("", "shop"),
        ownership.describe("two words", "blog"),
        "[gcptasks.dev/owner=has space]",
    ],
    "schedule": ["", "0 3 * * *", " 0  3 * * * "],
    "time_zone": ["", "UTC", "America/New_York"],
    "state": list(scheduler_v1.Job.State),
    "http_target": [
        None,
        {},
        {"uri": "https://x"},
        *({**_FULL_TARGET, "http_method": method} for method in scheduler_v1.HttpMethod),
        {**_FULL_TARGET, "body": b""},
        {**_FULL_TARGET, "body": b"\xff\xfe not utf-8 \xc3"},
        {**_FULL_TARGET, "headers": {}},
        {
            **_FULL_TARGET,
            "headers": {
                "User-Agent": "Google-Cloud-Scheduler",
                "Content-Type": "application/octet-stream",
            },
        },
        {**_FULL_TARGET, "oidc_token": {"service_account_email": _SERVICE_ACCOUNT}},
        {**_FULL_TARGET, "oidc_token": {"audience": "https://aud-without-account"}},
        {
            key: value for key, value in _FULL_TARGET.items() if key != "oidc_token"
        },  # no token at all
        {
            **{key: value for key, value in _FULL_TARGET.items() if key != "oidc_token"},
            "oauth_token": {"service_account_email": _SERVICE_ACCOUNT, "scope": "s"},
        },
    ],
    "pubsub_target": [None, {"topic_name": "projects/p/topics/t", "data": b"x"}],
    "retry_config": [
        None,
        {},
        {"retry_count": 5},
        {"max_retry_duration": {"nanos": 1_999}},  # below a microsecond: truncated
        {"min_backoff_duration": {"seconds": 3_600_000, "nanos": 999_999_999}},
        {"max_backoff_duration": {"seconds": 86_400 * 3 + 7}, "max_doublings": 16},
    ],
    "attempt_deadline": [
        None,
        {},
        {"seconds": 15},
        {"seconds": 1, "nanos": 1_999},
        {"seconds": 86_400, "nanos": 1},
    ],
    "user_update_time": [None, {"seconds": 1}],
    "status": [None, {"code": 0}],
}


@pytest.mark.parametrize(
    "raw",
    proto_plus_readers.cases(
        RawJob, _FULL_JOB, JOB_VARIANTS, oneof=("pubsub_target", "http_target")
    ),
)
def test_raw_reader_reads_what_proto_plus_read(raw: object) -> None:
    wrapped = scheduler_v1.Job.wrap(raw)

    expected = proto_plus_readers.job(wrapped)

    for observed in (scheduler_jobs.from_pb(raw), scheduler_jobs.from_proto(wrapped)):
        assert observed == expected
        assert repr(observed) == repr(expected)  # same types too: 1.0 is not 1, True is not 1


def test_listing_reads_what_proto_plus_read(
    adapter: tuple[scheduler_jobs.SchedulerJobs, calling.Calls],
    scheduler_api: scheduler_v1.CloudSchedulerClient,
) -> None:
    """Through the emulator and Google's client: the adapter's raw pages against the same
    listing read through proto-plus, for jobs written by us and by others."""
    jobs, _ = adapter
    jobs.create(resources.job("ours"), "shop")
    jobs.create(
        resources.job(
            "everything",
            oidc_token=model.OidcToken(_SERVICE_ACCOUNT, "https://aud"),
            retry=model.SchedulerRetry(3, 60.5, 1.25, 30.0, 2),
            attempt_deadline=600.0,
            paused=True,
        ),
        "shop",
    )
    jobs.pause("shop--everything")
    accepted = 0
    for index, fields in enumerate(JOB_VARIANTS["http_target"][1:]):
        assert isinstance(fields, dict)
        if fields.get("http_method") not in _BODY_METHODS:
            fields = {**fields, "body": b""}  # as Google, the emulator refuses a body here
        job = scheduler_v1.Job(name=jobs.path(f"theirs-{index}"), schedule="* * * * *")
        scheduler_v1.Job.pb(job).http_target.CopyFrom(scheduler_v1.HttpTarget.pb()(**fields))
        if not job.http_target.uri:
            job.http_target.uri = "https://x"
        try:
            scheduler_api.create_job(parent=jobs.parent, job=job)
        except (api_exceptions.InvalidArgument, api_exceptions.MethodNotImplemented):
            continue  # an OIDC token without its account (Google refuses it too), OAuth
        accepted += 1

    listed = jobs.list()

    read = [proto_plus_readers.job(job) for job in scheduler_api.list_jobs(parent=jobs.parent)]
    assert accepted >= 12 and len(listed) == 2 + accepted
    assert listed == read


def test_listing_reads_no_field_through_proto_plus(
    adapter: tuple[scheduler_jobs.SchedulerJobs, calling.Calls],
) -> None:
    """The listed pages are read as raw protobuf: proto-plus cost ~10x more per field."""
    jobs, calls = adapter
    for index in range(5):
        jobs.create(
            resources.job(f"j{index}", oidc_token=model.OidcToken(_SERVICE_ACCOUNT)), "shop"
        )

    with proto_plus_readers.field_reads() as reads:
        listed = jobs.list()

    assert len(listed) == 5 and calls.counts.reads == 3
    # Google's client reads one field of each request (its routing header); none per resource.
    assert reads.count == 3
