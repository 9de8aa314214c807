"""Firing one attempt of a job at its HTTP target, and reading the outcome as Google records it."""

from __future__ import annotations

from datetime import datetime

from google.cloud.scheduler_v1 import types

from emulators import dispatching, oidc
from emulators.cloud_scheduler import jobs, schedules

# Headers Google computes or reserves itself; a job's own values for them are not sent.
_RESERVED = ("host", "content-length")
_RESERVED_PREFIXES = ("x-google-", "x-appengine-")


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
