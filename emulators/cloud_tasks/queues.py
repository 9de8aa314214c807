"""Queue messages: a new queue with Google's defaults, and field-mask updates. No I/O."""

from __future__ import annotations

from collections.abc import Sequence

import grpc
from google.cloud import tasks_v2
from google.protobuf import field_mask_pb2

from emulators import serving
from emulators.cloud_tasks import names, retries

# Fields a client may set; the rest (state, purge_time) are output only, as in Google's API.
UPDATABLE = ("rate_limits", "retry_config", "stackdriver_logging_config")
UNSUPPORTED = ("app_engine_routing_override", "http_target")


def new(name: names.QueueName, given: tasks_v2.Queue) -> tasks_v2.Queue:
    """The queue as stored after a create: defaults filled in, RUNNING."""
    refuse_unsupported(given, ())
    queue = tasks_v2.Queue(
        name=str(name),
        rate_limits=retries.rate_limits(given.rate_limits),
        retry_config=retries.retry_config(given.retry_config),
        state=tasks_v2.Queue.State.RUNNING,
    )
    if "stackdriver_logging_config" in given:
        queue.stackdriver_logging_config = given.stackdriver_logging_config
    return queue


def updated(current: tasks_v2.Queue, given: tasks_v2.Queue, mask: Sequence[str]) -> tasks_v2.Queue:
    """`current` with the fields in `mask` (all updatable ones when empty) taken from `given`."""
    paths = list(mask) or list(UPDATABLE)
    for path in paths:
        top = path.split(".", 1)[0]
        if top in UNSUPPORTED:
            raise serving.ApiError(
                grpc.StatusCode.UNIMPLEMENTED,
                f"The emulator does not support updating Queue.{path}",
            )
        if top not in UPDATABLE:
            raise serving.ApiError(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"Invalid update_mask path {path!r}: only {', '.join(UPDATABLE)} (and their "
                "fields) can be updated; state changes through PauseQueue/ResumeQueue",
            )
    if not mask:
        refuse_unsupported(given, ())
    field_mask = field_mask_pb2.FieldMask(paths=paths)
    if not field_mask.IsValidForDescriptor(tasks_v2.Queue.pb().DESCRIPTOR):
        raise serving.ApiError(
            grpc.StatusCode.INVALID_ARGUMENT, f"Invalid update_mask: {', '.join(paths)}"
        )
    result = serving.copy_message(current)
    field_mask.MergeMessage(
        tasks_v2.Queue.pb(given),
        tasks_v2.Queue.pb(result),
        replace_message_field=True,
        replace_repeated_field=True,
    )
    result.rate_limits = retries.rate_limits(result.rate_limits)
    result.retry_config = retries.retry_config(result.retry_config)
    return result


def refuse_unsupported(given: tasks_v2.Queue, allowed: Sequence[str]) -> None:
    message = tasks_v2.Queue.pb(given)
    for field in UNSUPPORTED:
        if field not in allowed and message.HasField(field):
            raise serving.ApiError(
                grpc.StatusCode.UNIMPLEMENTED,
                f"The emulator does not support Queue.{field}; set the target on each task",
            )
