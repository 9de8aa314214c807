"""Publishing to Pub/Sub for `SubscriberTask.publish()`: one publisher per process and setting.

Google's publisher honours `PUBSUB_EMULATOR_HOST` itself; the cache is keyed on it and on message
ordering (a publisher option), so a changed emulator address gets a fresh client.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping

from google.api_core import exceptions as api_exceptions
from google.cloud import pubsub_v1

from django_integration import conf, loggers

_lock = threading.Lock()
_publishers: dict[tuple[str | None, bool], pubsub_v1.PublisherClient] = {}


def publisher(enable_message_ordering: bool) -> pubsub_v1.PublisherClient:
    key = (os.environ.get("PUBSUB_EMULATOR_HOST"), enable_message_ordering)
    with _lock:
        if key not in _publishers:
            options = pubsub_v1.types.PublisherOptions(
                enable_message_ordering=enable_message_ordering
            )
            _publishers[key] = pubsub_v1.PublisherClient(publisher_options=options)
        return _publishers[key]


def publish(
    *,
    topic_id: str,
    data: bytes,
    attributes: Mapping[str, str] | None = None,
    ordering_key: str = "",
    enable_message_ordering: bool = False,
) -> str:
    """Publish one message and wait for its id; a missing topic is created, then published to."""
    client = publisher(enable_message_ordering)
    topic = client.topic_path(conf.settings.project, topic_id)
    extra = {"ordering_key": ordering_key} if ordering_key else {}
    try:
        return str(client.publish(topic, data, **extra, **dict(attributes or {})).result())
    except api_exceptions.NotFound:
        try:
            client.create_topic(name=topic)
            loggers.enqueueing.info("Created topic %s", topic, extra={"topic": topic})
        except api_exceptions.AlreadyExists:
            pass
        if ordering_key:
            client.resume_publish(topic, ordering_key)  # a failed ordered publish pauses the key
        return str(client.publish(topic, data, **extra, **dict(attributes or {})).result())
