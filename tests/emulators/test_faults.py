"""Injected faults, seen through Google's own client: an error instead of the work, or a lost answer
(the work done, the error returned), in the emulators and in a client-side interceptor."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from google.api_core import exceptions
from google.cloud import scheduler_v1
from google.cloud.scheduler_v1.services.cloud_scheduler import transports

from emulators import faults, running

PARENT = "projects/p/locations/europe-west1"


def _job(name: str) -> scheduler_v1.Job:
    return scheduler_v1.Job(
        name=f"{PARENT}/jobs/{name}",
        schedule="0 3 * * *",
        http_target=scheduler_v1.HttpTarget(uri="https://example.com/"),
    )


def _exists(client: scheduler_v1.CloudSchedulerClient, name: str) -> bool:
    try:
        client.get_job(name=f"{PARENT}/jobs/{name}", retry=None)
    except exceptions.NotFound:
        return False
    return True


def test_a_lost_answer_is_an_error_for_a_change_that_was_made(
    cloud_scheduler_emulator: running.Service, scheduler_api: scheduler_v1.CloudSchedulerClient
) -> None:
    cloud_scheduler_emulator.faults.inject(
        "CreateJob", grpc.StatusCode.DEADLINE_EXCEEDED, after=True
    )

    with pytest.raises(exceptions.DeadlineExceeded, match="injected DEADLINE_EXCEEDED"):
        scheduler_api.create_job(parent=PARENT, job=_job("a"), retry=None)

    assert _exists(scheduler_api, "a")
    with pytest.raises(exceptions.AlreadyExists):  # the retry a client would make
        scheduler_api.create_job(parent=PARENT, job=_job("a"), retry=None)
    assert [f.method for f in cloud_scheduler_emulator.faults.fired] == ["CreateJob"]


def test_an_error_before_the_work_changes_nothing_and_counts_down(
    cloud_scheduler_emulator: running.Service, scheduler_api: scheduler_v1.CloudSchedulerClient
) -> None:
    cloud_scheduler_emulator.faults.inject(
        "CreateJob", grpc.StatusCode.RESOURCE_EXHAUSTED, times=2, message="quota"
    )

    for _ in range(2):
        with pytest.raises(exceptions.TooManyRequests, match="quota"):
            scheduler_api.create_job(parent=PARENT, job=_job("a"), retry=None)
        assert not _exists(scheduler_api, "a")

    scheduler_api.create_job(parent=PARENT, job=_job("a"), retry=None)
    assert _exists(scheduler_api, "a")
    # Every request is still in the request log, refused ones included.
    assert cloud_scheduler_emulator.requests.count("CreateJob") == 3


def test_faults_wait_for_their_own_method(
    cloud_scheduler_emulator: running.Service, scheduler_api: scheduler_v1.CloudSchedulerClient
) -> None:
    cloud_scheduler_emulator.faults.inject("DeleteJob", grpc.StatusCode.UNAVAILABLE)

    scheduler_api.create_job(parent=PARENT, job=_job("a"), retry=None)
    with pytest.raises(exceptions.ServiceUnavailable):
        scheduler_api.delete_job(name=f"{PARENT}/jobs/a", retry=None)

    assert _exists(scheduler_api, "a")


@pytest.fixture
def intercepted(
    cloud_scheduler_emulator: running.Service,
) -> Iterator[tuple[scheduler_v1.CloudSchedulerClient, faults.Faults]]:
    injected = faults.Faults()
    channel = grpc.intercept_channel(
        grpc.insecure_channel(cloud_scheduler_emulator.host), faults.Interceptor(injected)
    )
    client = scheduler_v1.CloudSchedulerClient(
        transport=transports.CloudSchedulerGrpcTransport(channel=channel)
    )
    yield client, injected
    client.transport.close()


def test_the_interceptor_loses_the_answer_of_a_call_the_server_applied(
    intercepted: tuple[scheduler_v1.CloudSchedulerClient, faults.Faults],
    scheduler_api: scheduler_v1.CloudSchedulerClient,
) -> None:
    client, injected = intercepted
    injected.inject("CreateJob", grpc.StatusCode.DEADLINE_EXCEEDED, after=True)

    with pytest.raises(exceptions.DeadlineExceeded):
        client.create_job(parent=PARENT, job=_job("a"), retry=None)

    assert _exists(scheduler_api, "a")


def test_the_interceptor_fails_before_sending(
    intercepted: tuple[scheduler_v1.CloudSchedulerClient, faults.Faults],
    cloud_scheduler_emulator: running.Service,
) -> None:
    client, injected = intercepted
    injected.inject("CreateJob", grpc.StatusCode.RESOURCE_EXHAUSTED)

    with pytest.raises(exceptions.TooManyRequests):
        client.create_job(parent=PARENT, job=_job("a"), retry=None)

    assert cloud_scheduler_emulator.requests.count("CreateJob") == 0


def test_a_real_failure_keeps_the_lost_answer_for_a_call_that_succeeds(
    intercepted: tuple[scheduler_v1.CloudSchedulerClient, faults.Faults],
    scheduler_api: scheduler_v1.CloudSchedulerClient,
) -> None:
    client, injected = intercepted
    injected.inject("CreateJob", grpc.StatusCode.DEADLINE_EXCEEDED, after=True)
    bad = _job("a")
    bad.schedule = "not a schedule"

    with pytest.raises(exceptions.InvalidArgument):
        client.create_job(parent=PARENT, job=bad, retry=None)
    assert injected.fired == []

    with pytest.raises(exceptions.DeadlineExceeded):
        client.create_job(parent=PARENT, job=_job("a"), retry=None)
    assert _exists(scheduler_api, "a")
