import json
import socket
import threading
from urllib import request

import pytest
from google.cloud.scheduler_v1 import types

from emulators import clock, running, testing


def test_start_all_serves_everything_and_stops_it() -> None:
    manual = clock.ManualClock(testing.FIXED_START)
    services = running.start_all(with_pubsub=False, clock=manual)
    with services:
        env = services.environment()
        assert set(env) == {running.TASKS_ENV, running.SCHEDULER_ENV, running.CERTS_ENV}
        assert services.exports() == [f"export {name}={value}" for name, value in env.items()]
        assert services.tasks.clock is manual and services.scheduler.clock is manual

        scheduler = testing.scheduler_client(env[running.SCHEDULER_ENV])
        parent = "projects/p/locations/l"
        assert list(scheduler.list_jobs(parent=parent)) == []
        tasks = testing.tasks_client(env[running.TASKS_ENV])
        assert list(tasks.list_queues(parent=parent)) == []
        with request.urlopen(env[running.CERTS_ENV], timeout=5) as answer:
            assert services.issuer.kid in json.load(answer)
        assert services.scheduler.requests.count("ListJobs") == 1
        assert services.tasks.requests.count("ListQueues") == 1
        scheduler.transport.close()
        tasks.transport.close()

    for host in (env[running.TASKS_ENV], env[running.SCHEDULER_ENV]):
        address, port = host.rsplit(":", 1)
        with pytest.raises(OSError), socket.create_connection((address, int(port)), timeout=1):
            pass


def test_a_failed_start_stops_what_already_started() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match=str(port)):
            running.start_all(with_pubsub=False, scheduler_port=port)
    alive = [thread.name for thread in threading.enumerate()]
    assert "oidc-issuer" not in alive


def test_services_record_their_requests_on_their_clock(
    cloud_scheduler_emulator: running.Service,
    scheduler_api: testing.scheduler_v1.CloudSchedulerClient,
    emulator_clock: clock.ManualClock,
) -> None:
    emulator_clock.advance(5)
    scheduler_api.create_job(
        parent="projects/p/locations/l",
        job=types.Job(
            name="projects/p/locations/l/jobs/j",
            schedule="* * * * *",
            http_target=types.HttpTarget(uri="http://127.0.0.1:9/"),
        ),
    )
    (entry,) = cloud_scheduler_emulator.requests.entries
    assert entry.at == emulator_clock.now()
    assert entry.resource == "projects/p/locations/l"
