from collections.abc import Iterator

import grpc
import pytest
from google.api_core import exceptions
from google.cloud import scheduler_v1, tasks_v2
from google.protobuf import empty_pb2, field_mask_pb2

from emulators import recording, serving
from emulators.testing import tasks_client

QUEUE = "projects/p/locations/l/queues/q"


class Fake:
    """A tiny CloudTasks service: enough to exercise the generic handler end to end."""

    def get_queue(self, request: tasks_v2.GetQueueRequest) -> tasks_v2.Queue:
        if request.name.endswith("/missing"):
            raise serving.ApiError(grpc.StatusCode.NOT_FOUND, "Queue does not exist.")
        if request.name.endswith("/broken"):
            raise RuntimeError("boom")
        return tasks_v2.Queue(name=request.name, state=tasks_v2.Queue.State.PAUSED)

    def update_queue(self, request: tasks_v2.UpdateQueueRequest) -> tasks_v2.Queue:
        return request.queue

    def delete_queue(self, request: tasks_v2.DeleteQueueRequest) -> empty_pb2.Empty:
        return empty_pb2.Empty()


@pytest.fixture
def served() -> Iterator[tuple[tasks_v2.CloudTasksClient, recording.RequestLog]]:
    fake, log = Fake(), recording.RequestLog()
    handler = serving.generic_handler(
        "google.cloud.tasks.v2.CloudTasks",
        {
            "GetQueue": (fake.get_queue, tasks_v2.GetQueueRequest, tasks_v2.Queue),
            "UpdateQueue": (fake.update_queue, tasks_v2.UpdateQueueRequest, tasks_v2.Queue),
            "DeleteQueue": (fake.delete_queue, tasks_v2.DeleteQueueRequest, empty_pb2.Empty),
        },
        log,
    )
    server, port = serving.serve([handler])
    client = tasks_client(f"127.0.0.1:{port}")
    yield client, log
    client.transport.close()
    server.stop(None).wait()


def test_googles_client_gets_the_response(served) -> None:
    client, log = served
    queue = client.get_queue(name=QUEUE)
    assert (queue.name, queue.state) == (QUEUE, tasks_v2.Queue.State.PAUSED)
    client.delete_queue(name=QUEUE)  # an Empty response, which is not a proto-plus class
    assert [(entry.method, entry.resource) for entry in log.entries] == [
        ("GetQueue", QUEUE),
        ("DeleteQueue", QUEUE),
    ]
    assert {entry.service for entry in log.entries} == {"google.cloud.tasks.v2.CloudTasks"}


def test_update_mask_is_recorded(served) -> None:
    client, log = served
    client.update_queue(
        queue=tasks_v2.Queue(name=QUEUE),
        update_mask=field_mask_pb2.FieldMask(paths=["retry_config.max_attempts"]),
    )
    (entry,) = log.writes()
    assert (entry.method, entry.resource, entry.update_mask) == (
        "UpdateQueue",
        QUEUE,
        ("retry_config.max_attempts",),
    )


def test_api_error_becomes_its_status(served) -> None:
    client, _ = served
    with pytest.raises(exceptions.NotFound, match="Queue does not exist"):
        client.get_queue(name="projects/p/locations/l/queues/missing")


def test_unexpected_exception_becomes_internal(served) -> None:
    client, log = served
    with pytest.raises(exceptions.InternalServerError, match="RuntimeError: boom"):
        client.get_queue(name="projects/p/locations/l/queues/broken", retry=None)
    assert log.count("GetQueue") == 1


def test_unregistered_method_is_unimplemented(served) -> None:
    client, _ = served
    with pytest.raises(exceptions.MethodNotImplemented):
        client.list_queues(parent="projects/p/locations/l")


@pytest.mark.parametrize(
    ("request_message", "resource"),
    [
        (tasks_v2.GetTaskRequest(name=QUEUE + "/tasks/t"), QUEUE + "/tasks/t"),
        (tasks_v2.ListTasksRequest(parent=QUEUE), QUEUE),
        (tasks_v2.CreateTaskRequest(parent=QUEUE, task={"name": QUEUE + "/tasks/t"}), QUEUE),
        (tasks_v2.UpdateQueueRequest(queue={"name": QUEUE}), QUEUE),
        (
            scheduler_v1.UpdateJobRequest(job={"name": "projects/p/locations/l/jobs/j"}),
            "projects/p/locations/l/jobs/j",
        ),
        (tasks_v2.UpdateQueueRequest(), ""),
        (empty_pb2.Empty(), ""),
    ],
)
def test_resource_of(request_message: object, resource: str) -> None:
    assert serving.resource_of(request_message) == resource


def test_copy_message_is_deep() -> None:
    original = tasks_v2.Queue(name=QUEUE)
    copied = serving.copy_message(original)
    copied.retry_config.max_attempts = 3
    assert original.retry_config.max_attempts == 0
    raw = field_mask_pb2.FieldMask(paths=["a"])
    raw_copy = serving.copy_message(raw)
    raw_copy.paths.append("b")
    assert list(raw.paths) == ["a"]


def test_serve_on_a_busy_port_fails_loudly(served) -> None:
    server, port = serving.serve([])
    try:
        with pytest.raises(OSError, match="cannot listen"):
            serving.serve([], port=port)
    finally:
        server.stop(None).wait()
