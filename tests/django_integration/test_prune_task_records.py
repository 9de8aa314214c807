"""`manage.py prune_task_records` against the test database."""

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from django_integration import models

pytestmark = pytest.mark.django_db


def run(run_id, status, age_days, finished_days=None):
    """A run created `age_days` ago, finished `finished_days` ago (None: not finished)."""
    now = timezone.now()
    finished = None if finished_days is None else now - timedelta(days=finished_days)
    task_run = models.TaskRun.objects.create(
        id=run_id,
        kind=models.Kind.ON_DEMAND,
        task="T",
        status=status,
        created_at=now - timedelta(days=age_days),
        finished_at=finished,
    )
    models.TaskExecution.objects.create(
        run=task_run, kind=task_run.kind, task="T", attempt=1, status=status
    )
    return task_run


@pytest.fixture
def runs():
    return [
        run("old-ok", models.Status.SUCCESSFUL, 40, 40),
        run("old-failed", models.Status.FAILED, 31, 31),
        run("old-waiting", models.Status.READY, 40),  # still pending in Cloud Tasks: kept
        run("recent-ok", models.Status.SUCCESSFUL, 29, 29),
    ]


def prune(*args):
    out = StringIO()
    call_command("prune_task_records", *args, stdout=out)
    return out.getvalue()


def remaining():
    return sorted(models.TaskRun.objects.values_list("pk", flat=True))


def test_finished_runs_older_than_the_retention_go_with_their_executions(runs):
    assert prune() == "Deleted 2 task runs older than 30 days\n"
    assert remaining() == ["old-waiting", "recent-ok"]
    assert sorted(models.TaskExecution.objects.values_list("run_id", flat=True)) == remaining()


def test_a_dry_run_only_counts(runs):
    assert prune("--dry-run") == "2 task runs older than 30 days would go\n"
    assert len(remaining()) == 4


@override_settings(GCP_TASKS_RECORD_RETENTION_DAYS=35)
def test_the_setting_and_the_option_choose_the_retention(runs):
    assert prune() == "Deleted 1 task runs older than 35 days\n"
    assert prune("--days", "0") == "Deleted 2 task runs older than 0 days\n"
    assert remaining() == ["old-waiting"]


def test_the_retention_counts_from_the_finish_not_the_creation():
    run("created-long-ago-finished-now", models.Status.FAILED, 40, 1)  # retried for 39 days
    run("finished-long-ago", models.Status.SUCCESSFUL, 41, 40)

    assert prune() == "Deleted 1 task runs older than 30 days\n"
    assert remaining() == ["created-long-ago-finished-now"]


@pytest.mark.parametrize(
    ("days", "shown"), [("-1", "-1"), ("nan", "nan"), ("inf", "inf"), ("1e12", "1e+12")]
)
def test_a_retention_out_of_range_is_refused(runs, days, shown):
    with pytest.raises(
        CommandError, match=re.escape(f"--days must be from 0 to 36500 days, not {shown}")
    ):
        prune("--days", days)
    assert len(remaining()) == 4


@override_settings(GCP_TASKS_RECORD_RETENTION_DAYS=float("inf"))
def test_a_setting_out_of_range_is_refused_by_its_name(runs):
    with pytest.raises(CommandError, match="GCP_TASKS_RECORD_RETENTION_DAYS must be from 0"):
        prune()
    assert len(remaining()) == 4
