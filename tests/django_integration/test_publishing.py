"""Publishing with Google's client against Google's Pub/Sub emulator."""

import json

import pytest
from django.test import override_settings
from google.cloud import pubsub_v1

from django_integration import publishing
from django_integration.tasks import SubscriberTask
from emulators.testing import unique_project


@pytest.fixture
def project(pubsub_emulator):
    project = unique_project("publish")
    with override_settings(GCP_TASKS_PROJECT=project):
        yield project


def pull(project, subscription, count):
    subscriber = pubsub_v1.SubscriberClient()
    try:
        path = subscriber.subscription_path(project, subscription)
        received = []
        for _ in range(10):
            response = subscriber.pull(subscription=path, max_messages=count, timeout=10)
            received += [item.message for item in response.received_messages]
            if len(received) >= count:
                return received
        raise AssertionError(f"pulled {len(received)} of {count} messages")
    finally:
        subscriber.close()


def subscribe(project, topic, name, ordered=False):
    subscriber = pubsub_v1.SubscriberClient()
    subscriber.create_subscription(
        request={
            "name": subscriber.subscription_path(project, name),
            "topic": f"projects/{project}/topics/{topic}",
            "enable_message_ordering": ordered,
        }
    )
    subscriber.close()


def test_publish_creates_a_missing_topic_and_sends_json(project, isolated_registrations):
    class OnOrder(SubscriberTask):
        topic_id = "orders-topic"

    first = OnOrder().publish({"order": 1})  # the topic does not exist yet
    assert first
    subscribe(project, "orders-topic", "orders-pull")
    second = OnOrder().publish({"order": 2, "tags": {"b", "a"}}, attributes={"kind": "created"})

    [message] = pull(project, "orders-pull", 1)
    assert message.message_id == second != first
    assert json.loads(message.data) == {"order": 2, "tags": ["a", "b"]}
    assert dict(message.attributes) == {"kind": "created"}


def test_ordered_publishing_keeps_the_ordering_key(project):
    publishing.publish(topic_id="ordered-topic", data=b"0", enable_message_ordering=True)
    subscribe(project, "ordered-topic", "ordered-pull", ordered=True)
    for n in range(3):
        publishing.publish(
            topic_id="ordered-topic",
            data=str(n).encode(),
            ordering_key="customer-7",
            enable_message_ordering=True,
        )
    messages = pull(project, "ordered-pull", 3)
    assert [m.data for m in messages] == [b"0", b"1", b"2"]
    assert {m.ordering_key for m in messages} == {"customer-7"}


def test_one_publisher_per_emulator_and_ordering_option(project):
    assert publishing.publisher(False) is publishing.publisher(False)
    assert publishing.publisher(True) is not publishing.publisher(False)
