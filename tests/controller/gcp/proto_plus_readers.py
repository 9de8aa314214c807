"""The adapters' readers as they were before issue 13, through proto-plus attribute access: the
oracle the raw-protobuf readers must match, field for field (test_scheduler_jobs.py and
test_subscriptions.py compare the two over wide tables). Not used by the controller. Also a
counter of proto-plus field reads, to show a listing makes none."""

from __future__ import annotations

import contextlib
import datetime
import random
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType

import proto.message
import pytest
from google.cloud import scheduler_v1
from google.pubsub_v1 import types

from controller.registry import google_defaults, model, ownership


def job(job: scheduler_v1.Job) -> model.ObservedJob:
    description, owner = ownership.split_description(job.description)
    target = job.http_target
    oidc = None
    if target.oidc_token.service_account_email:
        oidc = model.OidcToken(
            service_account_email=target.oidc_token.service_account_email,
            audience=target.oidc_token.audience,
        )
    retry = model.SchedulerRetry()
    if "retry_config" in job:
        config = job.retry_config
        retry = model.SchedulerRetry(
            retry_count=config.retry_count,
            max_retry_duration=_seconds(
                config.max_retry_duration, google_defaults.MAX_RETRY_DURATION
            ),
            min_backoff_duration=_seconds(
                config.min_backoff_duration, google_defaults.MIN_BACKOFF_DURATION
            ),
            max_backoff_duration=_seconds(
                config.max_backoff_duration, google_defaults.MAX_BACKOFF_DURATION
            ),
            max_doublings=config.max_doublings,
        )
    method = scheduler_v1.HttpMethod(target.http_method)
    observed = model.SchedulerJob(
        name=job.name.rsplit("/jobs/", 1)[-1],
        schedule=job.schedule,
        uri=target.uri,
        time_zone=job.time_zone or google_defaults.TIME_ZONE,
        description=description,
        paused=job.state == scheduler_v1.Job.State.PAUSED,
        http_method=google_defaults.HTTP_METHOD
        if method == scheduler_v1.HttpMethod.HTTP_METHOD_UNSPECIFIED
        else method.name,
        body=target.body.decode(errors="replace"),
        headers=dict(target.headers),
        oidc_token=oidc,
        retry=retry,
        attempt_deadline=_seconds(job.attempt_deadline, google_defaults.ATTEMPT_DEADLINE)
        if "attempt_deadline" in job
        else google_defaults.ATTEMPT_DEADLINE,
    )
    return model.ObservedJob(job=observed, owner=owner)


def subscription(proto: types.Subscription, project: str) -> model.ObservedSubscription:
    labels, owner = ownership.split_labels(proto.labels)
    push = proto.push_config
    oidc = None
    if push.oidc_token.service_account_email:
        oidc = model.OidcToken(
            service_account_email=push.oidc_token.service_account_email,
            audience=push.oidc_token.audience,
        )
    dead_letter = proto.dead_letter_policy if "dead_letter_policy" in proto else None
    retry = None
    if "retry_policy" in proto:
        retry = model.PushRetry(
            minimum_backoff=_seconds(
                proto.retry_policy.minimum_backoff, google_defaults.MINIMUM_BACKOFF
            ),
            maximum_backoff=_seconds(
                proto.retry_policy.maximum_backoff, google_defaults.MAXIMUM_BACKOFF
            ),
        )
    observed = model.Subscription(
        name=proto.name.rsplit("/subscriptions/", 1)[-1],
        topic=_topic_id(project, proto.topic),
        push_endpoint=push.push_endpoint,
        oidc_token=oidc,
        ack_deadline_seconds=proto.ack_deadline_seconds,
        enable_message_ordering=proto.enable_message_ordering,
        filter=proto.filter,
        dead_letter_topic=_topic_id(project, dead_letter.dead_letter_topic) if dead_letter else "",
        max_delivery_attempts=(dead_letter.max_delivery_attempts if dead_letter else 0)
        or google_defaults.MAX_DELIVERY_ATTEMPTS,
        retry=retry,
        message_retention_duration=_seconds(
            proto.message_retention_duration, google_defaults.MESSAGE_RETENTION_DURATION
        ),
        labels=labels,
    )
    return model.ObservedSubscription(
        subscription=observed, owner=owner, push=bool(push.push_endpoint)
    )


def _topic_id(project: str, path: str) -> str:
    prefix = f"projects/{project}/topics/"
    return path.removeprefix(prefix) if path.startswith(prefix) else path


def _seconds(value: datetime.timedelta | None, default: float) -> float:
    return value.total_seconds() if value is not None else default


def cases(
    message: type,
    full: Mapping[str, object],
    variants: Mapping[str, Sequence[object]],
    *,
    oneof: tuple[str, str],
    mixes: int = 300,
) -> list[object]:
    """Raw messages of class `message` as test params: every value of every field on the `full`
    message and on an empty one, then `mixes` seeded random mixes. Values of None leave the
    field unset; setting the first field of `oneof` unsets the second (its other member)."""

    def raw(fields: dict[str, object]) -> object:
        if fields.get(oneof[0]) is not None:
            fields[oneof[1]] = None
        return message(**{key: value for key, value in fields.items() if value is not None})

    found = []
    for base_name, base in (("full", full), ("empty", {})):
        for field, values in variants.items():
            for index, value in enumerate(values):
                message_id = f"{base_name}-{field}-{index}"
                found.append(pytest.param(raw({**base, field: value}), id=message_id))
    rng = random.Random(13)
    for index in range(mixes):
        fields = {field: rng.choice(values) for field, values in variants.items()}
        found.append(pytest.param(raw(fields), id=f"mixed-{index}"))
    return found


class FieldReads:
    count = 0


@contextlib.contextmanager
def field_reads() -> Iterator[FieldReads]:
    """Counts reads of proto-plus message fields (its `Message.__getattr__`) in this thread."""
    reads = FieldReads()
    source = Path(proto.message.__file__).resolve()

    def profile(frame: FrameType, event: str, arg: object) -> None:
        code = frame.f_code
        named = event == "call" and code.co_name == "__getattr__"
        if named and Path(code.co_filename).resolve() == source:
            reads.count += 1

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield reads
    finally:
        sys.setprofile(previous)
