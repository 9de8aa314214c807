"""`CloudTasksBackend` enqueueing against the Cloud Tasks emulator, with Google's own client."""

import asyncio
import functools
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.test import override_settings

from django_integration import exceptions, framework, models
from emulators import testing
from tests.django_integration.testapp import tasks as testapp_tasks

QUEUE = "projects/test-project/locations/europe-west1/queues/test-queue"
ADD_PATH = "/gcp/django-tasks/tests.django_integration.testapp.tasks.add"

eventually = functools.partial(testing.eventually, timeout=30)


def test_a_task_is_pushed_with_its_id_and_arguments_over_the_one_client(
    target, builds, cloud_tasks_emulator
):
    results = [testapp_tasks.add.enqueue(n, b=2) for n in range(3)]

    assert builds == [cloud_tasks_emulator.host]
    assert {r.status for r in results} == {framework.TaskResultStatus.READY}
    assert all(r.enqueued_at is not None and r.backend == "default" for r in results)
    received = eventually(lambda: len(target.received) == 3 and target.received)
    bodies = sorted((json.loads(r.body) for r in received), key=lambda b: b["args"])
    assert bodies == [
        {"id": r.id, "backend": "default", "args": [n], "kwargs": {"b": 2}}
        for n, r in enumerate(results)
    ]
    assert {r.path for r in received} == {ADD_PATH}
    assert all(r.headers["Authorization"].startswith("Bearer ") for r in received)
    assert {r.headers["X-CloudTasks-QueueName"] for r in received} == {"test-queue"}


def test_feature_flags_say_what_cloud_tasks_can_do():
    backend = testapp_tasks.add.get_backend()
    assert (backend.supports_defer, backend.supports_async_task) == (True, True)
    assert backend.supports_priority is False
    assert backend.supports_get_result is False
    with override_settings(GCP_TASKS_RECORD_EXECUTIONS=True):
        assert backend.supports_get_result is True


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"priority": 5}, "does not support setting priority"),
        ({"queue_name": "elsewhere"}, "Queue 'elsewhere' is not valid"),
        ({"run_after": datetime.now(UTC) + timedelta(days=31)}, "at most 30 days ahead"),
    ],
)
def test_what_cloud_tasks_cannot_do_is_refused_before_any_call(target, change, message):
    with pytest.raises(framework.InvalidTask, match=message):
        testapp_tasks.add.using(**change).enqueue(1, 2)


@pytest.mark.parametrize(
    ("args", "error"),
    [((object(), 1), TypeError), ((b"\xff", 1), ValueError)],
    ids=["object", "bytes-not-utf8"],
)
def test_arguments_that_are_not_json_are_refused_before_any_call(
    target, cloud_tasks_emulator, args, error
):
    with pytest.raises(error):
        testapp_tasks.add.enqueue(*args)
    assert cloud_tasks_emulator.requests.count("CreateTask") == 0


def test_an_oversized_payload_is_refused_before_any_call(target, cloud_tasks_emulator):
    with pytest.raises(exceptions.PayloadTooLargeError):
        testapp_tasks.add.enqueue("x" * 1_100_000, 1)
    assert cloud_tasks_emulator.requests.count("CreateTask") == 0


def test_queues_map_to_cloud_tasks_queues(target, tasks_api):
    testapp_tasks.add.enqueue(1, 2)
    testapp_tasks.add.using(queue_name="reports").enqueue(1, 2)
    names = {
        q.name.rsplit("/", 1)[1]
        for q in tasks_api.list_queues(parent=QUEUE.rsplit("/queues", 1)[0])
    }
    assert names == {"test-queue", "reports"}  # "default" is GCP_TASKS_DEFAULT_QUEUE_NAME


def test_run_after_becomes_the_schedule_time(target, tasks_api):
    when = datetime.now(UTC) + timedelta(hours=2)
    testapp_tasks.add.using(run_after=when).enqueue(1, 2)
    [task] = tasks_api.list_tasks(parent=QUEUE)
    assert abs(task.schedule_time.timestamp() - when.timestamp()) < 0.001


def test_a_deduplicated_task_is_refused_while_the_same_arguments_exist(target, tasks_api):
    testapp_tasks.rebuild.enqueue("all")
    with pytest.raises(exceptions.DuplicateTaskError):
        testapp_tasks.rebuild.enqueue("all")
    testapp_tasks.rebuild.enqueue("recent")
    # Marked by the backend alias, so `.using(backend="deduplicated")` works for any task.
    testapp_tasks.add.using(backend="deduplicated").enqueue(1, 2)
    with pytest.raises(exceptions.DuplicateTaskError):
        testapp_tasks.add.using(backend="deduplicated").enqueue(1, 2)
    ids = sorted(t.name.rsplit("/", 1)[1] for t in tasks_api.list_tasks(parent=QUEUE))
    assert len(ids) == 3
    assert all(len(i.split("--")[0]) == 32 and i.endswith("--test") for i in ids)
    assert sum(i.endswith("--rebuild--test") for i in ids) == 2


@pytest.mark.django_db
@override_settings(GCP_TASKS_RECORD_EXECUTIONS=True)
def test_with_storage_a_result_is_stored_ready_and_read_back(target, tasks_api):
    result = testapp_tasks.add.using(queue_name="reports").enqueue(3, b=4)

    run = models.TaskRun.objects.get(pk=result.id)
    assert (run.kind, run.task, run.status) == (
        "django_task",
        "tests.django_integration.testapp.tasks.add",
        "READY",
    )
    assert (run.args, run.kwargs, run.queue_name) == ([3], {"b": 4}, "reports")
    # Named after the result, so it can be cancelled by its id.
    assert run.cloud_task_path.endswith(f"/queues/reports/tasks/{result.id}")
    read = testapp_tasks.add.get_result(result.id)
    assert (read.id, read.status, read.args, read.kwargs) == (result.id, "READY", [3], {"b": 4})
    assert read.task.queue_name == "reports"
    with pytest.raises(framework.TaskResultDoesNotExist):
        testapp_tasks.add.get_backend().get_result("nope")


def test_without_storage_results_cannot_be_read():
    with pytest.raises(NotImplementedError):
        testapp_tasks.add.get_backend().get_result("any")


@pytest.mark.django_db
@override_settings(GCP_TASKS_RECORD_EXECUTIONS=True)
def test_a_failed_create_leaves_no_stored_result(target, tasks_api):
    testapp_tasks.rebuild.enqueue("once")
    with pytest.raises(exceptions.DuplicateTaskError):
        testapp_tasks.rebuild.enqueue("once")
    assert models.TaskRun.objects.count() == 1


@pytest.mark.django_db
@override_settings(GCP_TASKS_RECORD_EXECUTIONS=True)
def test_a_pending_task_can_be_cancelled_and_its_result_says_so(
    target, tasks_api, cloud_tasks_emulator
):
    later = datetime.now(UTC) + timedelta(hours=1)
    result = testapp_tasks.add.using(run_after=later).enqueue(1, 2)

    cancelled = testapp_tasks.add.get_backend().cancel(result.id)

    assert cloud_tasks_emulator.requests.count("DeleteTask") == 1
    assert list(tasks_api.list_tasks(parent=QUEUE)) == []
    assert cancelled.status == framework.TaskResultStatus.FAILED
    assert [e.exception_class_path for e in cancelled.errors] == [
        "django_integration.exceptions.TaskCancelledError"
    ]
    assert cancelled.errors[0].exception_class is exceptions.TaskCancelledError
    with pytest.raises(exceptions.TaskNotCancellableError):
        testapp_tasks.add.get_backend().cancel(result.id)


def test_cancelling_needs_storage():
    with pytest.raises(exceptions.TaskNotCancellableError, match="GCP_TASKS_RECORD_EXECUTIONS"):
        testapp_tasks.add.get_backend().cancel("any")


@pytest.mark.django_db
def test_enqueue_on_commit_waits_for_the_transaction(
    target, cloud_tasks_emulator, django_capture_on_commit_callbacks
):
    options = {"ENQUEUE_ON_COMMIT": True}
    tasks_setting = {
        "default": {"BACKEND": "django_integration.backends.CloudTasksBackend", "OPTIONS": options}
    }
    with override_settings(TASKS=tasks_setting):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            result = testapp_tasks.add.enqueue(1, 2)
            assert cloud_tasks_emulator.requests.count("CreateTask") == 0
            assert result.enqueued_at is None
        assert len(callbacks) == 1
        assert cloud_tasks_emulator.requests.count("CreateTask") >= 1
        assert result.enqueued_at is not None


@pytest.mark.django_db
@override_settings(GCP_TASKS_RECORD_EXECUTIONS=True)
def test_an_oversized_payload_on_commit_is_refused_and_stores_no_run(target, cloud_tasks_emulator):
    options = {"ENQUEUE_ON_COMMIT": True}
    tasks_setting = {
        "default": {"BACKEND": "django_integration.backends.CloudTasksBackend", "OPTIONS": options}
    }
    with override_settings(TASKS=tasks_setting), transaction.atomic():
        with pytest.raises(exceptions.PayloadTooLargeError):
            testapp_tasks.add.enqueue("x" * 1_100_000, 1)
        assert not models.TaskRun.objects.exists()  # caught inside the transaction: no orphan


def test_aenqueue_enqueues(target):
    result = asyncio.run(testapp_tasks.async_double.aenqueue(21))
    received = eventually(lambda: target.received)
    assert json.loads(received[0].body)["id"] == result.id
