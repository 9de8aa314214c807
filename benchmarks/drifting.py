"""Reading and changing the emulated cloud behind the controller's back, with Google's own clients:
how the benchmarks make drift and see when it is gone."""

from __future__ import annotations

import grpc
from google.cloud import pubsub_v1, scheduler_v1
from google.pubsub_v1.services.subscriber.transports import SubscriberGrpcTransport

from emulators import testing

LOCATION = "europe-west1"
DRIFTED_SCHEDULE = "59 23 * * *"
DRIFTED_ACK_DEADLINE = 99


class Cloud:
    """Google's Cloud Scheduler and Pub/Sub subscriber clients on the emulators' hosts."""

    def __init__(self, scheduler_host: str, pubsub_host: str) -> None:
        self.scheduler = testing.scheduler_client(scheduler_host)
        channel = grpc.insecure_channel(pubsub_host)
        self.subscriber = pubsub_v1.SubscriberClient(
            transport=SubscriberGrpcTransport(channel=channel)
        )

    def job_path(self, project: str, name: str) -> str:
        return f"projects/{project}/locations/{LOCATION}/jobs/{name}"

    def subscription_path(self, project: str, name: str) -> str:
        return f"projects/{project}/subscriptions/{name}"

    def job(self, project: str, name: str) -> scheduler_v1.Job:
        return self.scheduler.get_job(name=self.job_path(project, name))

    def subscription(self, project: str, name: str) -> pubsub_v1.types.Subscription:
        return self.subscriber.get_subscription(subscription=self.subscription_path(project, name))

    def drift_job(self, project: str, name: str, schedule: str = DRIFTED_SCHEDULE) -> None:
        self.scheduler.update_job(
            job=scheduler_v1.Job(name=self.job_path(project, name), schedule=schedule),
            update_mask={"paths": ["schedule"]},
        )

    def drift_subscription(
        self, project: str, name: str, ack_deadline_seconds: int = DRIFTED_ACK_DEADLINE
    ) -> None:
        self.subscriber.update_subscription(
            request={
                "subscription": {
                    "name": self.subscription_path(project, name),
                    "ack_deadline_seconds": ack_deadline_seconds,
                },
                "update_mask": {"paths": ["ack_deadline_seconds"]},
            }
        )

    def count_jobs(self, project: str) -> int:
        parent = f"projects/{project}/locations/{LOCATION}"
        return sum(
            1 for _ in self.scheduler.list_jobs(request={"parent": parent, "page_size": 500})
        )

    def count_subscriptions(self, project: str) -> int:
        pages = self.subscriber.list_subscriptions(
            request={"project": f"projects/{project}", "page_size": 1000}
        )
        return sum(1 for _ in pages)

    def close(self) -> None:
        self.scheduler.transport.close()
        self.subscriber.close()

    def __enter__(self) -> Cloud:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
