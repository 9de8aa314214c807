"""Google's clients, one of each, built once and reused: emulators are found via the environment."""

from __future__ import annotations

import dataclasses
import os

import grpc
from google.cloud import pubsub_v1, scheduler_v1
from google.cloud.scheduler_v1.services.cloud_scheduler.transports import (
    CloudSchedulerGrpcTransport,
)

from controller.gcp import errors

SCHEDULER_EMULATOR_ENV = "CLOUD_SCHEDULER_EMULATOR_HOST"
PUBSUB_EMULATOR_ENV = "PUBSUB_EMULATOR_HOST"


@dataclasses.dataclass
class Clients:
    """The three clients the adapters use; `close()` releases their channels."""

    scheduler: scheduler_v1.CloudSchedulerClient
    subscriber: pubsub_v1.SubscriberClient
    publisher: pubsub_v1.PublisherClient

    @classmethod
    def from_environment(cls) -> Clients:
        """Real Google APIs with default credentials, or the emulators named in the environment;
        raises `errors.ApiError` (e.g. `Unauthenticated` without credentials)."""
        try:
            return cls._build()
        except Exception as error:  # no credentials, bad endpoint: ours to classify
            raise errors.classify(error, operation="connect") from error

    @classmethod
    def _build(cls) -> Clients:
        emulator = os.environ.get(SCHEDULER_EMULATOR_ENV)
        if emulator:
            transport = CloudSchedulerGrpcTransport(channel=grpc.insecure_channel(emulator))
            scheduler = scheduler_v1.CloudSchedulerClient(transport=transport)
        else:
            scheduler = scheduler_v1.CloudSchedulerClient()
        # Pub/Sub's clients read PUBSUB_EMULATOR_HOST themselves (insecure, anonymous).
        return cls(
            scheduler=scheduler,
            subscriber=pubsub_v1.SubscriberClient(),
            publisher=pubsub_v1.PublisherClient(),
        )

    def close(self) -> None:
        self.scheduler.transport.close()
        self.subscriber.close()
        self.publisher.transport.close()

    def __enter__(self) -> Clients:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
