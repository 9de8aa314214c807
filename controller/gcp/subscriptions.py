"""Pub/Sub adapter: list one project's subscriptions as `ObservedSubscription`s and write actions.

Ownership lives in two labels (`ownership.labels`), added on every write and hidden from the
planner, which only sees `ObservedSubscription.owner`.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Sequence
from typing import Any

from google.cloud import pubsub_v1
from google.protobuf import field_mask_pb2
from google.pubsub_v1 import types

from controller.gcp import calling, durations, errors
from controller.registry import google_defaults, model, ownership

PAGE_SIZE = 1000


def topic_path(project: str, topic: str) -> str:
    return topic if topic.startswith("projects/") else f"projects/{project}/topics/{topic}"


def _topic_id(project: str, path: str) -> str:
    prefix = f"projects/{project}/topics/"
    return path.removeprefix(prefix) if path.startswith(prefix) else path


def to_proto(subscription: model.Subscription, owner: str, project: str) -> types.Subscription:
    """The Google message for a desired subscription, ownership labels included."""
    push_config = types.PushConfig(push_endpoint=subscription.push_endpoint)
    if subscription.oidc_token is not None:
        push_config.oidc_token = types.PushConfig.OidcToken(
            service_account_email=subscription.oidc_token.service_account_email,
            audience=subscription.oidc_token.audience,
        )
    proto = types.Subscription(
        name=f"projects/{project}/subscriptions/{subscription.name}",
        topic=topic_path(project, subscription.topic),
        push_config=push_config,
        ack_deadline_seconds=subscription.ack_deadline_seconds,
        enable_message_ordering=subscription.enable_message_ordering,
        filter=subscription.filter,
        message_retention_duration=datetime.timedelta(
            seconds=subscription.message_retention_duration
        ),
        labels={**subscription.labels, **ownership.labels(owner)},
    )
    if subscription.dead_letter_topic:
        proto.dead_letter_policy = types.DeadLetterPolicy(
            dead_letter_topic=topic_path(project, subscription.dead_letter_topic),
            max_delivery_attempts=subscription.max_delivery_attempts,
        )
    if subscription.retry is not None:
        proto.retry_policy = types.RetryPolicy(
            minimum_backoff=datetime.timedelta(seconds=subscription.retry.minimum_backoff),
            maximum_backoff=datetime.timedelta(seconds=subscription.retry.maximum_backoff),
        )
    return proto


def from_proto(proto: types.Subscription, project: str) -> model.ObservedSubscription:
    """Our view of one subscription as Google's client returns it (proto-plus), e.g. a Get's
    answer."""
    return from_pb(types.Subscription.pb(proto), project)


def from_pb(proto: Any, project: str) -> model.ObservedSubscription:
    """Our view of a subscription from its raw protobuf message; ownership labels become
    `owner`, not labels. Raw, because a listing is read field by field, and proto-plus attribute
    access cost ~10x more per field (most of a no-drift pass)."""
    labels, owner = ownership.split_labels(proto.labels)
    push = proto.push_config
    token = push.oidc_token
    oidc = None
    if token.service_account_email:
        oidc = model.OidcToken(token.service_account_email, token.audience)
    dead_letter_topic, max_delivery_attempts = "", 0
    if proto.HasField("dead_letter_policy"):
        dead_letter = proto.dead_letter_policy
        dead_letter_topic = _topic_id(project, dead_letter.dead_letter_topic)
        max_delivery_attempts = dead_letter.max_delivery_attempts
    retry = None
    if proto.HasField("retry_policy"):
        policy = proto.retry_policy
        retry = model.PushRetry(
            minimum_backoff=durations.seconds(policy.minimum_backoff),
            maximum_backoff=durations.seconds(policy.maximum_backoff),
        )
    subscription = model.Subscription(
        name=proto.name.rsplit("/subscriptions/", 1)[-1],
        topic=_topic_id(project, proto.topic),
        push_endpoint=push.push_endpoint,
        oidc_token=oidc,
        ack_deadline_seconds=proto.ack_deadline_seconds,
        enable_message_ordering=proto.enable_message_ordering,
        filter=proto.filter,
        dead_letter_topic=dead_letter_topic,
        max_delivery_attempts=max_delivery_attempts or google_defaults.MAX_DELIVERY_ATTEMPTS,
        retry=retry,
        message_retention_duration=durations.seconds(proto.message_retention_duration),
        labels=labels,
    )
    return model.ObservedSubscription(
        subscription=subscription, owner=owner, push=bool(push.push_endpoint)
    )


class Subscriptions:
    """The subscriptions of one project, through one pass's `Calls`."""

    def __init__(
        self,
        subscriber: pubsub_v1.SubscriberClient,
        publisher: pubsub_v1.PublisherClient,
        calls: calling.Calls,
        project: str,
        *,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self._subscriber = subscriber
        self._publisher = publisher
        self._calls = calls
        self.project = project
        self._page_size = page_size

    def path(self, name: str) -> str:
        return f"projects/{self.project}/subscriptions/{name}"

    def list(self) -> list[model.ObservedSubscription]:
        """Every subscription of the project (ours, others', pull ones), one request per page."""
        observed: list[model.ObservedSubscription] = []
        project_path = f"projects/{self.project}"
        token = ""
        while True:
            request = types.ListSubscriptionsRequest(
                project=project_path, page_size=self._page_size, page_token=token
            )
            pager = self._calls.read(
                "ListSubscriptions",
                project_path,
                self._subscriber.list_subscriptions,
                request=request,
            )
            # The page itself (the pager fetches nothing more), read as raw protobuf.
            page = types.ListSubscriptionsResponse.pb(next(pager.pages))
            observed.extend(from_pb(proto, self.project) for proto in page.subscriptions)
            token = page.next_page_token
            if not token:
                return observed

    def get(self, name: str) -> model.ObservedSubscription:
        path = self.path(name)
        found = self._calls.read(
            "GetSubscription", path, self._subscriber.get_subscription, subscription=path
        )
        return from_proto(found, self.project)

    def create(self, subscription: model.Subscription, owner: str) -> None:
        """Create the subscription; a missing topic (or dead-letter topic) is created first when
        the registry allows it, and only after Pub/Sub said it is missing (no extra reads)."""
        proto = to_proto(subscription, owner, self.project)
        try:
            self._create(proto)
        except errors.NotFound:
            if not subscription.create_topic or not self._create_missing_topics(subscription):
                raise
            self._create(proto)

    def update(self, subscription: model.Subscription, owner: str, fields: Sequence[str]) -> None:
        """One UpdateSubscription whose mask names only the top-level fields that differ."""
        proto = to_proto(subscription, owner, self.project)
        # Pub/Sub masks name top-level fields; we always send the whole desired value of each.
        paths = sorted({field.split(".", 1)[0] for field in fields})
        mask = field_mask_pb2.FieldMask(paths=paths)
        request = types.UpdateSubscriptionRequest(subscription=proto, update_mask=mask)

        def send() -> object:
            return self._calls.write(
                "UpdateSubscription",
                proto.name,
                self._subscriber.update_subscription,
                request=request,
            )

        try:
            send()
        except errors.NotFound:
            # A new dead-letter topic may be missing; the subscription itself may be gone too.
            if "dead_letter_policy" not in paths or not subscription.create_topic:
                raise
            if not self._create_missing_topics(subscription):
                raise
            send()

    def delete(self, name: str) -> None:
        path = self.path(name)
        self._calls.write(
            "DeleteSubscription",
            path,
            self._subscriber.delete_subscription,
            subscription=path,
        )

    def recreate(self, subscription: model.Subscription, owner: str) -> None:
        """Immutable fields changed: delete, then create with the desired values."""
        with contextlib.suppress(errors.NotFound):
            self.delete(subscription.name)
        self.create(subscription, owner)

    def _create(self, proto: types.Subscription) -> None:
        self._calls.write(
            "CreateSubscription",
            proto.name,
            self._subscriber.create_subscription,
            request=proto,
        )

    def _create_missing_topics(self, subscription: model.Subscription) -> bool:
        """Create the subscription's topics that do not exist; False when none was missing."""
        created = False
        topics = [subscription.topic]
        if subscription.dead_letter_topic:
            topics.append(subscription.dead_letter_topic)
        for topic in topics:
            path = topic_path(self.project, topic)
            try:
                self._calls.read(
                    "GetTopic",
                    path,
                    self._publisher.get_topic,
                    topic=path,
                )
            except errors.NotFound:
                with contextlib.suppress(errors.Conflict):  # created concurrently: fine
                    self._calls.write(
                        "CreateTopic",
                        path,
                        self._publisher.create_topic,
                        name=path,
                    )
                created = True
        return created
