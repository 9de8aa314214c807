"""The recording statements against the real database: what they write reads back through the
ORM exactly as the ORM would have written it."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_integration import models, writing

pytestmark = pytest.mark.django_db


def run(run_id: str = "r-1", **fields) -> models.TaskRun:
    defaults = {"kind": "on_demand", "task": "T", "kwargs": {"a": [1, "é"]}, "delivery_key": "k"}
    return models.TaskRun(id=run_id, **{**defaults, **fields})


def test_insert_writes_every_field_as_the_orm_reads_it():
    written = run(status="RUNNING", started_at=timezone.now(), retryable=False)

    assert writing.insert(written, "default") == "r-1"

    read = models.TaskRun.objects.get()
    assert (read.kwargs, read.status, read.retryable) == ({"a": [1, "é"]}, "RUNNING", False)
    assert read.started_at == written.started_at and read.return_value is None


def test_insert_returns_the_database_id_of_an_auto_key():
    parent = run()
    writing.insert(parent, "default")
    first = models.TaskExecution(run=parent, kind="on_demand", task="T", attempt=1)
    second = models.TaskExecution(run=parent, kind="on_demand", task="T", attempt=2)

    ids = [writing.insert(first, "default"), writing.insert(second, "default")]

    assert (
        ids
        == [first.pk, second.pk]
        == list(models.TaskExecution.objects.order_by("id").values_list("id", flat=True))
    )


def test_update_changes_only_the_rows_every_condition_matches():
    writing.insert(run("a", lease_id="mine"), "default")
    writing.insert(run("b", lease_id="theirs"), "default")

    changed = writing.update(
        models.TaskRun,
        "default",
        {"status": "SUCCESSFUL", "return_value": {"ok": True}},
        {"id": "a", "lease_id": "mine"},
    )
    missed = writing.update(
        models.TaskRun, "default", {"status": "FAILED"}, {"id": "b", "lease_id": "mine"}
    )

    assert (changed, missed) == (1, 0)
    assert dict(models.TaskRun.objects.values_list("id", "status")) == {
        "a": "SUCCESSFUL",
        "b": "READY",
    }
    assert models.TaskRun.objects.get(pk="a").return_value == {"ok": True}


def test_update_stores_durations_as_the_field_does():
    parent = run()
    writing.insert(parent, "default")
    row = models.TaskExecution(run=parent, kind="on_demand", task="T", attempt=1)
    writing.insert(row, "default")

    writing.update(
        models.TaskExecution, "default", {"duration": timedelta(milliseconds=1234)}, {"id": row.pk}
    )

    assert models.TaskExecution.objects.get().duration == timedelta(milliseconds=1234)


def test_resume_counts_the_newest_unfinished_run_of_a_key_in_one_statement():
    now = timezone.now()
    writing.insert(run("old", status="FAILED", created_at=now - timedelta(hours=2)), "default")
    writing.insert(run("new", status="FAILED", created_at=now - timedelta(hours=1)), "default")
    writing.insert(run("done", status="SUCCESSFUL", created_at=now), "default")

    with CaptureQueriesContext(connection) as queries:
        assert writing.resume("default", "k", now) == 1
    assert writing.resume("default", "other", now) == 0

    assert len(queries) == 1 and queries[0]["sql"].startswith("UPDATE")
    resumed = models.TaskRun.objects.get(pk="new")
    assert (resumed.status, resumed.attempts, resumed.last_attempted_at) == ("RUNNING", 1, now)
    assert models.TaskRun.objects.get(pk="old").status == "FAILED"
