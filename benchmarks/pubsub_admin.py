"""An in-memory stand-in for Pub/Sub's admin API (topics and subscriptions; no messages), for the
reconcile benchmark at scale only.

Why not Google's emulator there: it starts two threads per push subscription and polls with them;
measured here, 500 idle push subscriptions cost ~0.3 of a core and 1,000 threads, so 5,000 would
need ~3 cores and 10,000 threads on a 2-core machine, and its CreateSubscription slowed from ~60/s
to 1-5/s past ~1,700 of them. Built like the project's emulators (`emulators.serving` and Google's
own message classes), so the controller talks to it with Google's unmodified client.
"""

from __future__ import annotations

import threading

import grpc
from google.protobuf import empty_pb2
from google.pubsub_v1 import types

from emulators import paging, recording, serving

PUBLISHER = "google.pubsub.v1.Publisher"
SUBSCRIBER = "google.pubsub.v1.Subscriber"
DEFAULT_PAGE = 100
MAX_PAGE = 1000
# Google fills these in on create when the request leaves them unset.
DEFAULT_ACK_DEADLINE = 10
DEFAULT_RETENTION_SECONDS = 604800


class PubSubAdmin:
    """Topics and subscriptions by full name, behind one lock."""

    def __init__(self, log: recording.RequestLog | None = None) -> None:
        self.log = log or recording.RequestLog()
        self._lock = threading.Lock()
        self._topics: dict[str, types.Topic] = {}
        self._subscriptions: dict[str, types.Subscription] = {}
        self._names = paging.Names()  # the keys of _subscriptions, sorted for List pages

    def handlers(self) -> tuple[grpc.GenericRpcHandler, ...]:
        t = types
        publisher: dict[str, serving.Method] = {
            "CreateTopic": (self.create_topic, t.Topic, t.Topic),
            "GetTopic": (self.get_topic, t.GetTopicRequest, t.Topic),
            "DeleteTopic": (self.delete_topic, t.DeleteTopicRequest, empty_pb2.Empty),
        }
        subscriber: dict[str, serving.Method] = {
            "CreateSubscription": (self.create_subscription, t.Subscription, t.Subscription),
            "GetSubscription": (self.get_subscription, t.GetSubscriptionRequest, t.Subscription),
            "UpdateSubscription": (
                self.update_subscription,
                t.UpdateSubscriptionRequest,
                t.Subscription,
            ),
            "DeleteSubscription": (
                self.delete_subscription,
                t.DeleteSubscriptionRequest,
                empty_pb2.Empty,
            ),
            "ListSubscriptions": (
                self.list_subscriptions,
                t.ListSubscriptionsRequest,
                t.ListSubscriptionsResponse,
            ),
        }
        return (
            serving.generic_handler(PUBLISHER, publisher, self.log),
            serving.generic_handler(SUBSCRIBER, subscriber, self.log),
        )

    # -- topics

    def create_topic(self, topic: types.Topic) -> types.Topic:
        _check(topic.name, "topics")
        with self._lock:
            if topic.name in self._topics:
                raise serving.ApiError(grpc.StatusCode.ALREADY_EXISTS, "Topic already exists")
            self._topics[topic.name] = serving.copy_message(topic)
        return topic

    def get_topic(self, request: types.GetTopicRequest) -> types.Topic:
        with self._lock:
            return serving.copy_message(self._found(self._topics, request.topic, "Topic"))

    def delete_topic(self, request: types.DeleteTopicRequest) -> empty_pb2.Empty:
        with self._lock:
            self._found(self._topics, request.topic, "Topic")
            del self._topics[request.topic]
        return empty_pb2.Empty()

    # -- subscriptions

    def create_subscription(self, subscription: types.Subscription) -> types.Subscription:
        _check(subscription.name, "subscriptions")
        stored = serving.copy_message(subscription)
        stored.ack_deadline_seconds = stored.ack_deadline_seconds or DEFAULT_ACK_DEADLINE
        if "message_retention_duration" not in stored:
            stored.message_retention_duration = {"seconds": DEFAULT_RETENTION_SECONDS}
        stored.state = types.Subscription.State.ACTIVE
        with self._lock:
            if subscription.topic not in self._topics:
                raise serving.ApiError(grpc.StatusCode.NOT_FOUND, "Topic not found")
            if subscription.name in self._subscriptions:
                raise serving.ApiError(
                    grpc.StatusCode.ALREADY_EXISTS, "Subscription already exists"
                )
            self._subscriptions[subscription.name] = stored
            self._names.add(subscription.name)
        return serving.copy_message(stored)

    def get_subscription(self, request: types.GetSubscriptionRequest) -> types.Subscription:
        with self._lock:
            found = self._found(self._subscriptions, request.subscription, "Subscription")
            return serving.copy_message(found)

    def update_subscription(self, request: types.UpdateSubscriptionRequest) -> types.Subscription:
        given = request.subscription
        paths = list(request.update_mask.paths)
        if not paths:
            raise serving.ApiError(grpc.StatusCode.INVALID_ARGUMENT, "update_mask is required")
        fields = types.Subscription.pb().DESCRIPTOR.fields_by_name
        for path in paths:
            if path not in fields or path in ("name", "topic"):
                raise serving.ApiError(
                    grpc.StatusCode.INVALID_ARGUMENT, f"Invalid update_mask path: {path}"
                )
        with self._lock:
            stored = self._found(self._subscriptions, given.name, "Subscription")
            updated = serving.copy_message(stored)
            source, target = types.Subscription.pb(given), types.Subscription.pb(updated)
            for path in paths:
                target.ClearField(path)
                if fields[path].message_type is None:
                    setattr(target, path, getattr(source, path))
                elif _is_map(fields[path]):
                    getattr(target, path).update(getattr(source, path))
                elif source.HasField(path):
                    getattr(target, path).CopyFrom(getattr(source, path))
            self._subscriptions[given.name] = updated
            return serving.copy_message(updated)

    def delete_subscription(self, request: types.DeleteSubscriptionRequest) -> empty_pb2.Empty:
        with self._lock:
            self._found(self._subscriptions, request.subscription, "Subscription")
            del self._subscriptions[request.subscription]
            self._names.remove(request.subscription)
        return empty_pb2.Empty()

    def list_subscriptions(
        self, request: types.ListSubscriptionsRequest
    ) -> types.ListSubscriptionsResponse:
        with self._lock:
            page, token = paging.page(
                self._names.under(f"{request.project}/subscriptions/"),
                request.page_size,
                request.page_token,
                default_size=DEFAULT_PAGE,
                max_size=MAX_PAGE,
            )
            response = types.ListSubscriptionsResponse(next_page_token=token)
            # One copy of each subscription, straight into the answer.
            listed = types.ListSubscriptionsResponse.pb(response).subscriptions
            listed.extend(types.Subscription.pb(self._subscriptions[name]) for name in page)
        return response

    @staticmethod
    def _found(
        table: dict[str, types.Topic] | dict[str, types.Subscription], name: str, what: str
    ) -> types.Topic | types.Subscription:
        try:
            return table[name]
        except KeyError:
            raise serving.ApiError(grpc.StatusCode.NOT_FOUND, f"{what} not found") from None


def _check(name: str, collection: str) -> None:
    parts = name.split("/")
    if len(parts) != 4 or parts[0] != "projects" or parts[2] != collection or not parts[3]:
        raise serving.ApiError(
            grpc.StatusCode.INVALID_ARGUMENT, f"Invalid [{collection}] name: (name={name})"
        )


def _is_map(field: object) -> bool:
    message_type = getattr(field, "message_type", None)
    return bool(message_type is not None and message_type.GetOptions().map_entry)


def start(host: str = "127.0.0.1", port: int = 0) -> tuple[PubSubAdmin, grpc.Server, str]:
    """Serve it on host:port (0 = a free port); returns it, its server and its `host:port`."""
    admin = PubSubAdmin()
    server, bound = serving.serve(admin.handlers(), host=host, port=port)
    return admin, server, f"{host}:{bound}"
