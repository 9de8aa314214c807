"""The django.tasks endpoint through Django's test client, with tokens from a local OIDC issuer."""

import json
import logging
import sys
import threading
from datetime import timedelta

import pytest
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone

from django_integration import backend_views, catalog, claiming, framework, loggers, models
from emulators import oidc
from tests.django_integration.conftest import CALLER
from tests.django_integration.testapp import tasks as testapp_tasks

DOMAIN = "https://tasks.example.com"
APP = "tests.django_integration.testapp.tasks"

pytestmark = pytest.mark.usefixtures("verified")
recorded = override_settings(GCP_TASKS_RECORD_EXECUTIONS=True)


def post(client, issuer, task_path, body, **headers):
    path = f"/gcp/django-tasks/{task_path}"
    token = issuer.token(f"{DOMAIN}{path}", CALLER)
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.post(
        path,
        data=data,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", **headers},
    )


def stored_run(run_id, task="add", **fields):
    """A django.tasks run of the test app's `task` as the backend stores it."""
    return models.TaskRun.objects.create(
        id=run_id, kind=models.Kind.DJANGO_TASK, task=f"{APP}.{task}", backend="default", **fields
    )


def body(run_id="r-1", *args, **kwargs):
    return {"id": run_id, "backend": "default", "args": list(args), "kwargs": kwargs}


def test_a_verified_delivery_runs_the_registered_task(client, verified):
    response = post(client, verified, f"{APP}.add", body("r-1", 2, b=3))

    assert response.status_code == 200
    assert response.json() == {"id": "r-1", "status": "SUCCESSFUL", "result": 5}
    assert testapp_tasks.runs_of("add") == [({"a": 2, "b": 3}, None)]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer forged.token.here"}],
    ids=["no-token", "garbage-token"],
)
def test_unverified_deliveries_are_refused(client, headers):
    path = f"/gcp/django-tasks/{APP}.add"
    response = client.post(
        path, data=json.dumps(body("r", 1, 2)), content_type="application/json", headers=headers
    )
    assert response.status_code == 401
    assert testapp_tasks.runs_of("add") == []


def test_a_token_from_another_key_is_refused(client):
    with oidc.Issuer() as stranger:
        response = post(client, stranger, f"{APP}.add", body("r", 1, 2))
    assert response.status_code == 401
    assert testapp_tasks.runs_of("add") == []


@pytest.mark.parametrize(
    "task_path",
    [
        "os.system",
        "django_integration.models.TaskRun",  # a model class
        "django_integration.models",  # a module
        f"{APP}.plain_function",  # a plain function
        f"{APP}.elsewhere",  # a task of another backend
        "tests.django_integration.never_imported.run",  # never imported by anything
        f"{APP}.add.func",
    ],
)
def test_anything_but_a_registered_task_is_not_found_and_nothing_is_imported(
    client, verified, task_path
):
    response = post(client, verified, task_path, body("r", "echo pwned"))

    assert (response.status_code, response.json()) == (404, {"error": "Task not found"})
    assert "tests.django_integration.never_imported" not in sys.modules
    assert testapp_tasks.runs == []


def test_the_catalog_holds_exactly_the_cloud_tasks_backends_tasks():
    registered = catalog.tasks()
    assert f"{APP}.add" in registered and f"{APP}.sweep" in registered
    assert f"{APP}.elsewhere" not in registered
    assert all(
        task.get_backend().__class__.__name__ == "CloudTasksBackend" for task in registered.values()
    )


@pytest.mark.parametrize(
    ("backend", "status"),
    [("deduplicated", 200), ("immediate", 404), ("nonexistent", 404), (["x"], 404)],
)
def test_the_body_may_name_only_a_cloud_tasks_backend(client, verified, backend, status):
    payload = {**body("r", 1, 2), "backend": backend}
    assert post(client, verified, f"{APP}.add", payload).status_code == status


def _too_deep_for_djangos_rules():
    """A body whose arguments Python's json decodes but Django's `normalize_json`, recursive,
    cannot walk: the first depth at which it fails here (deeper in a request's stack, sooner)."""
    for depth in range(50, 5000, 50):
        value = []
        for _ in range(depth):
            value = [value]
        try:
            framework.normalize_json(value)
        except RecursionError:
            break
    text = f'{{"id": "r-deep", "args": [1, {"[" * depth}{"]" * depth}]}}'
    json.loads(text)  # the decoder takes it: the endpoint's argument check must refuse it
    return text.encode()


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        (body("r", 1), "missing a required argument: 'b'"),
        (body("r", 1, 2, c=3), "unexpected keyword argument 'c'"),
        ({"id": "r", "args": {"a": 1}}, "args must be a JSON array"),
        ({"id": "r", "kwargs": [1]}, "kwargs must be a JSON object"),
        ({"id": "has space", "args": [1, 2]}, "id must be"),
        ({"id": "r-1\n", "args": [1, 2]}, "id must be"),  # Python's `$` matches before a newline
        (b"[1, 2]", "must be a JSON object"),
        (b"{not json", "not JSON"),
        (b'{"id": "r", "args": [NaN, 1]}', "NaN is not a JSON value"),
        (b'{"id": "r", "args": [1, Infinity]}', "Infinity is not a JSON value"),
    ],
)
def test_a_body_or_arguments_that_do_not_fit_are_a_400(client, verified, payload, fragment):
    response = post(client, verified, f"{APP}.add", payload)
    assert response.status_code == 400
    assert fragment in response.json()["error"]
    assert testapp_tasks.runs_of("add") == []


def test_a_failing_task_answers_500_so_google_retries(client, verified):
    response = post(client, verified, f"{APP}.explode", body("r-2", 7))
    assert response.status_code == 500
    assert response.json() == {"id": "r-2", "status": "FAILED", "error": "Error running task"}


def test_a_permanent_failure_answers_200_so_google_stops(client, verified):
    response = post(client, verified, f"{APP}.refuse", body("r-3", "bad input"))
    assert response.status_code == 200
    assert response.json() == {"id": "r-3", "status": "FAILED", "retry": False}


def test_a_return_value_that_is_not_json_fails_without_retry(client, verified):
    response = post(client, verified, f"{APP}.unserializable", body("r-4"))
    assert (response.status_code, response.json()["retry"]) == (200, False)
    assert len(testapp_tasks.runs_of("unserializable")) == 1


def test_the_context_attempt_comes_from_the_cloud_tasks_retry_count(client, verified):
    response = post(
        client,
        verified,
        f"{APP}.introspect",
        body("r-5", 1),
        **{"X-CloudTasks-TaskRetryCount": "2"},
    )
    assert response.json()["result"] == {"attempt": 3, "id": "r-5"}


def test_async_task_functions_run(client, verified):
    assert post(client, verified, f"{APP}.async_double", body("r-6", 21)).json()["result"] == 42


# -- with results stored ----------------------------------------------------------------------


@pytest.mark.django_db
@recorded
def test_a_repeated_delivery_of_a_succeeded_task_runs_nothing(client, verified):
    first = post(client, verified, f"{APP}.add", body("r-7", 1, 2))
    again = post(client, verified, f"{APP}.add", body("r-7", 1, 2))

    assert first.json()["status"] == "SUCCESSFUL"
    assert (again.status_code, again.json()) == (
        200,
        {"id": "r-7", "status": "SUCCESSFUL", "duplicate": True},
    )
    assert len(testapp_tasks.runs_of("add")) == 1
    result = testapp_tasks.add.get_result("r-7")
    assert (result.status, result.return_value, result.attempts) == ("SUCCESSFUL", 3, 1)
    assert result.started_at <= result.finished_at


@pytest.mark.django_db
@recorded
def test_a_retry_after_a_failure_ends_successful_with_the_failure_recorded(client, verified):
    testapp_tasks.attempts_left["k"] = 1
    failed = post(client, verified, f"{APP}.flaky", body("r-8", "k"))
    retried = post(
        client, verified, f"{APP}.flaky", body("r-8", "k"), **{"X-CloudTasks-TaskRetryCount": "1"}
    )

    assert (failed.status_code, retried.status_code) == (500, 200)
    result = testapp_tasks.flaky.get_result("r-8")
    assert (result.status, result.return_value, result.attempts) == ("SUCCESSFUL", "recovered", 2)
    [error] = result.errors
    assert error.exception_class is RuntimeError and "1 failure(s) to go" in error.traceback
    executions = models.TaskExecution.objects.filter(run_id="r-8").order_by("attempt")
    assert [(e.attempt, e.status) for e in executions] == [(1, "FAILED"), (2, "SUCCESSFUL")]


@pytest.mark.django_db
@recorded
def test_a_permanent_failure_is_final(client, verified):
    post(client, verified, f"{APP}.refuse", body("r-9", "no"))
    later = post(client, verified, f"{APP}.refuse", body("r-9", "no"))

    assert later.json() == {"id": "r-9", "status": "FAILED", "retry": False}
    assert len(testapp_tasks.runs_of("refuse")) == 1
    result = testapp_tasks.refuse.get_result("r-9")
    assert result.status == "FAILED"
    assert [e.exception_class_path for e in result.errors] == [
        "django_integration.exceptions.PermanentTaskError"
    ]


@pytest.mark.django_db
@recorded
def test_a_scheduler_firing_is_one_run_however_often_it_is_delivered(client, verified):
    headers = {
        "X-CloudScheduler": "true",
        "X-CloudScheduler-JobName": "test--sweep",
        "X-CloudScheduler-ScheduleTime": "2025-01-15T12:05:00+01:00",
    }
    firing = {"args": [], "kwargs": {"scope": "recent"}}
    first = post(client, verified, f"{APP}.sweep", firing, **headers)
    again = post(client, verified, f"{APP}.sweep", firing, **headers)

    assert first.json()["result"] == {"swept": "recent"} and again.json()["duplicate"] is True
    run = models.TaskRun.objects.get()
    assert (run.id, first.json()["id"]) == (run.id, run.id)
    assert (run.kind, run.backend, run.status) == ("periodic", "default", "SUCCESSFUL")
    assert run.executions.get().scheduler_job_name == "test--sweep"
    assert testapp_tasks.sweep.get_result(run.id).return_value == {"swept": "recent"}


@pytest.mark.django_db(transaction=True)
@recorded
def test_two_concurrent_deliveries_never_run_a_task_at_once(verified):
    running = threading.Thread(
        target=lambda: post(Client(), verified, f"{APP}.linger", body("r-10", 1.0))
    )
    running.start()
    try:
        deadline = timezone.now() + timedelta(seconds=20)
        while not models.TaskRun.objects.filter(pk="r-10", status="RUNNING").exists():
            assert timezone.now() < deadline, "the first delivery never started"
        second = post(Client(), verified, f"{APP}.linger", body("r-10", 1.0))
    finally:
        running.join(timeout=30)
    third = post(Client(), verified, f"{APP}.linger", body("r-10", 1.0))

    assert (second.status_code, second.json()) == (409, {"id": "r-10", "status": "RUNNING"})
    assert third.json()["duplicate"] is True
    assert len(testapp_tasks.runs_of("linger")) == 1


@pytest.mark.django_db
@recorded
def test_a_delivery_that_runs_nothing_is_one_info_record(client, verified, caplog):
    post(client, verified, f"{APP}.add", body("r-17", 1, 2))
    caplog.set_level(logging.INFO)
    caplog.clear()  # Django 6 logs the first run's start and end at INFO by default
    again = post(client, verified, f"{APP}.add", body("r-17", 1, 2))

    assert again.json()["duplicate"] is True
    [record] = caplog.records
    assert (record.name, record.levelno) == (loggers.django_tasks.name, logging.INFO)
    reason = claiming.Outcome.SUCCEEDED_BEFORE.value
    assert (record.task, record.task_run, record.reason) == (f"{APP}.add", "r-17", reason)


@pytest.mark.django_db
@recorded
def test_an_expired_lease_lets_the_next_delivery_run_it(client, verified):
    stored_run(
        "r-11",
        status=models.Status.RUNNING,
        lease_id="crashed-worker",
        lease_expires_at=timezone.now() - timedelta(seconds=1),
        attempts=1,
    )
    response = post(client, verified, f"{APP}.add", body("r-11", 1, 1))

    assert response.json()["status"] == "SUCCESSFUL"
    run = models.TaskRun.objects.get(pk="r-11")
    assert (run.status, run.attempts, run.lease_id) == ("SUCCESSFUL", 2, "")


@pytest.mark.django_db
@recorded
def test_a_cancelled_run_runs_nothing(client, verified):
    stored_run("r-12", status=models.Status.FAILED, retryable=False, cancelled_at=timezone.now())
    response = post(client, verified, f"{APP}.add", body("r-12", 1, 1))
    assert response.json() == {"id": "r-12", "status": "FAILED", "retry": False}
    assert testapp_tasks.runs_of("add") == []


@pytest.mark.django_db
@recorded
def test_an_id_naming_a_run_of_another_task_runs_nothing_and_changes_nothing(client, verified):
    stored_run("victim", task="explode", status=models.Status.FAILED)
    response = post(client, verified, f"{APP}.add", body("victim", 1, 2))
    assert response.status_code == 409
    assert testapp_tasks.runs_of("add") == []
    victim = models.TaskRun.objects.get(pk="victim")
    assert (victim.task, victim.status, victim.attempts) == (
        f"{APP}.explode",
        models.Status.FAILED,
        0,
    )
    assert not victim.executions.exists()


@pytest.mark.django_db
@recorded
def test_nested_arguments_are_refused_before_anything_is_recorded(client, verified):
    response = post(client, verified, f"{APP}.add", _too_deep_for_djangos_rules())
    assert response.status_code == 400
    assert "not task arguments" in response.json()["error"]
    assert testapp_tasks.runs_of("add") == []
    assert not models.TaskRun.objects.filter(pk="r-deep").exists()


def test_signals_carry_the_result(client, verified):
    seen = []

    def receiver(sender, task_result, **kwargs):
        seen.append((task_result.id, task_result.status))

    framework.task_started.connect(receiver)
    framework.task_finished.connect(receiver)
    try:
        post(client, verified, f"{APP}.add", body("r-13", 1, 1))
    finally:
        framework.task_started.disconnect(receiver)
        framework.task_finished.disconnect(receiver)
    assert seen == [("r-13", "RUNNING"), ("r-13", "SUCCESSFUL")]


def test_a_failure_is_logged_once_with_its_traceback_by_djangos_task_framework(
    client, verified, caplog
):
    post(client, verified, f"{APP}.explode", body("r-14", 3))

    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert [r.name for r in errors] == [framework.PACKAGE]  # not django.request as well
    assert "r-14" in errors[0].getMessage() and errors[0].exc_info[0] is RuntimeError


def test_a_success_is_logged_by_djangos_task_framework_alone(client, verified, caplog):
    caplog.set_level(logging.INFO)
    post(client, verified, f"{APP}.add", body("r-15", 1, 2))

    records = [(r.name, r.levelno) for r in caplog.records]
    assert records == [(framework.PACKAGE, logging.INFO)] * 2  # started, then SUCCESSFUL
    assert "state=SUCCESSFUL" in caplog.records[-1].getMessage()


@pytest.mark.parametrize(
    ("task_path", "payload", "headers", "status", "reason"),
    [
        (f"{APP}.add", body("r", 1, 2), {"Authorization": ""}, 401, "Missing bearer token"),
        ("os.system", body("r"), {}, 404, "no such task here"),
        (f"{APP}.add", {**body("r", 1, 2), "backend": "immediate"}, {}, 404, "CloudTasksBackend"),
        (f"{APP}.add", body("r", 1, 2, 3), {}, 400, "the arguments do not fit"),
        (f"{APP}.add", b"[", {}, 400, "not JSON"),
    ],
    ids=["no-token", "unknown-task", "other-backend", "arguments", "body"],
)
def test_a_refusal_is_one_warning_with_its_reason(
    client, verified, caplog, task_path, payload, headers, status, reason
):
    caplog.set_level(logging.INFO)
    response = post(client, verified, task_path, payload, **headers)
    assert response.status_code == status
    [record] = caplog.records  # and not again on django.request
    assert (record.name, record.levelno) == (loggers.refusals.name, logging.WARNING)
    assert (record.status, record.path) == (status, f"/gcp/django-tasks/{task_path}")
    assert reason in record.reason


def test_headers_are_read_without_building_request_headers(verified):
    path = f"/gcp/django-tasks/{APP}.introspect"
    token = verified.token(f"{DOMAIN}{path}", CALLER)
    request = RequestFactory().post(
        path,
        data=json.dumps(body("r-16", 1)),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", "X-CloudTasks-TaskRetryCount": "4"},
    )
    response = backend_views.DjangoTaskView.as_view()(request, task_path=f"{APP}.introspect")
    assert json.loads(response.content)["result"] == {"attempt": 5, "id": "r-16"}
    # Django's `request.headers` converts every header of the request on first use.
    assert "headers" not in request.__dict__
