"""Admin pauses as desired state: stored, laid over the code's `paused`, and the rule for when
they cannot be read (no database or no table: the code's defaults; anything else: nothing)."""

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection
from django.test import override_settings

from controller.registry import model
from django_integration import loggers, models, pausing, registry

ROOT = Path(__file__).resolve().parents[2]
HOURLY = "test--hourlytask"  # testapp's HourlyTask, not paused in code


def job(name: str, paused: bool = False) -> model.SchedulerJob:
    return model.SchedulerJob(name=name, schedule="0 * * * *", uri="https://x", paused=paused)


@pytest.mark.parametrize(
    ("declared", "paused", "expected"),
    [
        ([("a", False), ("b", False)], {"a"}, [("a", True), ("b", False)]),
        ([("a", True)], set(), [("a", True)]),  # the code's own pause stays
        ([("a", True)], {"a"}, [("a", True)]),
        ([("a", False)], {"gone"}, [("a", False)]),  # a pause of a job no longer declared
    ],
)
def test_overlay_pauses_only_the_named_jobs(declared, paused, expected):
    desired = model.Registry(
        source="s",
        project="p",
        location="l",
        affix="test",
        owner="test",
        scheduler_jobs=tuple(job(name, state) for name, state in declared),
    )

    laid = pausing.overlay(desired, paused)

    assert [(j.name, j.paused) for j in laid.scheduler_jobs] == expected
    assert laid.subscriptions == desired.subscriptions


@pytest.mark.django_db
def test_a_stored_pause_is_desired_until_resumed():
    assert not _paused(pausing.desired())

    pausing.pause(HOURLY, "HourlyTask", user="alice", reason="noisy")

    assert _paused(pausing.desired())
    stored = models.JobPause.objects.get()
    assert (stored.task, stored.paused_by, stored.reason) == ("HourlyTask", "alice", "noisy")
    assert pausing.resume(HOURLY, user="bob") is True
    assert not _paused(pausing.desired())
    assert pausing.resume(HOURLY, user="bob") is False


@pytest.mark.django_db
def test_pausing_again_records_the_newest_who_and_why():
    pausing.pause(HOURLY, "HourlyTask", user="alice", reason="noisy")
    pausing.pause(HOURLY, "HourlyTask", user="bob", reason="still noisy")

    assert list(models.JobPause.objects.values_list("paused_by", "reason")) == [
        ("bob", "still noisy")
    ]


class ReadsFromAReplica:
    """A primary/replica router: reads go to a replica (here none exists, so a read fails loudly),
    which lags behind the writes."""

    def db_for_read(self, model, **hints):
        return "replica"

    def db_for_write(self, model, **hints):
        return "default"


@pytest.mark.django_db
def test_pauses_are_read_back_where_they_are_written():
    # An export right after a pause must see it: a replica may not have it yet.
    with override_settings(DATABASE_ROUTERS=[f"{__name__}.ReadsFromAReplica"]):
        pausing.pause(HOURLY, "HourlyTask", user="alice", reason="")

        assert pausing.database() == "default"
        assert _paused(pausing.desired())


@pytest.mark.django_db
def test_exporters_include_the_pauses():
    pausing.pause(HOURLY, "HourlyTask", user="alice", reason="")
    out = _export()

    [exported] = [j for j in json.loads(out)["spec"]["schedulerJobs"] if j["name"] == HOURLY]
    assert exported["paused"] is True


@pytest.mark.django_db
def test_before_migrate_the_code_defaults_are_desired(caplog):
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {models.JobPause._meta.db_table}")

    with caplog.at_level(logging.WARNING):
        desired = pausing.desired()

    assert desired == registry.build()
    [missing] = caplog.records
    assert (missing.name, missing.levelno) == (loggers.admin.name, logging.WARNING)
    assert "manage.py migrate" in missing.getMessage() and missing.database == "default"


@pytest.mark.django_db
def test_a_failing_database_means_nothing_is_exported():
    pausing.pause(HOURLY, "HourlyTask", user="alice", reason="")

    def down(execute, sql, params, many, context):
        raise OperationalError("server closed the connection unexpectedly")

    with connection.execute_wrapper(down):
        with pytest.raises(pausing.PausesUnreadable, match="server closed the connection"):
            pausing.desired()
        with pytest.raises(CommandError, match="Nothing exported"):
            _export()


def test_an_app_without_a_database_exports_the_code_defaults(tmp_path):
    # A real process whose settings have no DATABASES, as django-gcp apps often have.
    result = subprocess.run(
        [sys.executable, "-m", "django", "export_task_registry"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.django_integration.no_database"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    jobs = {j["name"]: j for j in json.loads(result.stdout)["spec"]["schedulerJobs"]}
    assert jobs[HOURLY]["paused"] is False


def _paused(desired: model.Registry) -> bool:
    return next(j for j in desired.scheduler_jobs if j.name == HOURLY).paused


def _export() -> str:
    out = io.StringIO()
    call_command("export_task_registry", stdout=out)
    return out.getvalue()
