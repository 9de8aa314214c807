"""The Cloud Tasks emulator's in-memory state: queues, tasks, tombstones and attempt bookkeeping.

Every method holds the one lock only briefly and returns copies, so API calls never wait for a
delivery. Dispatch order comes from a heap of due times; stale heap entries are skipped.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import grpc
from google.cloud import tasks_v2

from emulators import clock as clocks
from emulators import dispatching, paging, serving
from emulators.cloud_tasks import names, queues, retries, tasks

QUEUE_NOT_FOUND = "Queue does not exist."
TASK_NOT_FOUND = "Task does not exist."
TASK_GONE = (
    "The task no longer exists, though a task with this name existed recently. "
    "The task either successfully completed or was deleted."
)
TASK_EXISTS = "Requested entity already exists"
MAX_QUEUES_PAGE = 9800
MAX_TASKS_PAGE = 1000


@dataclass(frozen=True)
class Push:
    """One attempt to deliver a task, handed from the state to the dispatcher."""

    task_name: str
    incarnation: int
    queue_id: str
    task_id: str
    url: str
    method: str
    body: bytes
    headers: Mapping[str, str]
    oidc: tuple[str, str] | None
    timeout: float
    retry_count: int
    execution_count: int
    eta: datetime
    previous_response: int | None


@dataclass
class _TaskRecord:
    task: tasks_v2.Task
    incarnation: int
    version: int = -1
    in_flight: int = 0
    executions: int = 0
    previous_response: int | None = None
    first_dispatch: datetime | None = None


@dataclass
class _QueueRecord:
    queue: tasks_v2.Queue
    tasks: dict[str, _TaskRecord] = field(default_factory=dict)


class State:
    """Queues and tasks of one emulator; `on_change` is called when dispatch may be due sooner."""

    def __init__(
        self,
        clock: clocks.Clock,
        *,
        tombstone_seconds: float = 3600,
        can_sign: bool = False,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.clock = clock
        self.tombstone = timedelta(seconds=tombstone_seconds)
        self.can_sign = can_sign
        self.on_change = on_change
        self._lock = threading.Lock()
        self._queues: dict[str, _QueueRecord] = {}
        self._tasks: dict[str, _TaskRecord] = {}
        self._tombstones: dict[str, datetime] = {}
        self._sweep_at = 1024
        self._due: list[tuple[datetime, int, str]] = []
        self._sequence = itertools.count()

    # -- queues

    def create_queue(self, parent: str, given: tasks_v2.Queue) -> tasks_v2.Queue:
        names.location(parent)
        name = names.queue(given.name)
        if name.parent != parent:
            raise _invalid(
                f"The queue name ('{name}') must be in the parent location ('{parent}')."
            )
        queue = queues.new(name, given)
        with self._lock:
            if str(name) in self._queues:
                raise serving.ApiError(grpc.StatusCode.ALREADY_EXISTS, "Queue already exists")
            self._queues[str(name)] = _QueueRecord(queue)
            return serving.copy_message(queue)

    def get_queue(self, name: str) -> tasks_v2.Queue:
        with self._lock:
            return serving.copy_message(self._queue(name).queue)

    def list_queues(
        self, parent: str, state_filter: tasks_v2.Queue.State | None, size: int, token: str
    ) -> tuple[list[tasks_v2.Queue], str]:
        names.location(parent)
        with self._lock:
            found = [
                record.queue
                for key, record in sorted(self._queues.items())
                if key.startswith(parent + "/")
                and (state_filter is None or record.queue.state == state_filter)
            ]
            shown, next_token = paging.page(
                found, size, token, default_size=MAX_QUEUES_PAGE, max_size=MAX_QUEUES_PAGE
            )
            return [serving.copy_message(queue) for queue in shown], next_token

    def update_queue(self, given: tasks_v2.Queue, mask: list[str]) -> tasks_v2.Queue:
        """Google's UpdateQueue also creates the queue when it does not exist."""
        name = names.queue(given.name)
        with self._lock:
            record = self._queues.get(str(name))
            current = record.queue if record else queues.new(name, tasks_v2.Queue())
            queue = queues.updated(current, given, mask)
            if record:
                record.queue = queue
            else:
                self._queues[str(name)] = _QueueRecord(queue)
            return serving.copy_message(queue)

    def set_queue_state(self, name: str, state: tasks_v2.Queue.State) -> tasks_v2.Queue:
        with self._lock:
            record = self._queue(name)
            record.queue.state = state
            if state == tasks_v2.Queue.State.RUNNING:
                # Entries for this queue were dropped from the heap while it was paused.
                for task_record in record.tasks.values():
                    if not task_record.in_flight:
                        self._schedule(task_record)
            queue = serving.copy_message(record.queue)
        self.on_change()
        return queue

    def purge_queue(self, name: str) -> tasks_v2.Queue:
        with self._lock:
            record = self._queue(name)
            now = self.clock.now()
            for task_name in list(record.tasks):
                self._remove(task_name, now)
            record.queue.purge_time = now
            return serving.copy_message(record.queue)

    def delete_queue(self, name: str) -> None:
        with self._lock:
            record = self._queue(name)
            now = self.clock.now()
            for task_name in list(record.tasks):
                self._remove(task_name, now)
            del self._queues[name]

    # -- tasks

    def create_task(
        self, parent: str, given: tasks_v2.Task, view: tasks_v2.Task.View
    ) -> tasks_v2.Task:
        queue_name = names.queue(parent)
        now = self.clock.now()
        task = tasks.new(queue_name, given, now, can_sign=self.can_sign)
        with self._lock:
            record = self._queues.get(str(queue_name))
            if record is None:
                raise serving.ApiError(grpc.StatusCode.NOT_FOUND, QUEUE_NOT_FOUND)
            if task.name in self._tasks or self._tombstoned(task.name, now):
                raise serving.ApiError(grpc.StatusCode.ALREADY_EXISTS, TASK_EXISTS)
            task_record = _TaskRecord(task, incarnation=next(self._sequence))
            record.tasks[task.name] = task_record
            self._tasks[task.name] = task_record
            self._schedule(task_record)
            shown = tasks.view(task, view)
        self.on_change()
        return shown

    def get_task(self, name: str, view: tasks_v2.Task.View) -> tasks_v2.Task:
        with self._lock:
            return tasks.view(self._task(name).task, view)

    def list_tasks(
        self, parent: str, view: tasks_v2.Task.View, size: int, token: str
    ) -> tuple[list[tasks_v2.Task], str]:
        names.queue(parent)
        with self._lock:
            record = self._queues.get(parent)
            if record is None:
                raise serving.ApiError(grpc.StatusCode.NOT_FOUND, QUEUE_NOT_FOUND)
            found = [record.tasks[name].task for name in sorted(record.tasks)]
            shown, next_token = paging.page(
                found, size, token, default_size=MAX_TASKS_PAGE, max_size=MAX_TASKS_PAGE
            )
            return [tasks.view(task, view) for task in shown], next_token

    def delete_task(self, name: str) -> None:
        with self._lock:
            self._task(name)
            self._remove(name, self.clock.now())

    def run_task(self, name: str, view: tasks_v2.Task.View) -> tuple[tasks_v2.Task, Push]:
        """Start an attempt now, even if the queue is paused or the task is already running."""
        with self._lock:
            record = self._task(name)
            push = self._start_attempt(record, self.clock.now())
            return tasks.view(record.task, view), push

    # -- dispatch

    def take_due(self) -> tuple[list[Push], datetime | None]:
        """Start the attempts that are due now; also returns when the next one is due."""
        pushes = []
        with self._lock:
            now = self.clock.now()
            while self._due and self._due[0][0] <= now:
                _, version, name = heapq.heappop(self._due)
                record = self._tasks.get(name)
                if record is None or record.version != version or record.in_flight:
                    continue  # stale: removed, rescheduled, or its attempt will reschedule it
                if self._queue_of(record).queue.state != tasks_v2.Queue.State.RUNNING:
                    continue  # ResumeQueue schedules it again
                pushes.append(self._start_attempt(record, now))
            return pushes, self._due[0][0] if self._due else None

    def finish(self, push: Push, delivery: dispatching.Delivery) -> None:
        """Record an attempt's outcome: done, retried after backoff, or dropped."""
        with self._lock:
            record = self._tasks.get(push.task_name)
            if record is None or record.incarnation != push.incarnation:
                return  # deleted or purged while the request was on its way
            now = self.clock.now()
            record.in_flight -= 1
            task = record.task
            task.last_attempt.response_time = now
            task.last_attempt.response_status = delivery.rpc_status()
            if delivery.status is not None:
                task.response_count += 1
                record.previous_response = delivery.status
                if delivery.status < 500:
                    record.executions += 1
            config = tasks.retry_config(task, self._queue_of(record).queue)
            first = record.first_dispatch or now
            if delivery.ok or retries.exhausted(config, task.dispatch_count, first, now):
                self._remove(push.task_name, now)
            elif not record.in_flight:
                task.schedule_time = now + retries.backoff(config, task.dispatch_count)
                self._schedule(record)
        self.on_change()

    # -- internals (called with the lock held)

    def _queue(self, name: str) -> _QueueRecord:
        names.queue(name)
        record = self._queues.get(name)
        if record is None:
            raise serving.ApiError(grpc.StatusCode.NOT_FOUND, f"{QUEUE_NOT_FOUND} ({name})")
        return record

    def _queue_of(self, record: _TaskRecord) -> _QueueRecord:
        return self._queues[record.task.name.rsplit("/tasks/", 1)[0]]

    def _task(self, name: str) -> _TaskRecord:
        names.task(name)
        record = self._tasks.get(name)
        if record is None:
            gone = self._tombstoned(name, self.clock.now())
            raise serving.ApiError(grpc.StatusCode.NOT_FOUND, TASK_GONE if gone else TASK_NOT_FOUND)
        return record

    def _schedule(self, record: _TaskRecord) -> None:
        record.version = next(self._sequence)
        heapq.heappush(self._due, (record.task.schedule_time, record.version, record.task.name))

    def _start_attempt(self, record: _TaskRecord, now: datetime) -> Push:
        task = record.task
        retry_count = task.dispatch_count
        task.dispatch_count += 1
        task.last_attempt = tasks_v2.Attempt(schedule_time=task.schedule_time, dispatch_time=now)
        if record.first_dispatch is None:
            record.first_dispatch = now
            # Google keeps only the dispatch time of the first attempt.
            task.first_attempt = tasks_v2.Attempt(dispatch_time=now)
        record.in_flight += 1
        request = task.http_request
        task_name = names.task(task.name)
        oidc = None
        if "oidc_token" in request:
            oidc = (request.oidc_token.service_account_email, request.oidc_token.audience)
        return Push(
            task_name=task.name,
            incarnation=record.incarnation,
            queue_id=task_name.queue_name.queue,
            task_id=task_name.task,
            url=request.url,
            method=request.http_method.name,
            body=request.body,
            headers=dict(request.headers),
            oidc=oidc,
            timeout=task.dispatch_deadline.total_seconds(),
            retry_count=retry_count,
            execution_count=record.executions,
            eta=task.schedule_time,
            previous_response=record.previous_response,
        )

    def _remove(self, name: str, now: datetime) -> None:
        record = self._tasks.pop(name)
        del self._queue_of(record).tasks[name]
        self._tombstones[name] = now + self.tombstone
        if len(self._tombstones) > self._sweep_at:
            self._tombstones = {key: end for key, end in self._tombstones.items() if end > now}
            self._sweep_at = max(1024, 2 * len(self._tombstones))

    def _tombstoned(self, name: str, now: datetime) -> bool:
        end = self._tombstones.get(name)
        if end is not None and end <= now:
            del self._tombstones[name]
            return False
        return end is not None


def _invalid(message: str) -> serving.ApiError:
    return serving.ApiError(grpc.StatusCode.INVALID_ARGUMENT, message)
