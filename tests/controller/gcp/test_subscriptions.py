"""The Pub/Sub adapter against Google's emulator: labels, topics created on demand, masks."""

from __future__ import annotations

import pytest
from google.cloud import pubsub_v1
from google.pubsub_v1 import types

from controller.gcp import calling, errors, subscriptions
from controller.gcp import clients as gcp_clients
from controller.registry import model, ownership
from tests.controller import resources


@pytest.mark.parametrize(
    "subscription",
    [
        resources.subscription(),
        resources.subscription(
            oidc_token=model.OidcToken("push@p.iam.gserviceaccount.com", "https://aud"),
            dead_letter_topic="dead",
            max_delivery_attempts=9,
            retry=model.PushRetry(1.5, 90.0),
            message_retention_duration=3600.0,
            labels={"team": "shop"},
            filter='attributes.kind = "paid"',
            enable_message_ordering=True,
        ),
    ],
    ids=["plain", "everything"],
)
def test_proto_round_trip(subscription: model.Subscription) -> None:
    proto = subscriptions.to_proto(subscription, "shop", "p")

    observed = subscriptions.from_proto(proto, "p")

    assert ownership.labels("shop").items() <= proto.labels.items()
    assert observed == model.ObservedSubscription(subscription, owner="shop", push=True)


@pytest.mark.parametrize(
    ("labels", "push_endpoint", "owner", "push"),
    [
        ({}, "https://x", None, True),
        ({ownership.OWNER_LABEL: "shop"}, "https://x", None, True),
        (
            {ownership.MANAGED_BY_LABEL: "someone-else", ownership.OWNER_LABEL: "shop"},
            "https://x",
            None,
            True,
        ),
        (ownership.labels("shop"), "", "shop", False),
    ],
)
def test_ownership_comes_from_both_labels(
    labels: dict[str, str], push_endpoint: str, owner: str | None, push: bool
) -> None:
    proto = types.Subscription(
        name="projects/p/subscriptions/s",
        topic="projects/other/topics/t",
        push_config=types.PushConfig(push_endpoint=push_endpoint),
        labels=labels,
    )

    observed = subscriptions.from_proto(proto, "p")

    assert (observed.owner, observed.push) == (owner, push)
    assert observed.subscription.topic == "projects/other/topics/t"  # other projects stay paths


@pytest.fixture
def adapter(
    clients: gcp_clients.Clients, project: str
) -> tuple[subscriptions.Subscriptions, calling.Calls]:
    calls = calling.Calls()
    adapter = subscriptions.Subscriptions(
        clients.subscriber, clients.publisher, calls, project, page_size=2
    )
    return adapter, calls


def test_create_makes_missing_topics_then_lists_every_page(
    adapter: tuple[subscriptions.Subscriptions, calling.Calls],
    project: str,
    publisher_api: pubsub_v1.PublisherClient,
) -> None:
    subs, calls = adapter
    for index in range(3):
        subs.create(resources.subscription(f"s{index}", dead_letter_topic="dead"), "shop")

    listed = subs.list()

    assert sorted(o.subscription.name for o in listed) == [
        f"shop--orders--s{index}" for index in range(3)
    ]
    topics = {t.name for t in publisher_api.list_topics(project=f"projects/{project}")}
    assert topics == {f"projects/{project}/topics/orders", f"projects/{project}/topics/dead"}
    # The first create fails on the missing topic, checks both topics, creates them, retries.
    assert calls.counts.writes == 2 + 2 + 2
    assert calls.counts.reads == 2 + 2  # two GetTopic, two List pages


def test_missing_topic_without_create_topic_is_an_error(
    adapter: tuple[subscriptions.Subscriptions, calling.Calls],
) -> None:
    subs, _ = adapter

    with pytest.raises(errors.NotFound):
        subs.create(resources.subscription(create_topic=False), "shop")


def test_update_sends_top_level_mask_and_recreate_replaces(
    adapter: tuple[subscriptions.Subscriptions, calling.Calls],
    subscriber_api: pubsub_v1.SubscriberClient,
) -> None:
    subs, _ = adapter
    desired = resources.subscription()
    subs.create(desired, "shop")
    changed = resources.subscription(
        push_endpoint="https://new.example.com/x", ack_deadline_seconds=60
    )

    subs.update(changed, "shop", ["push_config.push_endpoint", "ack_deadline_seconds"])

    stored = subscriber_api.get_subscription(subscription=subs.path(desired.name))
    assert stored.push_config.push_endpoint == "https://new.example.com/x"
    assert stored.ack_deadline_seconds == 60

    ordered = resources.subscription(enable_message_ordering=True)
    subs.recreate(ordered, "shop")

    stored = subscriber_api.get_subscription(subscription=subs.path(desired.name))
    assert stored.enable_message_ordering
    assert stored.labels[ownership.OWNER_LABEL] == "shop"
    subs.delete(desired.name)
    assert subs.list() == []


def test_get_reads_one_subscription_as_listed(
    adapter: tuple[subscriptions.Subscriptions, calling.Calls],
) -> None:
    subs, _ = adapter
    subs.create(resources.subscription(dead_letter_topic="dead"), "shop")

    found = subs.get("shop--orders--order-created")

    assert found == subs.list()[0]
    assert (found.owner, found.subscription.dead_letter_topic) == ("shop", "dead")
    with pytest.raises(errors.NotFound):
        subs.get("shop--orders--missing")
