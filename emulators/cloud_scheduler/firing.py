"""Firing one attempt of a job at its HTTP target, and reading the outcome as Google records it."""

from __future__ import annotations

from datetime import datetime

from google.cloud.scheduler_v1 import types
from google.rpc import code_pb2, status_pb2

from emulators import dispatching, oidc
from emulators.cloud_scheduler import jobs, schedules

# Headers Google computes or reserves itself; a job's own values for them are not sent.
_RESERVED = ("host", "content-length")
_RESERVED_PREFIXES = ("x-google-", "x-appengine-")

# HTTP answers as google.rpc codes, per the mapping in google/rpc/code.proto.
_CODES = {
    400: code_pb2.INVALID_ARGUMENT,
    401: code_pb2.UNAUTHENTICATED,
    403: code_pb2.PERMISSION_DENIED,
    404: code_pb2.NOT_FOUND,
    409: code_pb2.ABORTED,
    429: code_pb2.RESOURCE_EXHAUSTED,
    499: code_pb2.CANCELLED,
    501: code_pb2.UNIMPLEMENTED,
    503: code_pb2.UNAVAILABLE,
    504: code_pb2.DEADLINE_EXCEEDED,
}


def headers_for(job: types.Job, scheduled: datetime) -> dict[str, str]:
    """The headers one attempt sends: the job's own plus Cloud Scheduler's X-CloudScheduler-*."""
    headers = {
        key: value
        for key, value in job.http_target.headers.items()
        if key.lower() not in _RESERVED and not key.lower().startswith(_RESERVED_PREFIXES)
    }
    zone = schedules.time_zone(job.time_zone)
    headers["X-CloudScheduler"] = "true"
    headers["X-CloudScheduler-JobName"] = jobs.job_id(job.name)
    headers["X-CloudScheduler-ScheduleTime"] = scheduled.astimezone(zone).isoformat(
        timespec="seconds"
    )
    return headers


def fire(job: types.Job, scheduled: datetime, issuer: oidc.Issuer | None) -> dispatching.Delivery:
    """Send one attempt of `job` (a snapshot), for the execution scheduled at `scheduled`."""
    target = job.http_target
    token = None
    if "oidc_token" in target:
        token = (target.oidc_token.service_account_email, target.oidc_token.audience)
    return dispatching.deliver(
        target.uri,
        method=types.HttpMethod(target.http_method).name,
        body=target.body,
        headers=headers_for(job, scheduled),
        oidc=token,
        issuer=issuer,
        timeout=job.attempt_deadline.total_seconds(),
    )


def status_of(delivery: dispatching.Delivery) -> status_pb2.Status:
    """The job's `status` after an attempt: code 0 for a 2xx answer, else why it failed."""
    if delivery.ok:
        return status_pb2.Status()
    if delivery.status is None:
        timed_out = "Timeout" in (delivery.error or "")
        code = code_pb2.DEADLINE_EXCEEDED if timed_out else code_pb2.UNAVAILABLE
        return status_pb2.Status(code=code, message=delivery.error or "no response")
    if delivery.status in _CODES:
        code = _CODES[delivery.status]
    elif 400 <= delivery.status < 500:
        code = code_pb2.FAILED_PRECONDITION
    elif delivery.status >= 500:
        code = code_pb2.INTERNAL
    else:
        code = code_pb2.UNKNOWN
    return status_pb2.Status(code=code, message=f"The target answered HTTP {delivery.status}.")
