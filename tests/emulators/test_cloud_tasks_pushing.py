import dataclasses
import queue
from datetime import UTC, datetime

import pytest
from google.rpc import code_pb2

from emulators import clock, dispatching
from emulators.cloud_tasks import pushing, state
from emulators.testing import PushTarget

ETA = datetime(2025, 1, 15, 12, 0, 0, 250000, tzinfo=UTC)


def push(headers: dict[str, str], body: bytes = b"", previous: int | None = None) -> state.Push:
    return state.Push(
        task_name="projects/p/locations/l/queues/q/tasks/t",
        incarnation=1,
        queue_id="q",
        task_id="t",
        url="http://127.0.0.1/",
        method="POST",
        body=body,
        headers=headers,
        oidc=None,
        timeout=600.0,
        retry_count=2,
        execution_count=1,
        eta=ETA,
        previous_response=previous,
    )


def test_cloud_tasks_headers() -> None:
    assert pushing.headers(push({}, previous=503)) == {
        "User-Agent": "Google-Cloud-Tasks",
        "X-CloudTasks-QueueName": "q",
        "X-CloudTasks-TaskName": "t",
        "X-CloudTasks-TaskRetryCount": "2",
        "X-CloudTasks-TaskExecutionCount": "1",
        "X-CloudTasks-TaskETA": "1736942400.250000",
        "X-CloudTasks-TaskPreviousResponse": "503",
    }


@pytest.mark.parametrize(
    ("given", "body", "kept"),
    [
        ({"X-Custom": "1"}, b"", {"X-Custom": "1"}),
        ({}, b"x", {"Content-Type": "application/octet-stream"}),
        ({"content-type": "text/plain"}, b"x", {"content-type": "text/plain"}),
        ({"Host": "evil", "Content-Length": "9", "Hostname": "ok"}, b"", {"Hostname": "ok"}),
        ({"X-Google-A": "1", "x-appengine-b": "2", "X-CloudTasks-TaskName": "fake"}, b"", {}),
    ],
)
def test_task_headers_except_reserved_ones(
    given: dict[str, str], body: bytes, kept: dict[str, str]
) -> None:
    sent = pushing.headers(push(given, body))
    own = {k: v for k, v in sent.items() if k != "User-Agent" and not k.startswith("X-CloudTasks-")}
    assert own == kept
    assert sent["X-CloudTasks-TaskName"] == "t"


class Outcomes:
    """Stands in for the state: nothing comes due by itself; finished attempts are kept."""

    def __init__(self) -> None:
        self.finished: queue.SimpleQueue[dispatching.Delivery] = queue.SimpleQueue()

    def take_due(self) -> tuple[list[state.Push], None]:
        return [], None

    def finish(self, push: state.Push, delivery: dispatching.Delivery) -> None:
        self.finished.put(delivery)


def test_the_dispatch_deadline_is_the_http_timeout(push_target: PushTarget) -> None:
    push_target.delay = 3.0
    outcomes = Outcomes()
    dispatcher = pushing.Dispatcher(outcomes, clock.ManualClock(), None, senders=1)  # type: ignore[arg-type]
    dispatcher.start()
    try:
        dispatcher.submit(dataclasses.replace(push({}), url=push_target.url, timeout=0.3))
        delivery = outcomes.finished.get(timeout=2)  # long before the target would answer
    finally:
        dispatcher.stop()
    assert delivery.status is None and "Timeout" in (delivery.error or "")
    assert delivery.rpc_status().code == code_pb2.DEADLINE_EXCEEDED
    assert len(push_target.received) == 1
