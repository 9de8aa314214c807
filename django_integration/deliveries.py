"""What a push delivery tells the task: Cloud Tasks / Scheduler headers and Pub/Sub envelopes.

Purely data: functions from headers and bodies to values, no I/O.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from django_integration import exceptions


@dataclasses.dataclass(frozen=True)
class TaskInfo:
    """How this run was delivered; set as `task.task_info` by the endpoint (None when eager)."""

    queue_name: str | None = None
    task_name: str | None = None
    retry_count: int | None = None  # Cloud Tasks: attempts that failed before this one
    execution_count: int | None = None  # Cloud Tasks: attempts that got a response
    eta: datetime | None = None
    previous_response: int | None = None
    retry_reason: str | None = None
    scheduler_job_name: str | None = None
    schedule_time: datetime | None = None
    delivery_attempt: int | None = None  # Pub/Sub, when the subscription has a dead-letter policy
    caller: str | None = None  # the verified service account, None when verification is off


class EnvironHeaders(Mapping[str, str]):
    """The HTTP headers of a WSGI environ (Django's `request.META`) by header name, each read
    when asked for: Django's `request.headers` converts every header first (~10 us a request)."""

    def __init__(self, environ: Mapping[str, Any]) -> None:
        self._environ = environ

    def __getitem__(self, name: str) -> str:
        return str(self._environ[_environ_key(name)])

    def get(self, name: str, default: Any = None) -> Any:  # no KeyError per missing header
        value = self._environ.get(_environ_key(name))
        return default if value is None else str(value)

    def __iter__(self) -> Iterator[str]:
        for key in self._environ:
            if key.startswith("HTTP_"):
                yield key[5:].replace("_", "-").title()
            elif key in _UNPREFIXED:
                yield key.replace("_", "-").title()

    def __len__(self) -> int:
        return sum(1 for _ in self)


_UNPREFIXED = frozenset({"CONTENT_TYPE", "CONTENT_LENGTH"})  # the CGI rule WSGI follows


@functools.cache  # a handful of header names, asked for on every request
def _environ_key(name: str) -> str:
    key = name.upper().replace("-", "_")
    return key if key in _UNPREFIXED else f"HTTP_{key}"


def task_info(headers: Mapping[str, str], caller: str | None = None) -> TaskInfo:
    """Read the `X-CloudTasks-*` and `X-CloudScheduler-*` headers Google sets (and strips from
    callers), tolerating any that are missing or malformed."""
    return TaskInfo(
        queue_name=headers.get("X-CloudTasks-QueueName"),
        task_name=headers.get("X-CloudTasks-TaskName"),
        retry_count=_int(headers.get("X-CloudTasks-TaskRetryCount")),
        execution_count=_int(headers.get("X-CloudTasks-TaskExecutionCount")),
        eta=_epoch(headers.get("X-CloudTasks-TaskETA")),
        previous_response=_int(headers.get("X-CloudTasks-TaskPreviousResponse")),
        retry_reason=headers.get("X-CloudTasks-TaskRetryReason"),
        scheduler_job_name=headers.get("X-CloudScheduler-JobName"),
        schedule_time=_lenient_timestamp(headers.get("X-CloudScheduler-ScheduleTime")),
        caller=caller,
    )


def decode_envelope(body: bytes | Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of `SubscriberTask.run()` from a Pub/Sub push envelope.

    `data` becomes the decoded JSON value when it is JSON, else text when it is UTF-8, else bytes.
    """
    envelope: Any = body
    if isinstance(body, bytes | bytearray):
        try:
            envelope = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
            raise exceptions.InvalidPubSubMessageError(
                f"Pub/Sub push body is not JSON: {error}"
            ) from error
    if not isinstance(envelope, Mapping):
        raise exceptions.InvalidPubSubMessageError("Pub/Sub push body must be a JSON object")
    message = envelope.get("message")
    subscription = envelope.get("subscription")
    if not isinstance(message, Mapping) or not isinstance(subscription, str):
        raise exceptions.InvalidPubSubMessageError(
            "Failed to decode Pub/Sub message (check the message conforms to Pub/Sub "
            "requirements: a 'message' object and a 'subscription' name)"
        )
    attributes = message.get("attributes")
    if attributes is not None and not (
        isinstance(attributes, Mapping) and all(isinstance(v, str) for v in attributes.values())
    ):
        raise exceptions.InvalidPubSubMessageError(
            "Pub/Sub message attributes must be an object of strings"
        )
    message_id = message.get("messageId", message.get("message_id"))
    ordering_key = message.get("orderingKey")
    if not all(isinstance(value, str | None) for value in (message_id, ordering_key)):
        raise exceptions.InvalidPubSubMessageError(
            "Pub/Sub messageId and orderingKey must be strings"
        )
    publish_time = message.get("publishTime", message.get("publish_time"))
    return {
        "data": _data(message.get("data")),
        "attributes": dict(attributes) if attributes is not None else None,
        "message_id": message_id,
        "ordering_key": ordering_key or None,
        "publish_time": _timestamp(publish_time) if publish_time else None,
        "subscription": subscription,
        "delivery_attempt": _int(envelope.get("deliveryAttempt")),
    }


def _data(encoded: Any) -> Any:
    if encoded is None:
        return None  # a message may carry only attributes
    if not isinstance(encoded, str):
        raise exceptions.InvalidPubSubMessageError("Pub/Sub message data must be base64 text")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise exceptions.InvalidPubSubMessageError(
            f"Pub/Sub message data is not base64: {error}"
        ) from error
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text
    except RecursionError as error:  # valid JSON, nested deeper than Python can build
        raise exceptions.InvalidPubSubMessageError(
            "Pub/Sub message data is nested too deeply"
        ) from error


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError, OverflowError):  # OverflowError: JSON's 1e400 is infinity
        return None


def _epoch(value: str | None) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(value), tz=UTC) if value else None
    except (TypeError, ValueError, OverflowError):
        return None


def _lenient_timestamp(value: str | None) -> datetime | None:
    try:
        return _timestamp(value) if value else None
    except exceptions.InvalidPubSubMessageError:
        return None


def _timestamp(value: Any) -> datetime:
    """An RFC 3339 timestamp; Google writes up to nine fractional digits, Python reads six."""
    if not isinstance(value, str):
        raise exceptions.InvalidPubSubMessageError(f"not an RFC 3339 timestamp: {value!r}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    if "." in text:
        head, _, rest = text.partition(".")
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[:digits][:6]}{rest[digits:]}" if digits else head + rest
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as error:
        raise exceptions.InvalidPubSubMessageError(
            f"not an RFC 3339 timestamp: {value!r}"
        ) from error
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
