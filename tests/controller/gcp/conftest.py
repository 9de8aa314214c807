"""Fixtures for the adapter and engine tests: Google's clients on the emulators, a fresh project."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.cloud import pubsub_v1

from controller.gcp import clients as gcp_clients
from emulators import pubsub, running, testing


@pytest.fixture
def project() -> str:
    return testing.unique_project("gcp")


@pytest.fixture
def clients(
    cloud_scheduler_emulator: running.Service, pubsub_emulator: pubsub.PubSubEmulator
) -> Iterator[gcp_clients.Clients]:
    """Our clients, built from the environment the emulator fixtures set."""
    with gcp_clients.Clients.from_environment() as built:
        yield built


@pytest.fixture
def subscriber_api(pubsub_emulator: pubsub.PubSubEmulator) -> Iterator[pubsub_v1.SubscriberClient]:
    client = pubsub_v1.SubscriberClient()
    yield client
    client.close()


@pytest.fixture
def publisher_api(pubsub_emulator: pubsub.PubSubEmulator) -> Iterator[pubsub_v1.PublisherClient]:
    client = pubsub_v1.PublisherClient()
    yield client
    client.transport.close()
