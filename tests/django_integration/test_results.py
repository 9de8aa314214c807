"""TaskResult objects from stored runs."""

import pytest
from django.utils import timezone

from django_integration import framework, models, recording, results
from tests.django_integration.testapp import tasks as testapp_tasks

APP = "tests.django_integration.testapp.tasks"


def run(**fields):
    return models.TaskRun(
        id="r", kind=models.Kind.DJANGO_TASK, task=f"{APP}.add", backend="default", **fields
    )


def test_each_execution_is_a_worker_and_each_failure_an_error():
    earlier = [
        recording.Earlier("host:1", "builtins.RuntimeError", "Traceback ..."),
        recording.Earlier("host:2", "", ""),
    ]
    result = results.build(testapp_tasks.add, run(status="SUCCESSFUL", return_value=3), earlier)
    assert (result.attempts, result.worker_ids, result.return_value) == (2, ["host:1", "host:2"], 3)
    assert [e.exception_class_path for e in result.errors] == ["builtins.RuntimeError"]


def test_attempts_the_cloud_counted_but_nobody_recorded_are_padded():
    result = results.build(
        testapp_tasks.add, run(status="RUNNING"), [], current_worker="me", attempt=3
    )
    assert result.worker_ids == ["", "", "me"] and result.attempts == 3


def test_a_cancelled_run_says_so_last_among_its_errors():
    result = results.build(testapp_tasks.add, run(status="FAILED", cancelled_at=timezone.now()), [])
    assert result.status == framework.TaskResultStatus.FAILED
    assert result.errors[-1].exception_class_path.endswith("TaskCancelledError")


def test_the_task_keeps_the_backend_and_queue_it_was_enqueued_with():
    task = results.task(run(queue_name="reports"))
    assert (task.func, task.backend, task.queue_name) == (
        testapp_tasks.add.func,
        "default",
        "reports",
    )


@pytest.mark.django_db
def test_runs_of_class_based_tasks_are_not_django_results():
    models.TaskRun.objects.create(id="c", kind=models.Kind.ON_DEMAND, task="RecordingTask")
    with pytest.raises(framework.TaskResultDoesNotExist):
        results.read("c")
