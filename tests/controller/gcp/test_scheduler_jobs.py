"""The Cloud Scheduler adapter: proto conversion, paginated listing, masked writes."""

from __future__ import annotations

import pytest
from google.cloud import scheduler_v1

from controller.gcp import calling, errors, scheduler_jobs
from controller.gcp import clients as gcp_clients
from controller.registry import model
from emulators import running
from tests.controller import resources

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
