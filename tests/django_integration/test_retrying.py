"""Retry of a recorded run, the whole loop: a new run linked through `retry_of`, sent through the
Cloud Tasks emulator to the live server's endpoints, recorded there on that new run."""

import base64
import functools
import json
from datetime import timedelta

import pytest
from django.test import override_settings

from django_integration import models, retrying
from emulators import testing
from tests.django_integration.testapp import tasks as testapp_tasks

eventually = functools.partial(testing.eventually, timeout=30)

pytestmark = pytest.mark.django_db(transaction=True)

SUBSCRIPTION = "test--test-events--recordingsubscriber"


@pytest.fixture
def app(live_server, verified, cloud_tasks_emulator):
    with override_settings(GCP_TASKS_DOMAIN=live_server.url, GCP_TASKS_RECORD_EXECUTIONS=True):
        yield live_server


def delivered(run: models.TaskRun) -> models.TaskExecution | None:
    return run.executions.filter(finished_at__isnull=False).first()


def test_a_class_based_task_runs_again_with_the_same_arguments(app, tasks_api):
    testapp_tasks.ExplodingTask().enqueue(n=7, tags=["x"])
    first = eventually(lambda: models.TaskRun.objects.filter(status="FAILED").first())

    retried = retrying.retry(first)

    assert (retried.retry_of_id, retried.task, retried.status) == (
        first.id,
        "ExplodingTask",
        "READY",
    )
    execution = eventually(lambda: delivered(retried))
    assert execution.status == "FAILED" and "RuntimeError: boom" in execution.traceback
    assert [kwargs for kwargs, _ in testapp_tasks.runs_of("ExplodingTask")][-1] == {
        "n": 7,
        "tags": ["x"],
    }
    assert list(first.retries.all()) == [retried]
    # Sent as the task class sends it: its dispatch deadline too (the emulator keeps the failed
    # task for a retry its manual clock never reaches).
    sent = tasks_api.get_task(name=retried.cloud_task_path)
    assert sent.dispatch_deadline == timedelta(seconds=120)


def test_a_django_task_is_enqueued_again_through_its_backend(app):
    testapp_tasks.attempts_left["again"] = 1
    result = testapp_tasks.flaky.enqueue("again")
    first = eventually(lambda: models.TaskRun.objects.filter(pk=result.id, status="FAILED").first())
    # Cloud Tasks would retry it too: closing the first run keeps this test about ours.
    models.TaskRun.objects.filter(pk=first.pk).update(retryable=False)

    retried = retrying.retry(first)

    assert retried.retry_of_id == first.id and retried.backend == "default"
    eventually(lambda: models.TaskRun.objects.get(pk=retried.pk).status == "SUCCESSFUL")
    assert models.TaskRun.objects.get(pk=retried.pk).return_value == "recovered"


def test_a_subscriber_task_gets_its_message_again(app):
    envelope = {
        "message": {
            "data": base64.b64encode(json.dumps({"order": 5}).encode()).decode(),
            "attributes": {"source": "shop"},
            "messageId": "m-77",
            "publishTime": "2025-01-15T12:00:00.123Z",
        },
        "subscription": f"projects/test-project/subscriptions/{SUBSCRIPTION}",
    }
    first = models.TaskRun.objects.create(
        id="first",
        kind="subscriber",
        task="RecordingSubscriber",
        status="FAILED",
        kwargs={
            "data": {"order": 5},
            "attributes": {"source": "shop"},
            "message_id": "m-77",
            "ordering_key": None,
            "publish_time": "2025-01-15T12:00:00.123000+00:00",
            "subscription": envelope["subscription"],
        },
        delivery_key=f"pubsub:{envelope['subscription']}/m-77",
    )

    retried = retrying.retry(first)

    execution = eventually(lambda: delivered(retried))
    assert execution.status == "SUCCESSFUL" and execution.message_id == "m-77"
    [(kwargs, _)] = testapp_tasks.runs_of("RecordingSubscriber")
    assert (kwargs["data"], kwargs["attributes"], kwargs["message_id"]) == (
        {"order": 5},
        {"source": "shop"},
        "m-77",
    )
    assert not first.executions.exists()  # recorded on the new run, not the first


def test_a_task_no_longer_registered_is_not_retryable(app):
    gone = models.TaskRun.objects.create(
        id="gone", kind="on_demand", task="Renamed", status="FAILED"
    )

    with pytest.raises(retrying.NotRetryable, match="No task named 'Renamed'"):
        retrying.retry(gone)
    assert models.TaskRun.objects.count() == 1


@override_settings(GCP_TASKS_RECORD_EXECUTIONS=False)
def test_without_recording_a_retry_is_refused():
    run = models.TaskRun.objects.create(
        id="r", kind="on_demand", task="ExplodingTask", status="FAILED"
    )

    with pytest.raises(retrying.NotRetryable, match="GCP_TASKS_RECORD_EXECUTIONS is off"):
        retrying.retry(run)


def test_a_refused_enqueue_leaves_no_run_behind(live_server, verified, monkeypatch):
    monkeypatch.setenv("CLOUD_TASKS_EMULATOR_HOST", "127.0.0.1:9")
    first = models.TaskRun.objects.create(
        id="f", kind="on_demand", task="ExplodingTask", status="FAILED"
    )

    with override_settings(GCP_TASKS_RECORD_EXECUTIONS=True), pytest.raises(retrying.NotRetryable):
        retrying.retry(first)
    assert list(models.TaskRun.objects.values_list("id", flat=True)) == ["f"]
