"""Cloud Scheduler adapter: list one location's jobs as `ObservedJob`s and write plan actions.

Ownership lives in the job description: we append the marker (`ownership.describe`) on every
write and strip it when reading, so the planner only ever sees `ObservedJob.owner`.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterator, Sequence
from typing import Any

from google.cloud import scheduler_v1
from google.protobuf import field_mask_pb2
from google.rpc import code_pb2

from controller.gcp import calling, durations
from controller.registry import google_defaults, model, ownership

# Cloud Scheduler's largest page: fewer round trips for big locations.
PAGE_SIZE = 500
# Raw messages hold enums as ints: plain ints and a dict, not proto-plus's enum classes.
_PAUSED = int(scheduler_v1.Job.State.PAUSED)
_METHOD_NAMES = {int(method): method.name for method in scheduler_v1.HttpMethod} | {
    int(scheduler_v1.HttpMethod.HTTP_METHOD_UNSPECIFIED): google_defaults.HTTP_METHOD
}
_UNSET_RETRY = model.SchedulerRetry()  # frozen: one instance serves every job without a config


def to_proto(job: model.SchedulerJob, owner: str, parent: str) -> scheduler_v1.Job:
    """The Google message for a desired job, marker included; `parent` is the location path."""
    http_target = scheduler_v1.HttpTarget(
        uri=job.uri,
        http_method=scheduler_v1.HttpMethod[job.http_method.upper()],
        headers=dict(job.headers),
        body=job.body.encode(),
    )
    if job.oidc_token is not None:
        http_target.oidc_token = scheduler_v1.OidcToken(
            service_account_email=job.oidc_token.service_account_email,
            audience=job.oidc_token.audience,
        )
    retry = job.retry
    return scheduler_v1.Job(
        name=f"{parent}/jobs/{job.name}",
        description=ownership.describe(job.description, owner),
        schedule=job.schedule,
        time_zone=job.time_zone,
        http_target=http_target,
        retry_config=scheduler_v1.RetryConfig(
            retry_count=retry.retry_count,
            max_retry_duration=_duration(retry.max_retry_duration),
            min_backoff_duration=_duration(retry.min_backoff_duration),
            max_backoff_duration=_duration(retry.max_backoff_duration),
            max_doublings=retry.max_doublings,
        ),
        attempt_deadline=_duration(job.attempt_deadline),
    )


def from_proto(job: scheduler_v1.Job) -> model.ObservedJob:
    """Our view of one job as Google's client returns it (proto-plus), e.g. a Get's answer."""
    return from_pb(scheduler_v1.Job.pb(job))


def from_pb(job: Any) -> model.ObservedJob:
    """Our view of a job from its raw protobuf message (`job_pb2.Job`), as stored; fields Google
    left unset read as Google's defaults. Raw, because a listing is read field by field, and
    proto-plus attribute access cost ~10x more per field (most of a no-drift pass)."""
    description, owner = ownership.split_description(job.description)
    target = job.http_target
    token = target.oidc_token
    oidc = None
    if token.service_account_email:
        oidc = model.OidcToken(token.service_account_email, token.audience)
    retry = _UNSET_RETRY
    if job.HasField("retry_config"):
        config = job.retry_config
        retry = model.SchedulerRetry(
            retry_count=config.retry_count,
            max_retry_duration=durations.seconds(config.max_retry_duration),
            min_backoff_duration=durations.seconds(config.min_backoff_duration),
            max_backoff_duration=durations.seconds(config.max_backoff_duration),
            max_doublings=config.max_doublings,
        )
    observed = model.SchedulerJob(
        name=job.name.rsplit("/jobs/", 1)[-1],
        schedule=job.schedule,
        uri=target.uri,
        time_zone=job.time_zone or google_defaults.TIME_ZONE,
        description=description,
        paused=job.state == _PAUSED,
        # A method newer than this client reads as its number: drift to correct, not a crash.
        http_method=_METHOD_NAMES.get(target.http_method, str(target.http_method)),
        body=target.body.decode(errors="replace"),
        headers=dict(target.headers),  # as stored; diffs ignore the headers Google adds
        oidc_token=oidc,
        retry=retry,
        attempt_deadline=durations.seconds(job.attempt_deadline)
        if job.HasField("attempt_deadline")
        else google_defaults.ATTEMPT_DEADLINE,
    )
    return model.ObservedJob(job=observed, owner=owner)


@dataclasses.dataclass(frozen=True)
class LiveJob:
    """A listed job with what Cloud Scheduler reports about its runs (output-only fields)."""

    observed: model.ObservedJob
    state: str  # ENABLED, PAUSED, DISABLED or UPDATE_FAILED
    schedule_time: datetime.datetime | None  # the next attempt: a cron time or a retry
    last_attempt_time: datetime.datetime | None  # when the last attempt started
    last_attempt_code: str | None  # google.rpc code name of its outcome; None: no outcome yet
    last_attempt_message: str = ""


def live_from_proto(job: scheduler_v1.Job) -> LiveJob:
    """`from_proto` plus the job's state and the outcome of its last attempt."""
    code = None
    if "status" in job:
        code = code_pb2.Code.Name(job.status.code)
    return LiveJob(
        observed=from_proto(job),
        state=scheduler_v1.Job.State(job.state).name,
        schedule_time=job.schedule_time if "schedule_time" in job else None,
        last_attempt_time=job.last_attempt_time if "last_attempt_time" in job else None,
        last_attempt_code=code,
        last_attempt_message=job.status.message if "status" in job else "",
    )


class SchedulerJobs:
    """The jobs of one (project, location), through one pass's `Calls`."""

    def __init__(
        self,
        client: scheduler_v1.CloudSchedulerClient,
        calls: calling.Calls,
        project: str,
        location: str,
        *,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self._client = client
        self._calls = calls
        self.parent = f"projects/{project}/locations/{location}"
        self._page_size = page_size

    def path(self, name: str) -> str:
        return f"{self.parent}/jobs/{name}"

    def list(self) -> list[model.ObservedJob]:
        """Every job of the location (ours or not), one request per page."""
        return [from_pb(job) for page in self._pages() for job in page.jobs]

    def list_live(self) -> list[LiveJob]:
        """`list()` with each job's state and last attempt, from the same requests."""
        wrap = scheduler_v1.Job.wrap
        return [live_from_proto(wrap(job)) for page in self._pages() for job in page.jobs]

    def _pages(self) -> Iterator[Any]:
        """The raw `ListJobsResponse` of each page, requested as the previous one is read."""
        token = ""
        while True:
            request = scheduler_v1.ListJobsRequest(
                parent=self.parent, page_size=self._page_size, page_token=token
            )
            pager = self._calls.read(
                "ListJobs",
                self.parent,
                self._client.list_jobs,
                request=request,
            )
            # The page itself (the pager fetches nothing more), read as raw protobuf.
            page = scheduler_v1.ListJobsResponse.pb(next(pager.pages))
            yield page
            token = page.next_page_token
            if not token:
                return

    def get(self, name: str) -> model.ObservedJob:
        path = self.path(name)
        return from_proto(self._calls.read("GetJob", path, self._client.get_job, name=path))

    def create(self, job: model.SchedulerJob, owner: str) -> None:
        """Create the job (enabled, as Google always does: the plan pauses it next if desired)."""
        proto = to_proto(job, owner, self.parent)
        self._calls.write(
            "CreateJob",
            proto.name,
            self._client.create_job,
            parent=self.parent,
            job=proto,
        )

    def update(self, job: model.SchedulerJob, owner: str, fields: Sequence[str]) -> None:
        """One UpdateJob whose mask names only `fields` (update-mask paths)."""
        proto = to_proto(job, owner, self.parent)
        mask = field_mask_pb2.FieldMask(paths=sorted(set(fields)))
        self._calls.write(
            "UpdateJob",
            proto.name,
            self._client.update_job,
            job=proto,
            update_mask=mask,
        )

    def pause(self, name: str) -> None:
        path = self.path(name)
        self._calls.write(
            "PauseJob",
            path,
            self._client.pause_job,
            name=path,
        )

    def resume(self, name: str) -> None:
        path = self.path(name)
        self._calls.write(
            "ResumeJob",
            path,
            self._client.resume_job,
            name=path,
        )

    def run(self, name: str) -> None:
        """Fire the job now (RunJob), paused or not; its schedule is unchanged."""
        path = self.path(name)
        self._calls.write("RunJob", path, self._client.run_job, name=path)

    def delete(self, name: str) -> None:
        path = self.path(name)
        self._calls.write(
            "DeleteJob",
            path,
            self._client.delete_job,
            name=path,
        )


def _duration(seconds: float) -> datetime.timedelta:
    return datetime.timedelta(seconds=seconds)
