"""Per-task summaries over the last hour, day and week, computed by the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from django_integration import models
from django_integration.admin import summaries

pytestmark = pytest.mark.django_db

S = timedelta(seconds=1)
H = timedelta(hours=1)


def record(task: str, age: timedelta, seconds: float | None, status: str = "SUCCESSFUL") -> None:
    run, _ = models.TaskRun.objects.get_or_create(
        id=task, defaults={"kind": "on_demand", "task": task}
    )
    models.TaskExecution.objects.create(
        run=run,
        kind="on_demand",
        task=task,
        attempt=1,
        status=status,
        started_at=timezone.now() - age,
        duration=None if seconds is None else seconds * S,
    )


def test_each_window_counts_its_executions_failures_median_and_max():
    for seconds in (1, 2, 3):
        record("a", 10 * timedelta(minutes=1), seconds)
    record("a", 20 * timedelta(minutes=1), 10, "FAILED")
    record("a", 2 * H, 100)
    record("a", 3 * 24 * H, 1000)
    record("a", 4 * 24 * H, None, "RUNNING")
    record("a", 30 * 24 * H, 5)  # older than a week: in no window
    record("b", 5 * 24 * H, 7, "FAILED")

    found = {
        summary.task: summary.windows
        for summary in summaries.per_task(models.TaskExecution.objects.all())
    }

    a, b = found["a"], found["b"]
    assert (a["hour"].executions, a["hour"].failed, a["hour"].failure_rate) == (4, 1, 0.25)
    assert (a["hour"].median, a["hour"].longest) == (2.5 * S, 10 * S)
    assert (a["day"].executions, a["day"].median, a["day"].longest) == (5, 3 * S, 100 * S)
    assert (a["week"].executions, a["week"].finished, a["week"].median) == (7, 6, 6.5 * S)
    assert a["week"].longest == 1000 * S
    assert (b["hour"].executions, b["hour"].failure_rate, b["hour"].median) == (0, None, None)
    assert (b["week"].failure_rate, b["week"].median) == (1.0, 7 * S)


def test_failed_enqueues_count_as_failures_but_are_not_timed():
    # claiming.enqueue_failed records a FAILED attempt 0 without a duration: nothing ran.
    record("c", 10 * timedelta(minutes=1), 4)
    record("c", 10 * timedelta(minutes=1), None, "FAILED")
    record("c", 10 * timedelta(minutes=1), None, "FAILED")

    [summary] = summaries.per_task(models.TaskExecution.objects.all())

    hour = summary.windows["hour"]
    assert (hour.failed, hour.finished, hour.timed) == (2, 3, 1)
    assert hour.failure_rate == pytest.approx(2 / 3)
    assert (hour.median, hour.longest) == (4 * S, 4 * S)


def test_tasks_without_recent_executions_are_left_out():
    record("old", 8 * 24 * H, 1)

    assert summaries.per_task(models.TaskExecution.objects.all()) == []


@pytest.mark.parametrize(
    ("duration", "shown"),
    [(None, "-"), (0.0421 * S, "0.042 s"), (12.54 * S, "12.5 s"), (200 * S, "3 min 20 s")],
)
def test_durations_read_as_people_read_them(duration, shown):
    assert summaries.seconds(duration) == shown
