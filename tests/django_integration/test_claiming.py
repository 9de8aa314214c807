"""The life of a stored django.tasks run: the lease, closing, cancelling, a failed enqueue."""

import pytest
from django.test import override_settings

from django_integration import claiming, deliveries, models, recording

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("recorded")]


@pytest.fixture
def recorded():
    with override_settings(GCP_TASKS_RECORD_EXECUTIONS=True):
        yield


def delivery(retry_count=None):
    return recording.Delivery(
        kind=models.Kind.DJANGO_TASK,
        task="app.tasks.add",
        info=deliveries.TaskInfo(retry_count=retry_count, caller="tasks@p.iam.gserviceaccount.com"),
        args=[1, 2],
        backend="default",
        queue_name="default",
    )


def test_the_first_delivery_takes_the_lease_and_the_second_must_wait():
    outcome, execution = claiming.claim("r", delivery())
    again, waiting = claiming.claim("r", delivery(retry_count=1))

    assert (outcome, again) == (claiming.Outcome.RUN, claiming.Outcome.RUNNING_ELSEWHERE)
    assert execution.lease_id and execution.attempt == 1 and waiting.run_id is None
    run = models.TaskRun.objects.get(pk="r")
    assert (run.status, run.lease_id, run.attempts, run.args) == (
        "RUNNING",
        execution.lease_id,
        1,
        [1, 2],
    )
    assert run.executions.get().caller == "tasks@p.iam.gserviceaccount.com"


def test_a_failure_frees_the_run_for_a_retry_and_success_closes_it():
    _, first = claiming.claim("r", delivery())
    first.failed(RuntimeError("boom"))
    outcome, second = claiming.claim("r", delivery(retry_count=1))
    second.succeeded({"ok": True})

    assert outcome is claiming.Outcome.RUN and second.attempt == 2
    assert [e.exception_path for e in second.earlier] == ["builtins.RuntimeError"]
    assert claiming.claim("r", delivery())[0] is claiming.Outcome.SUCCEEDED_BEFORE
    run = models.TaskRun.objects.get(pk="r")
    assert (run.status, run.return_value, run.attempts, run.lease_id) == (
        "SUCCESSFUL",
        {"ok": True},
        2,
        "",
    )


def test_a_permanent_failure_and_a_cancellation_close_the_run():
    _, execution = claiming.claim("r", delivery())
    execution.failed(ValueError("no"), retryable=False)
    assert claiming.claim("r", delivery())[0] is claiming.Outcome.CLOSED
    assert claiming.cancel("r") is None  # closed already

    claiming.enqueued(
        "c",
        task="app.tasks.add",
        backend="default",
        queue_name="default",
        args=[],
        kwargs={},
        run_after=None,
        cloud_task_path="projects/p/locations/l/queues/q/tasks/c",
    )
    cancelled = claiming.cancel("c")
    assert (cancelled.status, cancelled.retryable) == ("FAILED", False) and cancelled.cancelled_at
    assert claiming.claim("c", delivery())[0] is claiming.Outcome.CLOSED


def test_only_django_tasks_runs_can_be_cancelled():
    # A class task's run (no backend) is an execution record, not a result to cancel.
    models.TaskRun.objects.create(
        id="class-run", kind=models.Kind.ON_DEMAND, task="Rebuild", status=models.Status.FAILED
    )
    assert claiming.cancel("class-run") is None
    run = models.TaskRun.objects.get(pk="class-run")
    assert (run.status, run.retryable, run.cancelled_at) == ("FAILED", True, None)


def test_a_failed_enqueue_after_commit_is_a_failed_result_with_the_error():
    claiming.enqueued(
        "e",
        task="app.tasks.add",
        backend="default",
        queue_name="default",
        args=[],
        kwargs={},
        run_after=None,
        cloud_task_path="",
    )
    claiming.enqueue_failed("e", ConnectionError("Cloud Tasks unreachable"))

    run = models.TaskRun.objects.get(pk="e")
    assert (run.status, run.retryable) == ("FAILED", False)
    execution = run.executions.get()
    assert (execution.attempt, execution.worker_id) == (0, "")  # no delivery ever ran it
    assert execution.exception_path == "builtins.ConnectionError"


@override_settings(GCP_TASKS_RECORD_EXECUTIONS=False)
def test_without_storage_every_delivery_runs_and_nothing_is_written():
    assert claiming.claim("r", delivery())[0] is claiming.Outcome.RUN
    assert claiming.claim("r", delivery())[0] is claiming.Outcome.RUN
    assert not models.TaskRun.objects.exists()
