"""Recording runs and executions of class-based tasks through their endpoints, with the real
database: what is stored, how retries group, and that a broken database changes nothing else."""

import base64
import json
import logging

import pytest
import structlog
from django.db import OperationalError, connection
from django.test import override_settings

from django_integration import models, recording
from emulators import oidc
from tests.django_integration.conftest import CALLER
from tests.django_integration.testapp import tasks as testapp_tasks

DOMAIN = "https://tasks.example.com"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("verified")]

recorded = override_settings(GCP_TASKS_RECORD_EXECUTIONS=True)


def post(client, issuer: oidc.Issuer, path, body=b"{}", **headers):
    token = issuer.token(f"{DOMAIN}{path}", CALLER)
    return client.post(
        path,
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", **headers},
    )


def cloud_tasks_headers(task_name="t-1", retry_count=0):
    return {
        "X-CloudTasks-QueueName": "test-queue",
        "X-CloudTasks-TaskName": task_name,
        "X-CloudTasks-TaskRetryCount": str(retry_count),
    }


def test_nothing_is_recorded_unless_the_setting_is_on(client, verified):
    response = post(client, verified, "/gcp/tasks/RecordingTask", b'{"n": 1}')

    assert response.status_code == 200
    assert models.TaskRun.objects.count() == 0 and models.TaskExecution.objects.count() == 0


@recorded
def test_a_successful_on_demand_task_is_one_run_with_one_execution(client, verified):
    response = post(
        client, verified, "/gcp/tasks/RecordingTask", b'{"n": 1}', **cloud_tasks_headers()
    )

    assert response.status_code == 200
    run = models.TaskRun.objects.get()
    assert (run.kind, run.task, run.status) == ("on_demand", "RecordingTask", "SUCCESSFUL")
    assert (run.kwargs, run.return_value) == ({"n": 1}, {"received": {"n": 1}})
    assert (run.queue_name, run.delivery_key) == ("test-queue", "cloudtasks:test-queue/t-1")
    assert run.attempts == 1 and run.started_at is not None and run.finished_at is not None
    execution = run.executions.get()
    assert (execution.kind, execution.task, execution.attempt) == ("on_demand", "RecordingTask", 1)
    assert (execution.status, execution.caller) == ("SUCCESSFUL", CALLER)
    assert execution.cloud_task_name == "t-1"
    assert execution.duration is not None and execution.finished_at >= execution.started_at
    assert execution.worker_id == recording.worker_id()
    assert execution.exception_path == execution.traceback == ""


@recorded
def test_a_failure_and_its_retry_are_two_executions_of_one_run(client, verified):
    path = "/gcp/tasks/ExplodingTask"
    first = post(client, verified, path, b'{"n": 2}', **cloud_tasks_headers("t-2", 0))
    second = post(client, verified, path, b'{"n": 2}', **cloud_tasks_headers("t-2", 1))

    assert (first.status_code, second.status_code) == (500, 500)
    run = models.TaskRun.objects.get()
    assert (run.status, run.attempts) == ("FAILED", 2)
    executions = list(run.executions.order_by("attempt"))
    assert [e.attempt for e in executions] == [1, 2]
    assert {e.status for e in executions} == {"FAILED"}
    assert executions[0].exception_path == "builtins.RuntimeError"
    assert executions[0].error_message == "boom"
    assert 'raise RuntimeError("boom")' in executions[0].traceback


@recorded
def test_a_new_task_under_a_reused_name_is_a_new_run(client, verified):
    # Deduplicated ids come back an hour after the task ran: a success closes the run.
    path = "/gcp/tasks/RecordingTask"
    post(client, verified, path, b'{"n": 3}', **cloud_tasks_headers("reused", 0))
    post(client, verified, path, b'{"n": 4}', **cloud_tasks_headers("reused", 0))

    assert models.TaskRun.objects.filter(delivery_key="cloudtasks:test-queue/reused").count() == 2


@recorded
def test_a_scheduler_firing_is_a_periodic_run(client, verified):
    headers = {
        "X-CloudScheduler": "true",
        "X-CloudScheduler-JobName": "test--hourlytask",
        "X-CloudScheduler-ScheduleTime": "2025-01-15T12:00:00+00:00",
    }
    assert post(client, verified, "/gcp/tasks/HourlyTask", b"", **headers).status_code == 200

    run = models.TaskRun.objects.get()
    assert (run.kind, run.task, run.return_value) == ("periodic", "HourlyTask", "tick")
    assert run.enqueued_at.isoformat() == "2025-01-15T12:00:00+00:00"
    assert run.executions.get().scheduler_job_name == "test--hourlytask"


@recorded
def test_a_pubsub_message_is_a_subscriber_run(client, verified):
    envelope = {
        "message": {
            "data": base64.b64encode(json.dumps({"order": 1}).encode()).decode(),
            "messageId": "m-1",
            "publishTime": "2025-01-15T12:00:00.123456789Z",
        },
        "subscription": "projects/p/subscriptions/s",
        "deliveryAttempt": 3,
    }
    path = "/gcp/subscriber-tasks/RecordingSubscriber"
    assert post(client, verified, path, json.dumps(envelope).encode()).status_code == 200

    run = models.TaskRun.objects.get()
    assert (run.kind, run.delivery_key) == ("subscriber", "pubsub:projects/p/subscriptions/s/m-1")
    assert run.kwargs["data"] == {"order": 1}
    assert run.kwargs["publish_time"].startswith("2025-01-15T12:00:00.123")
    execution = run.executions.get()
    assert (execution.message_id, execution.attempt) == ("m-1", 3)


@recorded
def test_missing_tables_are_logged_and_the_task_runs_and_answers_as_before(
    client, verified, caplog
):
    # The real failure of an app that turned recording on without `migrate`: no such table.
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {models.TaskExecution._meta.db_table}")
        cursor.execute(f"DROP TABLE {models.TaskRun._meta.db_table}")

    with structlog.testing.capture_logs() as logs, caplog.at_level(logging.ERROR):
        ok = post(client, verified, "/gcp/tasks/RecordingTask", b'{"n": 5}')
        failed = post(client, verified, "/gcp/tasks/ExplodingTask", b'{"n": 6}')

    assert (ok.status_code, ok.json()) == (200, {"result": {"received": {"n": 5}}})
    assert (failed.status_code, failed.json()) == (500, {"error": "Error running task"})
    assert [kwargs for kwargs, _ in testapp_tasks.runs_of("RecordingTask")] == [{"n": 5}]
    assert len(testapp_tasks.runs_of("ExplodingTask")) == 1
    errors = [r for r in caplog.records if r.name == "django_integration.recording"]
    assert errors and all(r.levelno == logging.ERROR and r.exc_info for r in errors)
    assert "run `manage.py migrate`" in errors[0].getMessage()
    events = [e for e in logs if e["event"] == "task_recording_failed"]
    assert {e["action"] for e in events} == {"start"}
    assert "no such table" in events[0]["error"]
    # Each step ran in a savepoint: the request's transaction is still usable.
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def _failing(predicate):
    """A database that fails the statements `predicate` picks, as a lost connection would."""

    def wrapper(execute, sql, params, many, context):
        if predicate(sql):
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    return connection.execute_wrapper(wrapper)


@recorded
@pytest.mark.parametrize(
    "failing",
    [
        lambda sql: "gcptasks" in sql or "django_integration_" in sql,  # down from the start
        lambda sql: sql.startswith("UPDATE") and "taskexecution" in sql,  # lost while finishing
    ],
    ids=["down", "lost-while-finishing"],
)
def test_a_failing_database_leaves_every_answer_unchanged(client, verified, caplog, failing):
    app = "tests.django_integration.testapp.tasks"
    with _failing(failing), caplog.at_level(logging.ERROR):
        ok = post(
            client, verified, "/gcp/tasks/RecordingTask", b'{"n": 7}', **cloud_tasks_headers()
        )
        failed = post(client, verified, "/gcp/tasks/ExplodingTask", b'{"n": 8}')
        added = post(
            client,
            verified,
            f"/gcp/django-tasks/{app}.add",
            json.dumps({"id": "r-db", "backend": "default", "args": [1, 2], "kwargs": {}}).encode(),
        )

    assert (ok.status_code, ok.json()) == (200, {"result": {"received": {"n": 7}}})
    assert (failed.status_code, failed.json()) == (500, {"error": "Error running task"})
    assert added.status_code == 200 and added.json()["result"] == 3
    assert [kwargs for kwargs, _ in testapp_tasks.runs_of("RecordingTask")] == [{"n": 7}]
    assert testapp_tasks.runs_of("add") == [({"a": 1, "b": 2}, None)]
    errors = [r for r in caplog.records if r.name == "django_integration.recording"]
    assert errors and all("server closed the connection" in str(r.exc_info[1]) for r in errors)
