"""Clients are built from the environment: emulator hosts when set."""

from __future__ import annotations

from controller.gcp import clients as gcp_clients
from emulators import pubsub, running


def test_from_environment_talks_to_the_emulators(
    cloud_scheduler_emulator: running.Service, pubsub_emulator: pubsub.PubSubEmulator
) -> None:
    with gcp_clients.Clients.from_environment() as clients:
        jobs = list(clients.scheduler.list_jobs(parent="projects/p/locations/europe-west1"))
        topics = list(clients.publisher.list_topics(project="projects/clients-test"))

    assert jobs == [] and topics == []
    assert cloud_scheduler_emulator.requests.count("ListJobs") == 1
