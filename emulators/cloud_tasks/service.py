"""The `google.cloud.tasks.v2.CloudTasks` gRPC service, backed by the in-memory state."""

from __future__ import annotations

import re

import grpc
from google.cloud import tasks_v2
from google.protobuf import empty_pb2

from emulators import clock as clocks
from emulators import faults, oidc, recording, serving
from emulators.cloud_tasks import pushing, state

SERVICE = "google.cloud.tasks.v2.CloudTasks"
_STATE_FILTER = re.compile(r"\s*state\s*[:=]\s*(\w+)\s*")


class CloudTasksEmulator:
    """Cloud Tasks queues and HTTP tasks, dispatched on `clock`'s time with OIDC from `issuer`."""

    def __init__(
        self,
        *,
        clock: clocks.Clock,
        issuer: oidc.Issuer | None,
        log: recording.RequestLog,
        tombstone_seconds: float = 3600,
        senders: int = 8,
    ) -> None:
        self.clock = clock
        self.issuer = issuer
        self.log = log
        self.faults = faults.Faults()  # tests inject errors and lost answers here
        self.state = state.State(
            clock, tombstone_seconds=tombstone_seconds, can_sign=issuer is not None
        )
        self._dispatcher = pushing.Dispatcher(self.state, clock, issuer, senders=senders)
        self.state.on_change = self._dispatcher.wake

    @property
    def requests(self) -> recording.RequestLog:
        return self.log

    def start(self) -> CloudTasksEmulator:
        self._dispatcher.start()
        return self

    def stop(self) -> None:
        self._dispatcher.stop()

    def handler(self) -> grpc.GenericRpcHandler:
        t = tasks_v2
        methods: dict[str, serving.Method] = {
            "CreateQueue": (self.create_queue, t.CreateQueueRequest, t.Queue),
            "GetQueue": (self.get_queue, t.GetQueueRequest, t.Queue),
            "ListQueues": (self.list_queues, t.ListQueuesRequest, t.ListQueuesResponse),
            "UpdateQueue": (self.update_queue, t.UpdateQueueRequest, t.Queue),
            "PauseQueue": (self.pause_queue, t.PauseQueueRequest, t.Queue),
            "ResumeQueue": (self.resume_queue, t.ResumeQueueRequest, t.Queue),
            "PurgeQueue": (self.purge_queue, t.PurgeQueueRequest, t.Queue),
            "DeleteQueue": (self.delete_queue, t.DeleteQueueRequest, empty_pb2.Empty),
            "CreateTask": (self.create_task, t.CreateTaskRequest, t.Task),
            "GetTask": (self.get_task, t.GetTaskRequest, t.Task),
            "ListTasks": (self.list_tasks, t.ListTasksRequest, t.ListTasksResponse),
            "DeleteTask": (self.delete_task, t.DeleteTaskRequest, empty_pb2.Empty),
            "RunTask": (self.run_task, t.RunTaskRequest, t.Task),
        }
        return serving.generic_handler(SERVICE, methods, self.log, self.faults)

    # -- queues

    def create_queue(self, request: tasks_v2.CreateQueueRequest) -> tasks_v2.Queue:
        return self.state.create_queue(request.parent, request.queue)

    def get_queue(self, request: tasks_v2.GetQueueRequest) -> tasks_v2.Queue:
        return self.state.get_queue(request.name)

    def list_queues(self, request: tasks_v2.ListQueuesRequest) -> tasks_v2.ListQueuesResponse:
        queues, token = self.state.list_queues(
            request.parent, _state_filter(request.filter), request.page_size, request.page_token
        )
        return tasks_v2.ListQueuesResponse(queues=queues, next_page_token=token)

    def update_queue(self, request: tasks_v2.UpdateQueueRequest) -> tasks_v2.Queue:
        mask = list(request.update_mask.paths) if "update_mask" in request else []
        return self.state.update_queue(request.queue, mask)

    def pause_queue(self, request: tasks_v2.PauseQueueRequest) -> tasks_v2.Queue:
        return self.state.set_queue_state(request.name, tasks_v2.Queue.State.PAUSED)

    def resume_queue(self, request: tasks_v2.ResumeQueueRequest) -> tasks_v2.Queue:
        return self.state.set_queue_state(request.name, tasks_v2.Queue.State.RUNNING)

    def purge_queue(self, request: tasks_v2.PurgeQueueRequest) -> tasks_v2.Queue:
        return self.state.purge_queue(request.name)

    def delete_queue(self, request: tasks_v2.DeleteQueueRequest) -> empty_pb2.Empty:
        self.state.delete_queue(request.name)
        return empty_pb2.Empty()

    # -- tasks

    def create_task(self, request: tasks_v2.CreateTaskRequest) -> tasks_v2.Task:
        return self.state.create_task(request.parent, request.task, request.response_view)

    def get_task(self, request: tasks_v2.GetTaskRequest) -> tasks_v2.Task:
        return self.state.get_task(request.name, request.response_view)

    def list_tasks(self, request: tasks_v2.ListTasksRequest) -> tasks_v2.ListTasksResponse:
        found, token = self.state.list_tasks(
            request.parent, request.response_view, request.page_size, request.page_token
        )
        return tasks_v2.ListTasksResponse(tasks=found, next_page_token=token)

    def delete_task(self, request: tasks_v2.DeleteTaskRequest) -> empty_pb2.Empty:
        self.state.delete_task(request.name)
        return empty_pb2.Empty()

    def run_task(self, request: tasks_v2.RunTaskRequest) -> tasks_v2.Task:
        task, push = self.state.run_task(request.name, request.response_view)
        self._dispatcher.submit(push)
        return task


def _state_filter(text: str) -> tasks_v2.Queue.State | None:
    """Google's ListQueues supports only `state: PAUSED`-style filters."""
    if not text.strip():
        return None
    match = _STATE_FILTER.fullmatch(text)
    if not match or match[1].upper() not in ("RUNNING", "PAUSED", "DISABLED"):
        raise serving.ApiError(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"Unsupported filter {text!r}: only 'state: PAUSED' or 'state: RUNNING' is supported",
        )
    return tasks_v2.Queue.State[match[1].upper()]
