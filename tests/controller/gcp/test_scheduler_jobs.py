"""The Cloud Scheduler adapter: proto conversion, paginated listing, masked writes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from google.cloud import scheduler_v1

from controller.gcp import calling, errors, scheduler_jobs
from controller.gcp import clients as gcp_clients
from controller.registry import model
from emulators import running
from emulators.testing import PushTarget, eventually
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
