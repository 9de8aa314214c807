"""The Executions pages: executions recorded by the real endpoints, listed, filtered, searched,
opened with their traceback, summarized, and retried only by users who may."""

from __future__ import annotations

import html

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from django_integration import models
from emulators import oidc
from tests.django_integration.conftest import CALLER

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("verified")]

PAGE = "/admin/django_integration/taskexecution/"
DOMAIN = "https://tasks.example.com"
recorded = override_settings(GCP_TASKS_RECORD_EXECUTIONS=True)


def deliver(client, issuer: oidc.Issuer, task: str, body: bytes, task_name: str) -> int:
    """One Cloud Tasks delivery to the real endpoint, as the emulator would send it."""
    path = f"/gcp/tasks/{task}"
    response = client.post(
        path,
        data=body,
        content_type="application/json",
        headers={
            "Authorization": f"Bearer {issuer.token(f'{DOMAIN}{path}', CALLER)}",
            "X-CloudTasks-QueueName": "test-queue",
            "X-CloudTasks-TaskName": task_name,
            "X-CloudTasks-TaskRetryCount": "0",
        },
    )
    return response.status_code


@pytest.fixture
def executions(client, verified):
    with recorded:
        assert deliver(client, verified, "RecordingTask", b'{"n": 1}', "ok-1") == 200
        assert deliver(client, verified, "ExplodingTask", b'{"n": 2}', "bad-1") == 500
    return {e.task: e for e in models.TaskExecution.objects.all()}


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_the_list_shows_each_execution_with_its_status(admin_client, executions):
    page = text(admin_client.get(PAGE))

    assert "RecordingTask" in page and "ExplodingTask" in page
    assert "SUCCESSFUL" in page and "FAILED" in page and "boom" in page
    assert "Summary per task" in page


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("status__exact=FAILED", "ExplodingTask", "RecordingTask"),
        ("task__exact=RecordingTask", "RecordingTask", "ExplodingTask"),
        ("kind__exact=on_demand&started=hour", "ExplodingTask", "never-shown"),
        ("q=boom", "ExplodingTask", "RecordingTask"),
        ("q=ok-1", "RecordingTask", "ExplodingTask"),
    ],
)
def test_filters_and_search(admin_client, executions, query, shown, hidden):
    page = text(admin_client.get(f"{PAGE}?{query}"))

    rows = page.split('id="result_list"')[1].split("</table>")[0]
    assert shown in rows and hidden not in rows


def test_a_run_id_finds_its_executions(admin_client, executions):
    run_id = executions["ExplodingTask"].run_id

    rows = text(admin_client.get(f"{PAGE}?q={run_id}")).split('id="result_list"')[1]

    assert "ExplodingTask" in rows and "RecordingTask" not in rows.split("</table>")[0]


def test_a_failed_execution_shows_its_traceback(admin_client, executions):
    failed = executions["ExplodingTask"]

    page = text(admin_client.get(f"{PAGE}{failed.pk}/change/"))

    assert 'class="gcptasks-traceback"' in page
    assert "Traceback (most recent call last)" in page
    assert 'raise RuntimeError("boom")' in page and "RuntimeError: boom" in page
    assert "{'n': 2}" in page  # the arguments a retry sends again
    assert "Retry with the same arguments" in page


def test_executions_are_read_only(admin_client, executions):
    failed = executions["ExplodingTask"]

    response = admin_client.post(f"{PAGE}{failed.pk}/change/", {"task": "Other"})

    assert response.status_code == 403
    assert models.TaskExecution.objects.get(pk=failed.pk).task == "ExplodingTask"
    assert admin_client.get(f"{PAGE}add/").status_code == 403


def test_without_the_retry_permission_nothing_is_retried(user_with, executions):
    viewer = user_with("view_taskexecution")
    failed = executions["ExplodingTask"]

    page = text(viewer.get(f"{PAGE}{failed.pk}/change/"))
    response = viewer.post(f"{PAGE}{failed.pk}/retry/")
    action = viewer.post(PAGE, {"action": "retry_selected", "_selected_action": [failed.pk]})

    assert "Retry with the same arguments" not in page
    assert response.status_code == 403
    assert action.status_code in (200, 302)
    assert models.TaskRun.objects.filter(retry_of__isnull=False).count() == 0


def test_only_failed_executions_are_retried(admin_client, executions):
    succeeded = executions["RecordingTask"]

    response = admin_client.post(f"{PAGE}{succeeded.pk}/retry/", follow=True)

    assert "only failed executions are retried" in text(response)
    assert not models.TaskRun.objects.filter(retry_of__isnull=False).exists()


def attempts_of(run_status: str) -> list[models.TaskExecution]:
    """Two failed attempts of one run, and a third that succeeded when the run did."""
    run = models.TaskRun.objects.create(
        id="run-1", kind="on_demand", task="ExplodingTask", status=run_status, kwargs={"n": 3}
    )
    attempts = [(1, "FAILED"), (2, "FAILED")]
    if run_status == "SUCCESSFUL":
        attempts.append((3, "SUCCESSFUL"))
    return [
        models.TaskExecution.objects.create(
            run=run, kind="on_demand", task="ExplodingTask", attempt=attempt, status=status
        )
        for attempt, status in attempts
    ]


def retry_selected(admin_client, executions: list[models.TaskExecution]) -> str:
    selected = [execution.pk for execution in executions]
    with recorded:
        response = admin_client.post(
            PAGE, {"action": "retry_selected", "_selected_action": selected}, follow=True
        )
    return text(response)


def retries() -> list[models.TaskRun]:
    return list(models.TaskRun.objects.filter(retry_of__isnull=False))


@pytest.mark.usefixtures("target")  # Cloud Tasks would take a retry: none may be sent
def test_failed_attempts_of_a_run_that_later_succeeded_are_not_retried(admin_client):
    first, second, _ = attempts_of("SUCCESSFUL")

    page = retry_selected(admin_client, [first, second])
    with recorded:
        detail = text(admin_client.post(f"{PAGE}{first.pk}/retry/", follow=True))

    refused = "not retried: its run run-1 is SUCCESSFUL; only a failed run is retried"
    assert page.count(refused) == 2 and refused in detail
    assert retries() == []


def test_a_failed_run_is_retried_once_however_many_of_its_attempts_are_selected(
    admin_client, target
):
    page = retry_selected(admin_client, attempts_of("FAILED"))

    [retried] = retries()
    assert (retried.retry_of_id, retried.kwargs) == ("run-1", {"n": 3})
    assert page.count("retried as run") == 1


def test_the_list_reads_neither_runs_nor_tracebacks(admin_client, executions):
    with CaptureQueriesContext(connection) as queries:
        page = text(admin_client.get(PAGE))

    assert "RecordingTask" in page and "ExplodingTask" in page and "boom" in page
    sql = "\n".join(query["sql"] for query in queries)
    assert "django_integration_taskexecution" in sql
    assert '"traceback"' not in sql and "django_integration_taskrun" not in sql


def test_the_summary_counts_each_task(admin_client, executions):
    page = text(admin_client.get(f"{PAGE}summary/"))

    explode = page.split('data-task="ExplodingTask"')[1].split("</tr>")[0]
    assert explode.count("100%") == 3  # failed in the last hour, day and week
    recording = page.split('data-task="RecordingTask"')[1].split("</tr>")[0]
    assert recording.count("0%") == 3 and "100%" not in recording


def test_pages_need_the_view_permission(user_with, executions):
    nobody = user_with()

    assert nobody.get(PAGE).status_code == 403
    assert nobody.get(f"{PAGE}summary/").status_code == 403
