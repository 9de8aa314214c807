"""Fixtures for every controller test: logging put back after each test (the CLI's main()
configures it), and Google's clients on the emulators for the adapter and engine tests."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import structlog
from google.cloud import pubsub_v1

from controller.gcp import clients as gcp_clients
from emulators import pubsub, running, testing


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    config = structlog.get_config()
    processors = config["processors"]
    saved = processors.copy()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    # In place, like logs.configure(): loggers cached during the test keep this very list.
    processors[:] = saved
    structlog.configure(
        processors=processors,
        wrapper_class=config["wrapper_class"],
        logger_factory=config["logger_factory"],
        context_class=config["context_class"],
        cache_logger_on_first_use=config["cache_logger_on_first_use"],
    )
    root.handlers[:] = handlers
    root.setLevel(level)


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
