"""django.tasks on Cloud Tasks, the whole loop: a live Django server storing results, Google's
clients, the Cloud Tasks and Cloud Scheduler emulators (OIDC tokens from the local issuer) and the
controller's own `reconcile` command. No mocks.
"""

import functools
import io
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from django_integration import exceptions, framework, models, registry
from emulators import oidc, testing
from tests.django_integration.conftest import CALLER
from tests.django_integration.testapp import tasks as testapp_tasks

ROOT = Path(__file__).resolve().parents[2]
APP = "tests.django_integration.testapp.tasks"

eventually = functools.partial(testing.eventually, timeout=30)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def app(live_server, verified, cloud_tasks_emulator):
    """The live server as the tasks' domain, verifying tokens, storing every result."""
    with override_settings(GCP_TASKS_DOMAIN=live_server.url, GCP_TASKS_RECORD_EXECUTIONS=True):
        yield live_server


def finished(result):
    def check():
        result.refresh()
        return result.is_finished

    return check


def test_an_enqueued_task_runs_once_and_its_result_is_read_back(app):
    before = timezone.now()
    result = testapp_tasks.add.enqueue(20, b=22)

    eventually(finished(result))
    assert (result.status, result.return_value, result.attempts) == ("SUCCESSFUL", 42, 1)
    assert before <= result.enqueued_at <= result.started_at <= result.finished_at
    assert result.last_attempted_at == result.started_at and result.errors == []
    assert testapp_tasks.runs_of("add") == [({"a": 20, "b": 22}, None)]
    # Pushed with a token the app verified: the caller is the service account.
    assert models.TaskExecution.objects.get(run_id=result.id).caller == CALLER


def test_a_failing_task_is_retried_by_cloud_tasks_and_its_errors_are_recorded(app, emulator_clock):
    testapp_tasks.attempts_left["live"] = 2
    result = testapp_tasks.flaky.enqueue("live")

    def done():
        emulator_clock.advance(1)  # past each backoff
        result.refresh()
        return result.status == "SUCCESSFUL"  # FAILED is finished too, until the next retry

    eventually(done)
    assert (result.status, result.return_value, result.attempts) == ("SUCCESSFUL", "recovered", 3)
    assert [e.exception_class_path for e in result.errors] == ["builtins.RuntimeError"] * 2
    assert "2 failure(s) to go" in result.errors[0].traceback
    statuses = models.TaskExecution.objects.filter(run_id=result.id).order_by("attempt")
    assert [(e.attempt, e.status) for e in statuses] == [
        (1, "FAILED"),
        (2, "FAILED"),
        (3, "SUCCESSFUL"),
    ]


def test_run_after_delays_dispatch_on_the_emulators_clock(app, emulator_clock):
    when = timezone.now() + timedelta(minutes=10)
    result = testapp_tasks.add.using(run_after=when).enqueue(1, 1)

    emulator_clock.advance((when - emulator_clock.now()).total_seconds() - 60)  # a minute early
    with pytest.raises(AssertionError):
        testing.eventually(finished(result), timeout=1.5)
    assert testapp_tasks.runs_of("add") == []
    emulator_clock.advance(61)
    eventually(finished(result))
    assert result.return_value == 2


def test_a_duplicate_deduplicated_enqueue_raises(app):
    first = testapp_tasks.rebuild.enqueue("everything")
    with pytest.raises(exceptions.DuplicateTaskError):
        testapp_tasks.rebuild.enqueue("everything")

    eventually(finished(first))
    assert first.return_value == {"rebuilt": "everything"}
    assert len(testapp_tasks.runs_of("rebuild")) == 1


def test_a_periodic_task_is_exported_reconciled_and_fired_at_the_endpoint(
    app, pubsub_emulator, cloud_scheduler_emulator, emulator_clock, tmp_path, pytestconfig
):
    project = testing.unique_project("live")
    document = tmp_path / "registry.json"
    document.write_text(registry.render(project=project))
    [job] = [
        j
        for j in json.loads(document.read_text())["spec"]["schedulerJobs"]
        if j["name"] == "test--sweep"
    ]
    assert job["httpTarget"]["uri"] == f"{app.url}/gcp/django-tasks/{APP}.sweep"

    if pytestconfig.getoption("lean"):
        # This install has no controller extra, so no `gcp-tasks-controller` command: the same
        # reconcile engine runs through django-gcp's task_manager instead.
        with override_settings(GCP_TASKS_PROJECT=project):
            call_command("task_manager", "create_scheduler_jobs", stdout=io.StringIO())
    else:
        reconcile = subprocess.run(
            [sys.executable, "-m", "controller.cli", "reconcile", "--registry", str(document)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert reconcile.returncode == 0, reconcile.stderr[-3000:]
    client = testing.scheduler_client(cloud_scheduler_emulator.host)
    try:
        created = client.get_job(name=f"projects/{project}/locations/europe-west1/jobs/test--sweep")
    finally:
        client.transport.close()
    assert (created.schedule, created.time_zone) == ("*/5 * * * *", "Europe/Paris")

    emulator_clock.advance(5 * 60)  # the next */5 minute comes within five minutes
    [(kwargs, _)] = eventually(lambda: testapp_tasks.runs_of("sweep"))
    assert kwargs == {"scope": "recent"}
    run = eventually(
        lambda: models.TaskRun.objects.filter(task=f"{APP}.sweep", status="SUCCESSFUL").first()
    )
    assert (run.kind, run.return_value) == ("periodic", {"swept": "recent"})
    assert run.executions.get().scheduler_job_name == "test--sweep"
    assert testapp_tasks.sweep.get_result(run.id).return_value == {"swept": "recent"}


@pytest.mark.parametrize(
    "task_path",
    [
        "os.system",
        "django_integration.models.TaskRun",
        "django_integration.models",
        f"{APP}.plain_function",
    ],
)
def test_requests_naming_unregistered_paths_are_refused_and_run_nothing(app, verified, task_path):
    url = f"{app.url}/gcp/django-tasks/{task_path}"
    token = verified.token(url, CALLER)
    response = requests.post(
        url,
        json={"id": "x", "args": ["touch /tmp/pwned"], "kwargs": {}},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 404
    assert testapp_tasks.runs == [] and models.TaskRun.objects.count() == 0


def test_forged_tokens_are_refused(app, verified):
    url = f"{app.url}/gcp/django-tasks/{APP}.add"
    payload = {"id": "forged", "args": [1, 2], "kwargs": {}}
    with oidc.Issuer() as forger:
        forged = requests.post(
            url,
            json=payload,
            headers={"Authorization": f"Bearer {forger.token(url, CALLER)}"},
            timeout=10,
        )
    assert forged.status_code == 401
    assert testapp_tasks.runs_of("add") == []
    with pytest.raises(framework.TaskResultDoesNotExist):
        testapp_tasks.add.get_result("forged")
