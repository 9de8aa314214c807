"""The Pub/Sub admin stand-in, driven by Google's own clients as the controller drives it."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from google.api_core import exceptions
from google.cloud import pubsub_v1
from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport
from google.pubsub_v1.services.subscriber.transports import SubscriberGrpcTransport

from benchmarks import pubsub_admin

PROJECT = "projects/bench-admin"
TOPIC = f"{PROJECT}/topics/orders"


@pytest.fixture
def clients() -> Iterator[tuple[pubsub_v1.PublisherClient, pubsub_v1.SubscriberClient, object]]:
    admin, server, host = pubsub_admin.start()
    publisher = pubsub_v1.PublisherClient(
        transport=PublisherGrpcTransport(channel=grpc.insecure_channel(host))
    )
    subscriber = pubsub_v1.SubscriberClient(
        transport=SubscriberGrpcTransport(channel=grpc.insecure_channel(host))
    )
    yield publisher, subscriber, admin
    subscriber.close()
    publisher.transport.close()
    server.stop(grace=None).wait()


def subscription(name: str, **fields: object) -> dict[str, object]:
    return {
        "name": f"{PROJECT}/subscriptions/{name}",
        "topic": TOPIC,
        "push_config": {"push_endpoint": "https://example.com/push"},
        **fields,
    }


def test_a_subscription_needs_its_topic(clients: tuple) -> None:
    publisher, subscriber, _ = clients
    with pytest.raises(exceptions.NotFound):
        subscriber.create_subscription(request=subscription("s1"))
    publisher.create_topic(name=TOPIC)
    created = subscriber.create_subscription(request=subscription("s1"))
    assert created.ack_deadline_seconds == 10  # Google's default, filled in on create
    assert created.message_retention_duration.total_seconds() == 604800
    with pytest.raises(exceptions.AlreadyExists):
        subscriber.create_subscription(request=subscription("s1"))
    with pytest.raises(exceptions.AlreadyExists):
        publisher.create_topic(name=TOPIC)


def test_update_changes_only_the_masked_fields(clients: tuple) -> None:
    publisher, subscriber, _ = clients
    publisher.create_topic(name=TOPIC)
    subscriber.create_subscription(
        request=subscription("s1", ack_deadline_seconds=30, labels={"a": "1", "b": "2"})
    )
    updated = subscriber.update_subscription(
        request={
            "subscription": subscription("s1", ack_deadline_seconds=99, labels={"c": "3"}),
            "update_mask": {"paths": ["labels"]},
        }
    )
    assert updated.ack_deadline_seconds == 30
    assert dict(updated.labels) == {"c": "3"}
    fetched = subscriber.get_subscription(subscription=f"{PROJECT}/subscriptions/s1")
    assert dict(fetched.labels) == {"c": "3"}


@pytest.mark.parametrize("paths", [[], ["no_such_field"], ["topic"]])
def test_update_refuses_a_bad_mask(clients: tuple, paths: list[str]) -> None:
    publisher, subscriber, _ = clients
    publisher.create_topic(name=TOPIC)
    subscriber.create_subscription(request=subscription("s1"))
    with pytest.raises(exceptions.InvalidArgument):
        subscriber.update_subscription(
            request={"subscription": subscription("s1"), "update_mask": {"paths": paths}}
        )


def test_list_pages_through_one_project_only(clients: tuple) -> None:
    publisher, subscriber, admin = clients
    publisher.create_topic(name=TOPIC)
    publisher.create_topic(name="projects/other/topics/t")
    for index in range(5):
        subscriber.create_subscription(request=subscription(f"s{index}"))
    subscriber.create_subscription(
        request={"name": "projects/other/subscriptions/x", "topic": "projects/other/topics/t"}
    )
    admin.log.clear()
    listed = subscriber.list_subscriptions(request={"project": PROJECT, "page_size": 2})
    names = [s.name.rsplit("/", 1)[-1] for s in listed]
    assert names == ["s0", "s1", "s2", "s3", "s4"]
    assert admin.log.count("ListSubscriptions") == 3


def test_delete_and_missing_resources(clients: tuple) -> None:
    publisher, subscriber, _ = clients
    publisher.create_topic(name=TOPIC)
    subscriber.create_subscription(request=subscription("s1"))
    subscriber.delete_subscription(subscription=f"{PROJECT}/subscriptions/s1")
    with pytest.raises(exceptions.NotFound):
        subscriber.get_subscription(subscription=f"{PROJECT}/subscriptions/s1")
    with pytest.raises(exceptions.NotFound):
        publisher.get_topic(topic=f"{PROJECT}/topics/missing")
    with pytest.raises(exceptions.InvalidArgument):
        publisher.create_topic(name="not-a-topic-path")
