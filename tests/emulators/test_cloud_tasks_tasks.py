"""Cloud Tasks tasks through Google's own client: creation, dedup with tombstones, views, lists."""

from datetime import timedelta

import pytest
from google.api_core import exceptions
from google.cloud import tasks_v2

from emulators import running
from emulators.testing import PushTarget, eventually, tasks_client

QUEUE = "projects/my-project/locations/europe-west1/queues/default"
BASIC, FULL = tasks_v2.Task.View.BASIC, tasks_v2.Task.View.FULL
URL = {"http_request": {"url": "http://127.0.0.1/"}}


@pytest.fixture
def queue(tasks_api: tasks_v2.CloudTasksClient) -> str:
    tasks_api.create_queue(parent=QUEUE.rsplit("/queues/", 1)[0], queue={"name": QUEUE})
    return QUEUE


@pytest.fixture
def paused_queue(tasks_api: tasks_v2.CloudTasksClient, queue: str) -> str:
    tasks_api.pause_queue(name=queue)
    return queue


def http_task(url: str, name: str = "", **fields: object) -> tasks_v2.Task:
    task = tasks_v2.Task(http_request=tasks_v2.HttpRequest(url=url, body=b"payload"), **fields)
    if name:
        task.name = f"{QUEUE}/tasks/{name}"
    return task


def exists(api: tasks_v2.CloudTasksClient, name: str) -> bool:
    try:
        api.get_task(name=name)
    except exceptions.NotFound:
        return False
    return True


def test_create_returns_googles_output_fields(
    tasks_api: tasks_v2.CloudTasksClient,
    cloud_tasks_emulator: running.Service,
    paused_queue: str,
    push_target: PushTarget,
) -> None:
    created = tasks_api.create_task(parent=paused_queue, task=http_task(push_target.url, "t1"))
    now = cloud_tasks_emulator.clock.now()
    assert created.name == f"{QUEUE}/tasks/t1"
    assert (created.create_time, created.schedule_time) == (now, now)
    assert created.dispatch_deadline == timedelta(minutes=10)
    assert (created.dispatch_count, created.response_count) == (0, 0)
    assert created.http_request.http_method == tasks_v2.HttpMethod.POST
    assert (created.view, created.http_request.body) == (BASIC, b"")


def test_full_view_includes_the_body(
    tasks_api: tasks_v2.CloudTasksClient, paused_queue: str, push_target: PushTarget
) -> None:
    created = tasks_api.create_task(
        request={"parent": paused_queue, "task": http_task(push_target.url), "response_view": FULL}
    )
    assert (created.view, created.http_request.body) == (FULL, b"payload")
    assert tasks_api.get_task(name=created.name).http_request.body == b""
    fetched = tasks_api.get_task(request={"name": created.name, "response_view": FULL})
    assert fetched.http_request.body == b"payload"


def test_named_task_created_twice_already_exists(
    tasks_api: tasks_v2.CloudTasksClient, paused_queue: str, push_target: PushTarget
) -> None:
    tasks_api.create_task(parent=paused_queue, task=http_task(push_target.url, "once"))
    with pytest.raises(exceptions.AlreadyExists, match="Requested entity already exists"):
        tasks_api.create_task(parent=paused_queue, task=http_task(push_target.url, "once"))
    assert len(list(tasks_api.list_tasks(parent=paused_queue))) == 1


def test_unnamed_tasks_are_never_deduplicated(
    tasks_api: tasks_v2.CloudTasksClient, paused_queue: str, push_target: PushTarget
) -> None:
    first = tasks_api.create_task(parent=paused_queue, task=http_task(push_target.url))
    second = tasks_api.create_task(parent=paused_queue, task=http_task(push_target.url))
    assert first.name != second.name
    assert first.name.startswith(f"{QUEUE}/tasks/")
    assert first.name.rsplit("/", 1)[1].isdigit()


def test_name_stays_taken_after_dispatch_until_the_tombstone_expires(
    tasks_api: tasks_v2.CloudTasksClient,
    cloud_tasks_emulator: running.Service,
    queue: str,
    push_target: PushTarget,
) -> None:
    name = f"{QUEUE}/tasks/dispatched"
    tasks_api.create_task(parent=queue, task=http_task(push_target.url, "dispatched"))
    eventually(lambda: not exists(tasks_api, name))
    assert len(push_target.received) == 1
    with pytest.raises(exceptions.NotFound, match="existed recently"):
        tasks_api.get_task(name=name)
    cloud_tasks_emulator.clock.advance(timedelta(minutes=59, seconds=59))
    with pytest.raises(exceptions.AlreadyExists):
        tasks_api.create_task(parent=queue, task=http_task(push_target.url, "dispatched"))
    cloud_tasks_emulator.clock.advance(1)
    tasks_api.create_task(parent=queue, task=http_task(push_target.url, "dispatched"))
    eventually(lambda: len(push_target.received) == 2)


def test_name_stays_taken_after_delete_until_the_tombstone_expires(
    tasks_api: tasks_v2.CloudTasksClient,
    cloud_tasks_emulator: running.Service,
    paused_queue: str,
    push_target: PushTarget,
) -> None:
    created = tasks_api.create_task(parent=paused_queue, task=http_task(push_target.url, "gone"))
    tasks_api.delete_task(name=created.name)
    assert not exists(tasks_api, created.name)
    with pytest.raises(exceptions.AlreadyExists):
        tasks_api.create_task(parent=paused_queue, task=http_task(push_target.url, "gone"))
    cloud_tasks_emulator.clock.advance(3599)
    with pytest.raises(exceptions.AlreadyExists):
        tasks_api.create_task(parent=paused_queue, task=http_task(push_target.url, "gone"))
    cloud_tasks_emulator.clock.advance(1)
    again = tasks_api.create_task(parent=paused_queue, task=http_task(push_target.url, "gone"))
    assert again.name == created.name
    assert exists(tasks_api, created.name)


def test_tombstone_window_is_configurable(
    emulator_clock, oidc_issuer, push_target: PushTarget
) -> None:
    service = running.start_tasks(clock=emulator_clock, issuer=oidc_issuer, tombstone_seconds=5)
    client = tasks_client(service.host)
    try:
        client.create_queue(parent=QUEUE.rsplit("/queues/", 1)[0], queue={"name": QUEUE})
        client.pause_queue(name=QUEUE)
        client.create_task(parent=QUEUE, task=http_task(push_target.url, "short"))
        client.delete_task(name=f"{QUEUE}/tasks/short")
        with pytest.raises(exceptions.AlreadyExists):
            client.create_task(parent=QUEUE, task=http_task(push_target.url, "short"))
        emulator_clock.advance(5)
        client.create_task(parent=QUEUE, task=http_task(push_target.url, "short"))
    finally:
        client.transport.close()
        service.stop()


def test_list_tasks_pages(
    tasks_api: tasks_v2.CloudTasksClient, paused_queue: str, push_target: PushTarget
) -> None:
    for n in range(5):
        tasks_api.create_task(parent=paused_queue, task=http_task(push_target.url, f"t{n}"))
    pager = tasks_api.list_tasks(request={"parent": paused_queue, "page_size": 2})
    pages = [[t.name.rsplit("/", 1)[1] for t in page.tasks] for page in pager.pages]
    assert pages == [["t0", "t1"], ["t2", "t3"], ["t4"]]
    first = next(iter(tasks_api.list_tasks(request={"parent": paused_queue, "page_size": 4}).pages))
    assert first.next_page_token
    assert all(task.http_request.body == b"" for task in first.tasks)
    full = tasks_api.list_tasks(request={"parent": paused_queue, "response_view": FULL})
    assert {task.http_request.body for task in full} == {b"payload"}


def test_delete_removes_the_task(
    tasks_api: tasks_v2.CloudTasksClient, paused_queue: str, push_target: PushTarget
) -> None:
    kept = tasks_api.create_task(parent=paused_queue, task=http_task(push_target.url, "kept"))
    dropped = tasks_api.create_task(parent=paused_queue, task=http_task(push_target.url, "drop"))
    tasks_api.delete_task(name=dropped.name)
    assert [t.name for t in tasks_api.list_tasks(parent=paused_queue)] == [kept.name]
    with pytest.raises(exceptions.NotFound):
        tasks_api.delete_task(name=dropped.name)


@pytest.mark.parametrize(
    ("task", "error", "message"),
    [
        ({"name": "t1", **URL}, exceptions.InvalidArgument, "Task name must be formatted"),
        ({"name": f"{QUEUE}/tasks/a.b", **URL}, exceptions.InvalidArgument, 'Task ID "a.b"'),
        (
            {"name": "projects/my-project/locations/europe-west1/queues/other/tasks/t", **URL},
            exceptions.InvalidArgument,
            "must be the same as the queue name",
        ),
        ({"http_request": {"url": "ftp://example.com/"}}, exceptions.InvalidArgument, "url"),
        ({"http_request": {"url": "/relative"}}, exceptions.InvalidArgument, "url"),
        (
            {"http_request": {"url": "http://x/", "http_method": "GET", "body": b"b"}},
            exceptions.InvalidArgument,
            "body is allowed only",
        ),
        ({}, exceptions.InvalidArgument, "http_request"),
        (
            {"http_request": {"url": "http://x/"}, "dispatch_deadline": timedelta(seconds=5)},
            exceptions.InvalidArgument,
            "dispatch_deadline",
        ),
        (
            {"http_request": {"url": "http://x/"}, "schedule_time": "2025-03-01T00:00:00Z"},
            exceptions.InvalidArgument,
            "30 days",
        ),
        (
            {"http_request": {"url": "http://x/", "oidc_token": {"audience": "a"}}},
            exceptions.InvalidArgument,
            "service_account_email",
        ),
        (
            {"http_request": {"url": "http://x/", "oauth_token": {"service_account_email": "a"}}},
            exceptions.MethodNotImplemented,
            "OAuth",
        ),
        (
            {"app_engine_http_request": {"relative_uri": "/run"}},
            exceptions.MethodNotImplemented,
            "App Engine",
        ),
    ],
)
def test_create_refuses_what_google_refuses_and_creates_nothing(
    tasks_api: tasks_v2.CloudTasksClient,
    paused_queue: str,
    task: dict,
    error: type[Exception],
    message: str,
) -> None:
    # The fixture clock starts on 2025-01-15, so 2025-03-01 is more than 30 days ahead.
    with pytest.raises(error, match=message):
        tasks_api.create_task(parent=paused_queue, task=task)
    assert list(tasks_api.list_tasks(parent=paused_queue)) == []


def test_create_in_a_missing_queue_is_not_found(
    tasks_api: tasks_v2.CloudTasksClient, push_target: PushTarget
) -> None:
    with pytest.raises(exceptions.NotFound, match="Queue does not exist"):
        tasks_api.create_task(parent=QUEUE, task=http_task(push_target.url))


def test_create_with_a_bad_parent_is_invalid(
    tasks_api: tasks_v2.CloudTasksClient, push_target: PushTarget
) -> None:
    with pytest.raises(exceptions.InvalidArgument, match="Queue name must be formatted"):
        tasks_api.create_task(parent="projects/p/queues/q", task=http_task(push_target.url))


@pytest.mark.parametrize(
    "call",
    [
        lambda api: api.get_task(name=f"{QUEUE}/tasks/missing"),
        lambda api: api.delete_task(name=f"{QUEUE}/tasks/missing"),
        lambda api: api.run_task(name=f"{QUEUE}/tasks/missing"),
    ],
    ids=["get", "delete", "run"],
)
def test_missing_task_is_not_found(tasks_api: tasks_v2.CloudTasksClient, queue: str, call) -> None:
    with pytest.raises(exceptions.NotFound, match="Task does not exist"):
        call(tasks_api)


def test_bad_task_name_on_get_is_invalid(tasks_api: tasks_v2.CloudTasksClient) -> None:
    with pytest.raises(exceptions.InvalidArgument):
        tasks_api.get_task(name="projects/p/locations/l/queues/q/tasks/no.dots")


def test_oidc_task_needs_an_issuer(emulator_clock, push_target: PushTarget) -> None:
    service = running.start_tasks(clock=emulator_clock, issuer=None)
    client = tasks_client(service.host)
    try:
        client.create_queue(parent=QUEUE.rsplit("/queues/", 1)[0], queue={"name": QUEUE})
        with pytest.raises(exceptions.FailedPrecondition, match="without an OIDC issuer"):
            client.create_task(
                parent=QUEUE,
                task={
                    "http_request": {
                        "url": push_target.url,
                        "oidc_token": {"service_account_email": "sa@p.iam.gserviceaccount.com"},
                    }
                },
            )
    finally:
        client.transport.close()
        service.stop()


def test_requests_are_recorded(
    tasks_api: tasks_v2.CloudTasksClient,
    cloud_tasks_emulator: running.Service,
    paused_queue: str,
    push_target: PushTarget,
) -> None:
    created = tasks_api.create_task(parent=paused_queue, task=http_task(push_target.url, "r"))
    tasks_api.get_task(name=created.name)
    log = cloud_tasks_emulator.requests
    assert [(r.method, r.resource) for r in log.entries] == [
        ("CreateQueue", "projects/my-project/locations/europe-west1"),
        ("PauseQueue", QUEUE),
        ("CreateTask", QUEUE),
        ("GetTask", created.name),
    ]
    assert [r.method for r in log.writes()] == ["CreateQueue", "PauseQueue", "CreateTask"]
