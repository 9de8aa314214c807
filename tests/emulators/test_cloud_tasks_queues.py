"""Cloud Tasks queues through Google's own client against the emulator."""

from datetime import timedelta

import pytest
from google.api_core import exceptions
from google.cloud import tasks_v2
from google.protobuf import field_mask_pb2

from emulators import running
from emulators.testing import PushTarget

PARENT = "projects/my-project/locations/europe-west1"


def queue_name(queue_id: str, parent: str = PARENT) -> str:
    return f"{parent}/queues/{queue_id}"


def create(client: tasks_v2.CloudTasksClient, queue_id: str, **fields: object) -> tasks_v2.Queue:
    return client.create_queue(
        parent=PARENT, queue=tasks_v2.Queue(name=queue_name(queue_id), **fields)
    )


def mask(*paths: str) -> field_mask_pb2.FieldMask:
    return field_mask_pb2.FieldMask(paths=list(paths))


def test_create_fills_googles_defaults(tasks_api: tasks_v2.CloudTasksClient) -> None:
    created = create(tasks_api, "default")
    assert created == tasks_api.get_queue(name=queue_name("default"))
    assert created.state == tasks_v2.Queue.State.RUNNING
    retry = created.retry_config
    assert (retry.max_attempts, retry.min_backoff, retry.max_backoff, retry.max_doublings) == (
        100,
        timedelta(seconds=0.1),
        timedelta(seconds=3600),
        16,
    )
    limits = created.rate_limits
    assert (
        limits.max_dispatches_per_second,
        limits.max_burst_size,
        limits.max_concurrent_dispatches,
    ) == (500, 100, 1000)


def test_create_keeps_a_given_retry_config(tasks_api: tasks_v2.CloudTasksClient) -> None:
    created = create(
        tasks_api, "custom", retry_config=tasks_v2.RetryConfig(max_attempts=5, max_doublings=2)
    )
    assert (created.retry_config.max_attempts, created.retry_config.max_doublings) == (5, 2)
    assert created.retry_config.min_backoff == timedelta(seconds=0.1)


def test_create_twice_already_exists(tasks_api: tasks_v2.CloudTasksClient) -> None:
    create(tasks_api, "twice")
    with pytest.raises(exceptions.AlreadyExists):
        create(tasks_api, "twice")


@pytest.mark.parametrize(
    ("parent", "name", "message"),
    [
        (PARENT, queue_name("under_score"), 'Queue ID "under_score" can contain only letters'),
        (PARENT, "just-a-queue", "Queue name must be formatted"),
        (PARENT, queue_name("q", "projects/other/locations/europe-west1"), "must be in the parent"),
        ("projects/my-project", queue_name("q"), "Location name must be formatted"),
    ],
)
def test_create_refuses_bad_names(
    tasks_api: tasks_v2.CloudTasksClient,
    cloud_tasks_emulator: running.Service,
    parent: str,
    name: str,
    message: str,
) -> None:
    with pytest.raises(exceptions.InvalidArgument, match=message):
        tasks_api.create_queue(parent=parent, queue=tasks_v2.Queue(name=name))
    assert list(tasks_api.list_queues(parent=PARENT)) == []


@pytest.mark.parametrize(
    "queue",
    [
        {"http_target": {"uri_override": {"host": "example.com"}}},
        {"app_engine_routing_override": {"service": "worker"}},
    ],
)
def test_unsupported_queue_overrides_are_unimplemented(
    tasks_api: tasks_v2.CloudTasksClient, queue: dict
) -> None:
    with pytest.raises(exceptions.MethodNotImplemented):
        create(tasks_api, "overridden", **queue)


@pytest.mark.parametrize(
    "call",
    [
        lambda api: api.get_queue(name=queue_name("missing")),
        lambda api: api.pause_queue(name=queue_name("missing")),
        lambda api: api.resume_queue(name=queue_name("missing")),
        lambda api: api.purge_queue(name=queue_name("missing")),
        lambda api: api.delete_queue(name=queue_name("missing")),
        lambda api: api.list_tasks(parent=queue_name("missing")),
    ],
    ids=["get", "pause", "resume", "purge", "delete", "list-tasks"],
)
def test_missing_queue_is_not_found(tasks_api: tasks_v2.CloudTasksClient, call) -> None:
    with pytest.raises(exceptions.NotFound, match="Queue does not exist"):
        call(tasks_api)


def test_list_pages_with_tokens_and_stays_in_its_location(
    tasks_api: tasks_v2.CloudTasksClient,
) -> None:
    for queue_id in ("q-e", "q-a", "q-c", "q-b", "q-d"):
        create(tasks_api, queue_id)
    tasks_api.create_queue(
        parent="projects/my-project/locations/us-east1",
        queue={"name": "projects/my-project/locations/us-east1/queues/elsewhere"},
    )
    first = tasks_api.list_queues(request={"parent": PARENT, "page_size": 2})
    raw = next(iter(first.pages))
    assert [q.name.rsplit("/", 1)[1] for q in raw.queues] == ["q-a", "q-b"]
    assert raw.next_page_token
    pages = tasks_api.list_queues(request={"parent": PARENT, "page_size": 2}).pages
    assert [[q.name.rsplit("/", 1)[1] for q in page.queues] for page in pages] == [
        ["q-a", "q-b"],
        ["q-c", "q-d"],
        ["q-e"],
    ]


def test_list_rejects_a_bad_page_token(tasks_api: tasks_v2.CloudTasksClient) -> None:
    with pytest.raises(exceptions.InvalidArgument, match="page token"):
        tasks_api.list_queues(request={"parent": PARENT, "page_token": "garbage"})


def test_list_filters_by_state(tasks_api: tasks_v2.CloudTasksClient) -> None:
    create(tasks_api, "running")
    create(tasks_api, "paused")
    tasks_api.pause_queue(name=queue_name("paused"))
    paused = tasks_api.list_queues(request={"parent": PARENT, "filter": "state: PAUSED"})
    assert [q.name for q in paused] == [queue_name("paused")]
    with pytest.raises(exceptions.InvalidArgument, match="Unsupported filter"):
        tasks_api.list_queues(request={"parent": PARENT, "filter": "name: x"})


def test_update_with_a_mask_changes_only_the_named_fields(
    tasks_api: tasks_v2.CloudTasksClient, cloud_tasks_emulator: running.Service
) -> None:
    create(tasks_api, "masked", retry_config=tasks_v2.RetryConfig(max_attempts=5))
    updated = tasks_api.update_queue(
        queue=tasks_v2.Queue(
            name=queue_name("masked"),
            retry_config=tasks_v2.RetryConfig(max_attempts=9, max_doublings=1),
            rate_limits=tasks_v2.RateLimits(max_dispatches_per_second=7),
        ),
        update_mask=mask("retry_config.max_attempts"),
    )
    assert updated.retry_config.max_attempts == 9
    assert updated.retry_config.max_doublings == 16  # not in the mask
    assert updated.rate_limits.max_dispatches_per_second == 500  # not in the mask
    assert tasks_api.get_queue(name=queue_name("masked")) == updated
    (write,) = [r for r in cloud_tasks_emulator.requests.writes() if r.method == "UpdateQueue"]
    assert (write.resource, write.update_mask) == (
        queue_name("masked"),
        ("retry_config.max_attempts",),
    )


def test_update_a_whole_message_field(tasks_api: tasks_v2.CloudTasksClient) -> None:
    create(tasks_api, "whole", retry_config=tasks_v2.RetryConfig(max_attempts=5, max_doublings=2))
    updated = tasks_api.update_queue(
        queue=tasks_v2.Queue(
            name=queue_name("whole"), retry_config=tasks_v2.RetryConfig(max_attempts=3)
        ),
        update_mask=mask("retry_config"),
    )
    # The whole message is replaced; its unset fields fall back to Google's defaults.
    assert (updated.retry_config.max_attempts, updated.retry_config.max_doublings) == (3, 16)


def test_update_without_a_mask_creates_a_missing_queue(
    tasks_api: tasks_v2.CloudTasksClient,
) -> None:
    updated = tasks_api.update_queue(
        queue=tasks_v2.Queue(
            name=queue_name("upserted"),
            rate_limits=tasks_v2.RateLimits(max_dispatches_per_second=3),
        )
    )
    assert updated.rate_limits.max_dispatches_per_second == 3
    assert updated.state == tasks_v2.Queue.State.RUNNING
    assert tasks_api.get_queue(name=queue_name("upserted")) == updated


@pytest.mark.parametrize(
    ("paths", "error"),
    [
        (["state"], exceptions.InvalidArgument),
        (["name"], exceptions.InvalidArgument),
        (["retry_config.no_such_field"], exceptions.InvalidArgument),
        (["http_target"], exceptions.MethodNotImplemented),
    ],
)
def test_update_refuses_bad_masks_and_changes_nothing(
    tasks_api: tasks_v2.CloudTasksClient, paths: list[str], error: type[Exception]
) -> None:
    before = create(tasks_api, "strict")
    with pytest.raises(error):
        tasks_api.update_queue(
            queue=tasks_v2.Queue(name=queue_name("strict"), state=tasks_v2.Queue.State.PAUSED),
            update_mask=mask(*paths),
        )
    assert tasks_api.get_queue(name=queue_name("strict")) == before


def test_update_refuses_an_invalid_retry_config(tasks_api: tasks_v2.CloudTasksClient) -> None:
    before = create(tasks_api, "invalid-retry")
    with pytest.raises(exceptions.InvalidArgument, match="min_backoff"):
        tasks_api.update_queue(
            queue=tasks_v2.Queue(
                name=queue_name("invalid-retry"),
                retry_config=tasks_v2.RetryConfig(min_backoff=timedelta(hours=2)),
            ),
            update_mask=mask("retry_config.min_backoff"),
        )
    assert tasks_api.get_queue(name=queue_name("invalid-retry")) == before


def test_pause_and_resume(tasks_api: tasks_v2.CloudTasksClient) -> None:
    create(tasks_api, "toggled")
    assert tasks_api.pause_queue(name=queue_name("toggled")).state == tasks_v2.Queue.State.PAUSED
    assert tasks_api.get_queue(name=queue_name("toggled")).state == tasks_v2.Queue.State.PAUSED
    assert tasks_api.resume_queue(name=queue_name("toggled")).state == tasks_v2.Queue.State.RUNNING


def test_purge_removes_every_task_and_stamps_purge_time(
    tasks_api: tasks_v2.CloudTasksClient,
    cloud_tasks_emulator: running.Service,
    push_target: PushTarget,
) -> None:
    queue = create(tasks_api, "purged")
    tasks_api.pause_queue(name=queue.name)
    for n in range(3):
        tasks_api.create_task(
            parent=queue.name,
            task={"name": f"{queue.name}/tasks/t{n}", "http_request": {"url": push_target.url}},
        )
    purged = tasks_api.purge_queue(name=queue.name)
    assert purged.purge_time == cloud_tasks_emulator.clock.now()
    assert list(tasks_api.list_tasks(parent=queue.name)) == []
    tasks_api.resume_queue(name=queue.name)
    cloud_tasks_emulator.clock.advance(60)
    # Nothing left to dispatch; a purged name stays taken like a deleted one.
    with pytest.raises(exceptions.AlreadyExists):
        tasks_api.create_task(
            parent=queue.name,
            task={"name": f"{queue.name}/tasks/t0", "http_request": {"url": push_target.url}},
        )
    assert push_target.received == []


def test_delete_removes_the_queue_and_its_tasks(
    tasks_api: tasks_v2.CloudTasksClient, push_target: PushTarget
) -> None:
    queue = create(tasks_api, "deleted")
    tasks_api.pause_queue(name=queue.name)
    tasks_api.create_task(parent=queue.name, task={"http_request": {"url": push_target.url}})
    tasks_api.delete_queue(name=queue.name)
    with pytest.raises(exceptions.NotFound):
        tasks_api.get_queue(name=queue.name)
    with pytest.raises(exceptions.NotFound):
        tasks_api.list_tasks(parent=queue.name)
    # Google reserves a deleted queue's name for days; the emulator frees it at once.
    recreated = create(tasks_api, "deleted")
    assert recreated.state == tasks_v2.Queue.State.RUNNING
    assert list(tasks_api.list_tasks(parent=queue.name)) == []
