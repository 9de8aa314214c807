"""`@periodic`: schedules for django.tasks tasks."""

import pytest

from django_integration import exceptions, framework, schedules
from tests.django_integration.testapp import tasks as testapp_tasks

APP = "tests.django_integration.testapp.tasks"


def test_a_schedule_keeps_what_it_was_given_and_periodic_task_defaults():
    schedule = schedules.schedules()[f"{APP}.sweep"]
    assert schedule.task is testapp_tasks.sweep
    assert (schedule.cron, schedule.time_zone, schedule.retry_count) == (
        "*/5 * * * *",
        "Europe/Paris",
        2,
    )
    assert (schedule.paused, schedule.attempt_deadline, schedule.slug) == (False, 1800.0, "sweep")
    assert schedule.body == '{"args":[],"kwargs":{"scope":"recent"}}'


def test_it_returns_the_task_unchanged():
    assert isinstance(testapp_tasks.sweep, framework.Task)
    assert testapp_tasks.sweep.call("x") == {"swept": "x"}


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (testapp_tasks.plain_function, "write it above @task"),
        (testapp_tasks.elsewhere, "needs a task of a CloudTasksBackend"),
    ],
    ids=["function", "other-backend"],
)
def test_only_tasks_of_a_cloud_tasks_backend_can_be_scheduled(target, message):
    with pytest.raises(exceptions.IncorrectTaskUsageError, match=message):
        schedules.periodic("0 * * * *")(target)


def test_arguments_that_are_not_json_fail_at_import():
    with pytest.raises(exceptions.PayloadNotSerializableError):
        schedules.periodic("0 * * * *", kwargs={"when": object()})(testapp_tasks.add)
    assert f"{APP}.add" not in schedules.schedules()
