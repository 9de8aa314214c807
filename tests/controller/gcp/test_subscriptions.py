"""The Pub/Sub adapter against Google's emulator: labels, topics created on demand, masks."""

from __future__ import annotations

import pytest
from google.cloud import pubsub_v1
from google.pubsub_v1 import types

from controller.gcp import calling, errors, subscriptions
from controller.gcp import clients as gcp_clients
from controller.registry import model, ownership
from tests.controller import resources
from tests.controller.gcp import proto_plus_readers

EVERY_FIELD: dict[str, object] = {
    "oidc_token": model.OidcToken("push@p.iam.gserviceaccount.com", "https://aud"),
    "dead_letter_topic": "dead",
    "max_delivery_attempts": 9,
    "retry": model.PushRetry(1.5, 90.0),
    "message_retention_duration": 3600.0,
    "labels": {"team": "shop"},
    "filter": 'attributes.kind = "paid"',
    "enable_message_ordering": True,
}


@pytest.mark.parametrize(
    "subscription",
    [
        resources.subscription(),
        resources.subscription(**EVERY_FIELD),
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


# -- the raw reader against proto-plus attribute access (the reader before issue 13) ------------

RawSubscription = types.Subscription.pb()
_ACCOUNT = "push@p.iam.gserviceaccount.com"
_FULL_SUBSCRIPTION: dict[str, object] = {
    "name": "projects/p/subscriptions/shop--orders--paid",
    "topic": "projects/p/topics/orders",
    "push_config": {
        "push_endpoint": "https://shop.example.com/gcp-subscriber-tasks/paid",
        "oidc_token": {"service_account_email": _ACCOUNT, "audience": "https://aud"},
        "attributes": {"x-goog-version": "v1"},
    },
    "ack_deadline_seconds": 30,
    "labels": {**ownership.labels("shop"), "team": "shop"},
    "enable_message_ordering": True,
    "filter": 'attributes.kind = "paid"',
    "dead_letter_policy": {
        "dead_letter_topic": "projects/p/topics/dead",
        "max_delivery_attempts": 9,
    },
    "retry_policy": {
        "minimum_backoff": {"seconds": 1, "nanos": 500_000_000},
        "maximum_backoff": {"seconds": 90},
    },
    "message_retention_duration": {"seconds": 3600},
    "state": types.Subscription.State.ACTIVE,
    "expiration_policy": {"ttl": {"seconds": 86_400 * 31}},
    "topic_message_retention_duration": {"seconds": 600},
}
# Each field's values worth reading apart: defaults, unset, Google's own additions, odd ones.
SUBSCRIPTION_VARIANTS: dict[str, list[object]] = {
    "name": ["", "projects/p/subscriptions/x", "projects/p/subscriptions/a/subscriptions/b"],
    "topic": ["", "projects/p/topics/t", "projects/other/topics/t", "_deleted-topic_"],
    "push_config": [
        None,
        {},
        {"push_endpoint": "https://x"},
        {"push_endpoint": "https://x", "oidc_token": {"service_account_email": _ACCOUNT}},
        {"oidc_token": {"service_account_email": _ACCOUNT, "audience": "a"}},  # no endpoint
        {"push_endpoint": "https://x", "oidc_token": {"audience": "a"}},
        {"push_endpoint": "https://x", "no_wrapper": {"write_metadata": True}},
        {"push_endpoint": "https://x", "pubsub_wrapper": {}},
    ],
    "bigquery_config": [None, {"table": "p.d.t"}],
    "ack_deadline_seconds": [0, 10, 600],
    "labels": [
        {},
        {"team": "shop"},
        ownership.labels("shop"),
        {ownership.OWNER_LABEL: "shop"},
        {ownership.MANAGED_BY_LABEL: ownership.MANAGED_BY},
        {ownership.MANAGED_BY_LABEL: "someone-else", ownership.OWNER_LABEL: "shop", "a": "b"},
        {**ownership.labels("blog"), "env": "prod", "team": ""},
    ],
    "enable_message_ordering": [False, True],
    "filter": ["", 'attributes.kind = "paid"', 'hasPrefix(attributes.k, "é")'],
    "dead_letter_policy": [
        None,
        {},
        {"dead_letter_topic": "projects/p/topics/dead"},
        {"dead_letter_topic": "projects/other/topics/dead", "max_delivery_attempts": 100},
        {"max_delivery_attempts": 7},
    ],
    "retry_policy": [
        None,
        {},
        {"minimum_backoff": {"seconds": 10}},
        {"maximum_backoff": {"seconds": 600, "nanos": 1_999}},
        {"minimum_backoff": {"nanos": 999}, "maximum_backoff": {"seconds": 1, "nanos": 1_000}},
    ],
    "message_retention_duration": [None, {}, {"seconds": 604_800}, {"seconds": 600, "nanos": 1}],
    "state": list(types.Subscription.State),
    "detached": [False, True],
}


@pytest.mark.parametrize(
    "raw",
    proto_plus_readers.cases(
        RawSubscription,
        _FULL_SUBSCRIPTION,
        SUBSCRIPTION_VARIANTS,
        oneof=("bigquery_config", "push_config"),  # one delivery type per subscription
    ),
)
@pytest.mark.parametrize("project", ["p", "other"])
def test_raw_reader_reads_what_proto_plus_read(raw: object, project: str) -> None:
    wrapped = types.Subscription.wrap(raw)

    expected = proto_plus_readers.subscription(wrapped, project)

    for observed in (
        subscriptions.from_pb(raw, project),
        subscriptions.from_proto(wrapped, project),
    ):
        assert observed == expected
        assert repr(observed) == repr(expected)  # same types too: 1.0 is not 1, True is not 1


def test_listing_reads_what_proto_plus_read(
    adapter: tuple[subscriptions.Subscriptions, calling.Calls],
    project: str,
    subscriber_api: pubsub_v1.SubscriberClient,
    publisher_api: pubsub_v1.PublisherClient,
) -> None:
    """Through Google's emulator and client: the adapter's raw pages against the same listing
    read through proto-plus, for subscriptions written by us and by others (pull ones too)."""
    subs, _ = adapter
    subs.create(resources.subscription("plain"), "shop")
    subs.create(resources.subscription("everything", **EVERY_FIELD), "shop")
    topic = f"projects/{project}/topics/orders"
    for index, push_config in enumerate(SUBSCRIPTION_VARIANTS["push_config"]):
        subscriber_api.create_subscription(
            request={
                "name": subs.path(f"theirs-{index}"),
                "topic": topic,
                "push_config": push_config,
                "labels": SUBSCRIPTION_VARIANTS["labels"][index % 7],
            }
        )

    listed = subs.list()

    found = subscriber_api.list_subscriptions(project=f"projects/{project}")
    read = [proto_plus_readers.subscription(proto, project) for proto in found]
    assert len(listed) == 2 + len(SUBSCRIPTION_VARIANTS["push_config"])
    assert listed == read


def test_listing_reads_no_field_through_proto_plus(
    adapter: tuple[subscriptions.Subscriptions, calling.Calls],
) -> None:
    """The listed pages are read as raw protobuf: proto-plus cost ~10x more per field."""
    subs, calls = adapter
    for index in range(5):
        subs.create(resources.subscription(f"s{index}", dead_letter_topic="dead"), "shop")
    reads_before = calls.counts.reads

    with proto_plus_readers.field_reads() as reads:
        listed = subs.list()

    assert len(listed) == 5 and calls.counts.reads - reads_before == 3
    # Google's client reads one field of each request (its routing header); none per resource.
    assert reads.count == 3
