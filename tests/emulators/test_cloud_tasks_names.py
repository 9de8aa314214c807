import grpc
import pytest

from emulators import serving
from emulators.cloud_tasks import names

QUEUE = "projects/my-project/locations/europe-west1/queues/default"


@pytest.mark.parametrize(
    "name",
    [
        "projects/my-project/locations/europe-west1",
        "projects/example.com:my-project/locations/us-central1",
    ],
)
def test_valid_locations(name: str) -> None:
    assert names.location(name) == name


@pytest.mark.parametrize(
    "name",
    ["", "projects/p", "projects/p/locations/", "projects//locations/l", "projects/p/regions/l"],
)
def test_invalid_locations(name: str) -> None:
    with pytest.raises(serving.ApiError, match="Location name must be formatted") as caught:
        names.location(name)
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT


def test_queue_name_parts() -> None:
    parsed = names.queue(QUEUE)
    assert (parsed.project, parsed.location, parsed.queue) == (
        "my-project",
        "europe-west1",
        "default",
    )
    assert str(parsed) == QUEUE
    assert parsed.parent == "projects/my-project/locations/europe-west1"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("default", "Queue name must be formatted"),
        ("projects/p/locations/l/queues/", "Queue name must be formatted"),
        ("projects/p/locations/l/queues/a/b", "Queue name must be formatted"),
        ("projects/p/locations/l/queues/my_queue", 'Queue ID "my_queue" can contain only letters'),
        ("projects/p/locations/l/queues/" + "q" * 101, "between 1 and 100 characters"),
    ],
)
def test_invalid_queue_names(name: str, message: str) -> None:
    with pytest.raises(serving.ApiError, match=message) as caught:
        names.queue(name)
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize("task_id", ["t", "a_b-C9", "x" * 500, "0123456789abcdef-send_email"])
def test_valid_task_names(task_id: str) -> None:
    parsed = names.task(f"{QUEUE}/tasks/{task_id}")
    assert (str(parsed.queue_name), parsed.task) == (QUEUE, task_id)
    assert str(parsed) == f"{QUEUE}/tasks/{task_id}"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("t1", "Task name must be formatted"),
        (QUEUE + "/tasks/", "Task name must be formatted"),
        (QUEUE + "/tasks/a.b", 'Task ID "a.b" can contain only letters'),
        (QUEUE + "/tasks/" + "x" * 501, "between 1 and 500 characters"),
        ("projects/p/locations/l/queues/bad_q/tasks/t", 'Queue ID "bad_q"'),
    ],
)
def test_invalid_task_names(name: str, message: str) -> None:
    with pytest.raises(serving.ApiError, match=message) as caught:
        names.task(name)
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT
