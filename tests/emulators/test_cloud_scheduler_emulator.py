"""The Cloud Scheduler emulator's API, driven through Google's unmodified client."""

from datetime import UTC, datetime, timedelta

import pytest
from google.api_core import exceptions
from google.cloud import scheduler_v1
from google.cloud.scheduler_v1 import types
from google.protobuf import field_mask_pb2

from emulators import running, testing

PARENT = "projects/test-project/locations/europe-west1"


def new_job(job_id: str = "nightly", **changes: object) -> types.Job:
    fields: dict[str, object] = {
        "name": f"{PARENT}/jobs/{job_id}",
        "description": "nightly report",
        "schedule": "0 9 * * *",
        "time_zone": "Europe/Paris",
        "http_target": types.HttpTarget(uri="https://app.example/tasks/nightly", body=b"{}"),
    }
    fields.update(changes)
    return types.Job(**fields)


def test_create_stores_the_job_like_google(
    scheduler_api: scheduler_v1.CloudSchedulerClient,
    cloud_scheduler_emulator: running.Service,
) -> None:
    created = scheduler_api.create_job(parent=PARENT, job=new_job())
    assert created.name == f"{PARENT}/jobs/nightly"
    assert created.state == types.Job.State.ENABLED
    # FIXED_START is 2025-01-15 12:00 UTC; 09:00 in Paris (UTC+1 in winter) is 08:00 UTC.
    assert created.schedule_time == datetime(2025, 1, 16, 8, 0, tzinfo=UTC)
    assert created.user_update_time == testing.FIXED_START
    assert created.attempt_deadline == timedelta(minutes=3)
    assert created.retry_config.min_backoff_duration == timedelta(seconds=5)
    assert created.retry_config.max_backoff_duration == timedelta(hours=1)
    assert created.retry_config.max_doublings == 5
    assert created.http_target.http_method == types.HttpMethod.POST
    assert dict(created.http_target.headers) == {
        "User-Agent": "Google-Cloud-Scheduler",
        "Content-Type": "application/octet-stream",
    }
    assert scheduler_api.get_job(name=created.name) == created
    assert [entry.method for entry in cloud_scheduler_emulator.requests.entries] == [
        "CreateJob",
        "GetJob",
    ]
    assert cloud_scheduler_emulator.requests.entries[0].resource == PARENT


def test_create_ignores_output_only_fields(
    scheduler_api: scheduler_v1.CloudSchedulerClient,
) -> None:
    given = new_job(state=types.Job.State.PAUSED, schedule_time=datetime(2030, 1, 1, tzinfo=UTC))
    created = scheduler_api.create_job(parent=PARENT, job=given)
    assert created.state == types.Job.State.ENABLED
    assert created.schedule_time == datetime(2025, 1, 16, 8, 0, tzinfo=UTC)


def test_create_without_a_name_generates_one(
    scheduler_api: scheduler_v1.CloudSchedulerClient,
) -> None:
    created = scheduler_api.create_job(parent=PARENT, job=new_job(name=""))
    assert created.name.startswith(f"{PARENT}/jobs/")
    assert scheduler_api.get_job(name=created.name).name == created.name


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"schedule": "0 9 * *"}, "Schedule or time zone is invalid."),
        ({"schedule": "61 * * * *"}, "Schedule or time zone is invalid."),
        ({"time_zone": "Europe/Nowhere"}, "Schedule or time zone is invalid."),
        ({"name": f"{PARENT}/jobs/bad.name"}, "Job name must be formatted"),
        ({"name": "nightly"}, "Job name must be formatted"),
        ({"name": "projects/other/locations/europe-west1/jobs/x"}, "not in the parent"),
        ({"http_target": types.HttpTarget(uri="file:///etc/passwd")}, "http://"),
        ({"retry_config": types.RetryConfig(retry_count=9)}, "retry_count"),
    ],
)
def test_invalid_jobs_are_refused_and_nothing_is_stored(
    scheduler_api: scheduler_v1.CloudSchedulerClient,
    changes: dict[str, object],
    message: str,
) -> None:
    with pytest.raises(exceptions.InvalidArgument, match=message):
        scheduler_api.create_job(parent=PARENT, job=new_job(**changes))
    assert list(scheduler_api.list_jobs(parent=PARENT)) == []


def test_unsupported_targets_are_refused_loudly(
    scheduler_api: scheduler_v1.CloudSchedulerClient,
) -> None:
    job = new_job(http_target=None, pubsub_target=types.PubsubTarget(topic_name="t"))
    with pytest.raises(exceptions.MethodNotImplemented, match="http_target"):
        scheduler_api.create_job(parent=PARENT, job=job)


@pytest.mark.parametrize("parent", ["projects/p", "p/locations/l", "projects//locations/l"])
def test_bad_parent(scheduler_api: scheduler_v1.CloudSchedulerClient, parent: str) -> None:
    with pytest.raises(exceptions.InvalidArgument, match="Parent must be formatted"):
        scheduler_api.list_jobs(parent=parent)


def test_duplicate_is_already_exists(scheduler_api: scheduler_v1.CloudSchedulerClient) -> None:
    scheduler_api.create_job(parent=PARENT, job=new_job())
    with pytest.raises(exceptions.AlreadyExists, match=f"Job {PARENT}/jobs/nightly already"):
        scheduler_api.create_job(parent=PARENT, job=new_job(description="other"))
    assert scheduler_api.get_job(name=f"{PARENT}/jobs/nightly").description == "nightly report"


@pytest.mark.parametrize("method", ["get_job", "delete_job", "pause_job", "resume_job", "run_job"])
def test_missing_job_is_not_found(
    scheduler_api: scheduler_v1.CloudSchedulerClient, method: str
) -> None:
    with pytest.raises(exceptions.NotFound, match=r"Job not found\."):
        getattr(scheduler_api, method)(name=f"{PARENT}/jobs/missing")


def test_update_of_missing_job_is_not_found(
    scheduler_api: scheduler_v1.CloudSchedulerClient,
) -> None:
    with pytest.raises(exceptions.NotFound):
        scheduler_api.update_job(job=new_job("missing"))


def test_list_paginates_in_pages_of_the_requested_size(
    scheduler_api: scheduler_v1.CloudSchedulerClient,
    cloud_scheduler_emulator: running.Service,
) -> None:
    for number in range(7):
        scheduler_api.create_job(parent=PARENT, job=new_job(f"job-{number}"))
    scheduler_api.create_job(
        parent="projects/test-project/locations/us-central1", job=new_job("elsewhere", name="")
    )
    cloud_scheduler_emulator.requests.clear()

    pages = list(
        scheduler_api.list_jobs(request=types.ListJobsRequest(parent=PARENT, page_size=3)).pages
    )

    assert [len(page.jobs) for page in pages] == [3, 3, 1]
    assert [page.next_page_token != "" for page in pages] == [True, True, False]
    names = [job.name.rsplit("/", 1)[-1] for page in pages for job in page.jobs]
    assert names == [f"job-{number}" for number in range(7)]
    assert cloud_scheduler_emulator.requests.count("ListJobs") == 3


def test_list_default_page_is_googles_maximum(
    scheduler_api: scheduler_v1.CloudSchedulerClient,
) -> None:
    for number in range(3):
        scheduler_api.create_job(parent=PARENT, job=new_job(f"job-{number}"))
    pager = scheduler_api.list_jobs(parent=PARENT)
    assert len(list(pager)) == 3
    assert pager.next_page_token == ""


def test_list_refuses_a_bad_page_token(scheduler_api: scheduler_v1.CloudSchedulerClient) -> None:
    request = types.ListJobsRequest(parent=PARENT, page_token="garbage")
    with pytest.raises(exceptions.InvalidArgument, match="page token"):
        list(scheduler_api.list_jobs(request=request))


def test_update_with_mask_changes_only_the_named_fields(
    scheduler_api: scheduler_v1.CloudSchedulerClient,
    cloud_scheduler_emulator: running.Service,
    emulator_clock: testing.clocks.ManualClock,
) -> None:
    created = scheduler_api.create_job(parent=PARENT, job=new_job())
    emulator_clock.advance(60)
    patch = new_job(
        description="changed",
        schedule="*/5 * * * *",
        http_target=types.HttpTarget(uri="https://elsewhere.example/", body=b"new"),
    )

    updated = scheduler_api.update_job(
        job=patch, update_mask=field_mask_pb2.FieldMask(paths=["description", "http_target.uri"])
    )

    assert updated.description == "changed"
    assert updated.http_target.uri == "https://elsewhere.example/"
    assert updated.http_target.body == b"{}"
    assert updated.schedule == created.schedule
    assert updated.schedule_time == created.schedule_time
    assert updated.user_update_time == testing.FIXED_START + timedelta(seconds=60)
    assert scheduler_api.get_job(name=created.name) == updated
    (write,) = cloud_scheduler_emulator.requests.writes()[1:]
    assert write.method == "UpdateJob"
    assert write.update_mask == ("description", "http_target.uri")


def test_update_of_the_schedule_moves_schedule_time(
    scheduler_api: scheduler_v1.CloudSchedulerClient,
) -> None:
    scheduler_api.create_job(parent=PARENT, job=new_job())
    updated = scheduler_api.update_job(
        job=new_job(schedule="*/5 * * * *", time_zone="UTC"),
        update_mask=field_mask_pb2.FieldMask(paths=["schedule", "time_zone"]),
    )
    assert updated.schedule_time == testing.FIXED_START + timedelta(minutes=5)


def test_update_without_mask_replaces_every_settable_field(
    scheduler_api: scheduler_v1.CloudSchedulerClient,
) -> None:
    scheduler_api.create_job(
        parent=PARENT, job=new_job(retry_config=types.RetryConfig(retry_count=3))
    )
    updated = scheduler_api.update_job(job=new_job(description=""))
    assert updated.description == ""
    assert updated.retry_config.retry_count == 0
    assert updated.retry_config.min_backoff_duration == timedelta(seconds=5)
    assert updated.state == types.Job.State.ENABLED


@pytest.mark.parametrize(
    ("paths", "changes", "error"),
    [
        (["bogus"], {}, exceptions.InvalidArgument),
        (["state"], {}, exceptions.InvalidArgument),
        (["schedule"], {"schedule": "whenever"}, exceptions.InvalidArgument),
        (["time_zone"], {"time_zone": "Nowhere/Land"}, exceptions.InvalidArgument),
    ],
)
def test_invalid_update_changes_nothing(
    scheduler_api: scheduler_v1.CloudSchedulerClient,
    paths: list[str],
    changes: dict[str, object],
    error: type[Exception],
) -> None:
    created = scheduler_api.create_job(parent=PARENT, job=new_job())
    with pytest.raises(error):
        scheduler_api.update_job(
            job=new_job(**changes), update_mask=field_mask_pb2.FieldMask(paths=paths)
        )
    assert scheduler_api.get_job(name=created.name) == created


def test_pause_and_resume(
    scheduler_api: scheduler_v1.CloudSchedulerClient,
    emulator_clock: testing.clocks.ManualClock,
) -> None:
    created = scheduler_api.create_job(parent=PARENT, job=new_job())
    paused = scheduler_api.pause_job(name=created.name)
    assert paused.state == types.Job.State.PAUSED
    assert "schedule_time" not in paused
    with pytest.raises(exceptions.FailedPrecondition, match="ENABLED"):
        scheduler_api.pause_job(name=created.name)

    emulator_clock.advance(timedelta(days=2))
    resumed = scheduler_api.resume_job(name=created.name)
    assert resumed.state == types.Job.State.ENABLED
    assert resumed.schedule_time == datetime(2025, 1, 18, 8, 0, tzinfo=UTC)
    with pytest.raises(exceptions.FailedPrecondition, match="PAUSED"):
        scheduler_api.resume_job(name=created.name)


def test_delete(
    scheduler_api: scheduler_v1.CloudSchedulerClient,
    cloud_scheduler_emulator: running.Service,
) -> None:
    created = scheduler_api.create_job(parent=PARENT, job=new_job())
    scheduler_api.delete_job(name=created.name)
    with pytest.raises(exceptions.NotFound):
        scheduler_api.get_job(name=created.name)
    # The name is free again at once: Cloud Scheduler keeps no tombstones.
    scheduler_api.create_job(parent=PARENT, job=new_job())
    assert [entry.method for entry in cloud_scheduler_emulator.requests.writes()] == [
        "CreateJob",
        "DeleteJob",
        "CreateJob",
    ]


def test_fixture_points_the_environment_at_the_emulator(
    cloud_scheduler_emulator: running.Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    assert os.environ[running.SCHEDULER_ENV] == cloud_scheduler_emulator.host
    assert cloud_scheduler_emulator.host.startswith("127.0.0.1:")
    assert cloud_scheduler_emulator.state.jobs() == []
