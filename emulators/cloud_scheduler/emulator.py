"""The Cloud Scheduler service (`google.cloud.scheduler.v1.CloudScheduler`) and its firing loop.

Jobs live in memory. One thread waits on the clock for the earliest `schedule_time` and hands
due attempts to a worker pool, so a slow target never blocks the gRPC methods. A failed attempt
is retried per the job's `retry_config` by moving `schedule_time` to the retry time, as Google
shows it.
"""

from __future__ import annotations

import secrets
import threading
from concurrent import futures
from dataclasses import dataclass
from datetime import datetime, timedelta

import grpc
import structlog
from google.cloud.scheduler_v1 import types
from google.protobuf import empty_pb2

from emulators import clock as clocks
from emulators import dispatching, faults, oidc, paging, recording, serving
from emulators.cloud_scheduler import firing, jobs, schedules

logger = structlog.get_logger()

SERVICE = "google.cloud.scheduler.v1.CloudScheduler"
PAGE_SIZE = 500  # Google's default and maximum for ListJobs
ENABLED = types.Job.State.ENABLED
PAUSED = types.Job.State.PAUSED


@dataclass
class _Record:
    job: types.Job  # as Get answers it
    incarnation: int  # new on every create: attempts of a deleted job are ignored
    generation: int = 0  # new on update/pause/resume: an older attempt does not reschedule
    due: datetime | None = None  # mirrors job.schedule_time
    retry_pending: bool = False  # `due` is a retry, not a cron firing
    next_cron: datetime | None = None
    scheduled: datetime | None = None  # the firing time of the execution in progress
    started: datetime | None = None  # its first attempt, for max_retry_duration
    retries: int = 0  # retries made in the execution in progress
    in_flight: int = 0


class CloudSchedulerEmulator:
    """In-memory Cloud Scheduler: serve `handler()` with `serving.serve`, `start()` the firing."""

    def __init__(
        self,
        *,
        clock: clocks.Clock,
        issuer: oidc.Issuer | None,
        log: recording.RequestLog,
        workers: int = 8,
    ) -> None:
        self.clock = clock
        self.issuer = issuer
        self.log = log
        self.faults = faults.Faults()  # tests inject errors and lost answers here
        self._workers = workers
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._records: dict[str, _Record] = {}
        self._names = paging.Names()  # the keys of _records, sorted for List pages
        self._incarnations = 0
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._pool: futures.ThreadPoolExecutor | None = None

    def handler(self) -> grpc.GenericRpcHandler:
        methods: dict[str, serving.Method] = {
            "CreateJob": (self.create_job, types.CreateJobRequest, types.Job),
            "GetJob": (self.get_job, types.GetJobRequest, types.Job),
            "ListJobs": (self.list_jobs, types.ListJobsRequest, types.ListJobsResponse),
            "UpdateJob": (self.update_job, types.UpdateJobRequest, types.Job),
            "DeleteJob": (self.delete_job, types.DeleteJobRequest, empty_pb2.Empty),
            "PauseJob": (self.pause_job, types.PauseJobRequest, types.Job),
            "ResumeJob": (self.resume_job, types.ResumeJobRequest, types.Job),
            "RunJob": (self.run_job, types.RunJobRequest, types.Job),
        }
        return serving.generic_handler(SERVICE, methods, self.log, self.faults)

    def start(self) -> CloudSchedulerEmulator:
        if self._thread is None:
            self._stopping = False
            self._pool = futures.ThreadPoolExecutor(self._workers, "scheduler-attempt")
            self._thread = threading.Thread(target=self._fire_due, name="scheduler", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop firing; attempts already sent finish (each is bounded by its attempt_deadline)."""
        with self._lock:
            self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def jobs(self) -> list[types.Job]:
        """Copies of every job, by name (for tests and benchmarks; not an API method)."""
        with self._lock:
            return [types.Job(self._records[name].job) for name in sorted(self._records)]

    # -- the API ---------------------------------------------------------------------------

    def create_job(self, request: types.CreateJobRequest) -> types.Job:
        parent = jobs.check_parent(request.parent)
        name = request.job.name or f"{parent}/jobs/{secrets.token_hex(10)}"
        if jobs.parent_of(name) != parent:
            raise jobs.invalid(f"Job name {name} is not in the parent location {parent}.")
        job = jobs.merge(types.Job(name=name), request.job, ())
        jobs.validate(job)
        job = jobs.with_defaults(job)
        with self._lock:
            if name in self._records:
                raise serving.ApiError(
                    grpc.StatusCode.ALREADY_EXISTS, f"Job {name} already exists."
                )
            now = self.clock.now()
            job.state = ENABLED
            job.user_update_time = now
            self._incarnations += 1
            record = _Record(job=job, incarnation=self._incarnations)
            self._records[name] = record
            self._names.add(name)
            self._reschedule(record, now)
            logger.debug("scheduler.job_created", job=name, schedule_time=record.due)
            return types.Job(job)

    def get_job(self, request: types.GetJobRequest) -> types.Job:
        with self._lock:
            return types.Job(self._find(request.name).job)

    def list_jobs(self, request: types.ListJobsRequest) -> types.ListJobsResponse:
        parent = jobs.check_parent(request.parent)
        with self._lock:
            page, token = paging.page(
                self._names.under(f"{parent}/jobs/"),
                request.page_size,
                request.page_token,
                default_size=PAGE_SIZE,
                max_size=PAGE_SIZE,
            )
            response = types.ListJobsResponse(next_page_token=token)
            # One copy of each job, straight into the answer (proto-plus would copy it twice).
            listed = types.ListJobsResponse.pb(response).jobs
            listed.extend(types.Job.pb(self._records[name].job) for name in page)
        return response

    def update_job(self, request: types.UpdateJobRequest) -> types.Job:
        with self._lock:
            record = self._find(request.job.name)
            job = jobs.merge(record.job, request.job, request.update_mask.paths)
            jobs.validate(job)
            job = jobs.with_defaults(job)
            now = self.clock.now()
            job.user_update_time = now
            timing_changed = (job.schedule, job.time_zone) != (
                record.job.schedule,
                record.job.time_zone,
            )
            record.job = job
            record.generation += 1
            if timing_changed and job.state == ENABLED:
                self._reschedule(record, now)
            return types.Job(job)

    def delete_job(self, request: types.DeleteJobRequest) -> empty_pb2.Empty:
        with self._lock:
            record = self._find(request.name)
            del self._records[record.job.name]
            self._names.remove(record.job.name)
        self._wake.set()
        return empty_pb2.Empty()

    def pause_job(self, request: types.PauseJobRequest) -> types.Job:
        with self._lock:
            record = self._find(request.name)
            if record.job.state != ENABLED:
                raise serving.ApiError(
                    grpc.StatusCode.FAILED_PRECONDITION, "Job must be ENABLED to be paused."
                )
            record.job.state = PAUSED
            record.job.user_update_time = self.clock.now()
            record.generation += 1
            record.due = record.next_cron = None
            record.retry_pending = False
            del record.job.schedule_time
            self._wake.set()
            return types.Job(record.job)

    def resume_job(self, request: types.ResumeJobRequest) -> types.Job:
        with self._lock:
            record = self._find(request.name)
            if record.job.state != PAUSED:
                raise serving.ApiError(
                    grpc.StatusCode.FAILED_PRECONDITION, "Job must be PAUSED to be resumed."
                )
            now = self.clock.now()
            record.job.state = ENABLED
            record.job.user_update_time = now
            record.generation += 1
            self._reschedule(record, now)
            return types.Job(record.job)

    def run_job(self, request: types.RunJobRequest) -> types.Job:
        """Fire now, even when paused or already running, as Google's RunJob does."""
        with self._lock:
            record = self._find(request.name)
            self._begin(record, self.clock.now(), retry=False)
            return types.Job(record.job)

    # -- firing ----------------------------------------------------------------------------

    def _find(self, name: str) -> _Record:
        jobs.parent_of(name)  # a malformed name is INVALID_ARGUMENT, not NOT_FOUND
        record = self._records.get(name)
        if record is None:
            raise serving.ApiError(grpc.StatusCode.NOT_FOUND, "Job not found.")
        return record

    def _reschedule(self, record: _Record, now: datetime) -> None:
        """Next firing from the schedule (any pending retry is dropped)."""
        record.next_cron = schedules.next_fire(record.job.schedule, record.job.time_zone, now)
        self._set_due(record, record.next_cron, retry=False)

    def _set_due(self, record: _Record, when: datetime | None, *, retry: bool) -> None:
        record.due = when
        record.retry_pending = retry
        if when is None:
            del record.job.schedule_time
        else:
            record.job.schedule_time = when
        self._wake.set()

    def _fire_due(self) -> None:
        while True:
            self._wake.clear()
            with self._lock:
                if self._stopping:
                    return
                now = self.clock.now()
                deadline: datetime | None = None
                for record in self._records.values():
                    if record.job.state != ENABLED or record.in_flight or record.due is None:
                        continue
                    if record.due <= now:
                        self._begin(record, now, retry=record.retry_pending)
                    elif deadline is None or record.due < deadline:
                        deadline = record.due
            self.clock.wait_until(deadline, self._wake)

    def _begin(self, record: _Record, now: datetime, *, retry: bool) -> None:
        """Send one attempt; a new execution (not a retry) also moves to the next cron time."""
        if self._pool is None or self._stopping:
            raise serving.ApiError(grpc.StatusCode.UNAVAILABLE, "The emulator is not running.")
        if not retry:
            record.scheduled = record.due if record.due is not None and record.due <= now else now
            record.started = now
            record.retries = 0
            if record.job.state == ENABLED and record.due is not None and record.due <= now:
                after = max(now, record.due)
                record.next_cron = schedules.next_fire(
                    record.job.schedule, record.job.time_zone, after
                )
        if record.job.state == ENABLED:
            self._set_due(record, record.next_cron, retry=False)
        record.in_flight += 1
        record.job.last_attempt_time = now
        snapshot = types.Job(record.job)
        scheduled = record.scheduled or now
        self._pool.submit(self._attempt, record.incarnation, record.generation, snapshot, scheduled)

    def _attempt(
        self, incarnation: int, generation: int, job: types.Job, scheduled: datetime
    ) -> None:
        try:
            delivery = firing.fire(job, scheduled, self.issuer)
        except Exception as error:  # a bug here must not kill the worker silently
            logger.exception("scheduler.attempt_crashed", job=job.name)
            delivery = dispatching.Delivery(None, f"{type(error).__name__}: {error}", 0.0)
        logger.info(
            "scheduler.attempt",
            job=job.name,
            status=delivery.status,
            error=delivery.error,
            duration=round(delivery.duration, 3),
        )
        with self._lock:
            record = self._records.get(job.name)
            if record is None or record.incarnation != incarnation:
                return
            record.in_flight -= 1
            record.job.status = delivery.rpc_status()
            if record.generation != generation or record.job.state != ENABLED:
                self._wake.set()
                return
            retry_at = self._retry_time(record, delivery)
            if retry_at is not None:
                record.retries += 1
                self._set_due(record, retry_at, retry=True)
            else:
                self._set_due(record, record.next_cron, retry=False)

    def _retry_time(self, record: _Record, delivery: dispatching.Delivery) -> datetime | None:
        """When to retry a failed attempt, or None: retries stop at retry_count (or when
        max_retry_duration is also set, once both are used up) and at the next cron time."""
        retry = record.job.retry_config
        if delivery.ok or retry.retry_count == 0:
            return None
        now = self.clock.now()
        limit = retry.max_retry_duration or timedelta(0)
        count_left = record.retries < retry.retry_count
        time_left = limit > timedelta(0) and now - (record.started or now) < limit
        if not (count_left or time_left):
            return None
        wait = schedules.backoff(
            record.retries,
            min_backoff=retry.min_backoff_duration.total_seconds(),
            max_backoff=retry.max_backoff_duration.total_seconds(),
            max_doublings=retry.max_doublings,
        )
        when = now + timedelta(seconds=wait)
        if record.next_cron is not None and when >= record.next_cron:
            return None
        return when
