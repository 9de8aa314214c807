"""The endpoints through Django's test client, with tokens from a local OIDC issuer."""

import base64
import json
import logging

import django
import pytest
from django.test import override_settings
from django.utils.log import AdminEmailHandler

from django_integration import views
from emulators import oidc
from tests.django_integration.conftest import CALLER
from tests.django_integration.testapp import tasks as testapp_tasks

DOMAIN = "https://tasks.example.com"

pytestmark = pytest.mark.usefixtures("verified")


def url(name, kind="tasks"):
    return f"/gcp/{kind}/{name}"


def post(client, issuer, path, body=b"{}", email=CALLER, audience=None, **headers):
    token = issuer.token(audience or f"{DOMAIN}{path}", email)
    return client.post(
        path,
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", **headers},
    )


def test_a_verified_request_runs_the_task_with_its_body_and_headers(client, verified):
    response = post(
        client,
        verified,
        url("RecordingTask"),
        b'{"order": 7}',
        **{
            "X-CloudTasks-QueueName": "test-queue",
            "X-CloudTasks-TaskName": "abc",
            "X-CloudTasks-TaskRetryCount": "1",
            "X-CloudTasks-TaskExecutionCount": "1",
        },
    )

    assert response.status_code == 200
    assert response.json() == {"result": {"received": {"order": 7}}}
    [(kwargs, info)] = testapp_tasks.runs_of("RecordingTask")
    assert kwargs == {"order": 7}
    assert (info.queue_name, info.task_name, info.retry_count, info.execution_count) == (
        "test-queue",
        "abc",
        1,
        1,
    )
    assert info.caller == CALLER


def test_a_scheduler_firing_with_an_empty_body_runs_the_periodic_task(client, verified):
    response = post(
        client,
        verified,
        url("HourlyTask"),
        b"",
        **{"X-CloudScheduler": "true", "X-CloudScheduler-JobName": "test--hourlytask"},
    )
    assert response.status_code == 200 and response.json() == {"result": "tick"}
    [(kwargs, info)] = testapp_tasks.runs_of("HourlyTask")
    assert kwargs == {} and info.scheduler_job_name == "test--hourlytask"


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete", "options", "head"])
def test_only_post_is_allowed(client, method):
    response = getattr(client, method)(url("RecordingTask"))
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert testapp_tasks.runs_of("RecordingTask") == []


def _another_issuer_token(path):
    with oidc.Issuer() as stranger:
        return stranger.token(f"{DOMAIN}{path}", CALLER)


def _bearer(issuer, audience, email=CALLER):
    return {"Authorization": f"Bearer {issuer.token(audience, email)}"}


@pytest.mark.parametrize(
    ("make_headers", "status", "error"),
    [
        (lambda issuer, path: {}, 401, "Missing bearer token"),
        (lambda issuer, path: {"Authorization": "Bearer not-a-jwt"}, 401, "Invalid token"),
        (
            lambda issuer, path: {"Authorization": f"Bearer {_another_issuer_token(path)}"},
            401,
            "Invalid token",
        ),
        (
            lambda issuer, path: _bearer(issuer, f"{DOMAIN}/gcp/tasks/ExplodingTask"),
            403,
            "Forbidden",
        ),
        (
            lambda issuer, path: _bearer(
                issuer, f"{DOMAIN}{path}", "x@evil.iam.gserviceaccount.com"
            ),
            403,
            "Forbidden",
        ),
    ],
    ids=["no-token", "garbage", "other-key", "wrong-audience", "outside-allowlist"],
)
def test_refused_requests_do_not_run_the_task(client, verified, make_headers, status, error):
    path = url("RecordingTask")
    response = client.post(
        path, data=b"{}", content_type="application/json", headers=make_headers(verified, path)
    )
    assert response.status_code == status
    assert response.json() == {"error": error}
    assert testapp_tasks.runs_of("RecordingTask") == []


def test_unknown_tasks_are_404_without_listing_the_others(client, verified):
    response = post(client, verified, url("NoSuchTask"))
    assert response.status_code == 404
    body = response.content.decode()
    assert response.json() == {"error": "Task not found"}
    for name in ("RecordingTask", "HourlyTask", "SendOrderConfirmation", "RecordingSubscriber"):
        assert name not in body


def test_unknown_tasks_are_not_revealed_to_unauthenticated_callers(client):
    assert client.post(url("NoSuchTask")).status_code == 401


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (url("RecordingSubscriber"), 404),  # subscribers answer only on their own URL
        (url("RecordingTask", "subscriber-tasks"), 404),
        (url("HourlyTask", "subscriber-tasks"), 404),
    ],
)
def test_each_endpoint_serves_its_own_kinds(client, verified, path, status):
    assert post(client, verified, path).status_code == status


@pytest.mark.parametrize(
    "body",
    [b"{oops", b"[1, 2]", b"\xff", pytest.param(b"[" * 100_000 + b"]" * 100_000, id="deep")],
)
def test_unparseable_bodies_are_400(client, verified, body):
    response = post(client, verified, url("RecordingTask"), body)
    assert response.status_code == 400
    assert response.json()["error"].startswith("Unable to parse request arguments.")
    assert testapp_tasks.runs_of("RecordingTask") == []


class Records(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def task_log():
    """What reaches the documented task logger through standard logging."""
    handler = Records()
    task_logger = logging.getLogger(views.TASK_LOGGER)
    task_logger.addHandler(handler)
    yield handler.records
    task_logger.removeHandler(handler)


def test_a_failing_task_is_500_and_logged_with_its_traceback(client, verified, task_log):
    response = post(
        client, verified, url("ExplodingTask"), b'{"n": 1}', **{"X-CloudTasks-TaskName": "t-1"}
    )
    assert response.status_code == 500
    assert response.json() == {"error": "Error running task"}  # no internals leak to the caller
    [failure] = task_log
    assert (failure.levelno, failure.getMessage()) == (logging.ERROR, "Task ExplodingTask failed")
    assert failure.exc_info[0] is RuntimeError and str(failure.exc_info[1]) == "boom"
    assert (failure.task, failure.task_name, failure.caller) == ("ExplodingTask", "t-1", CALLER)


# Django 6 takes addresses and deprecates (name, address) pairs, which Django 5.2 needs.
@override_settings(
    ADMINS=["ops@example.com"] if django.VERSION >= (6,) else [("Ops", "ops@example.com")]
)
def test_a_failing_task_reaches_mail_admins_with_its_traceback(client, verified, mailoutbox):
    # Django's own handler, attached as a project's LOGGING would attach it.
    handler = AdminEmailHandler()
    task_logger = logging.getLogger(views.TASK_LOGGER)
    task_logger.addHandler(handler)
    try:
        assert post(client, verified, url("ExplodingTask")).status_code == 500
    finally:
        task_logger.removeHandler(handler)
    [mail] = mailoutbox
    assert mail.to == ["ops@example.com"]
    assert "Task ExplodingTask failed" in mail.subject
    assert 'raise RuntimeError("boom")' in mail.body
    assert "/gcp/tasks/ExplodingTask" in mail.body


def test_successful_tasks_and_refusals_log_no_errors(client, verified, task_log):
    assert post(client, verified, url("RecordingTask")).status_code == 200
    assert post(client, verified, url("RecordingTask"), b"[]").status_code == 400
    assert task_log == []


def _strict_task():
    from django_integration.tasks import OnDemandTask

    class StrictOrder(OnDemandTask):
        def run(self, order_id, email=None):
            testapp_tasks.record(self.name(), {"order_id": order_id}, self.task_info)

    return StrictOrder


@pytest.mark.parametrize(
    ("task", "body", "problem"),
    [
        ("StrictOrder", b"{}", "missing a required argument: 'order_id'"),
        ("StrictOrder", b'{"order_id": 1, "colour": 2}', "unexpected keyword argument 'colour'"),
        ("StrictOrder", b'{"order_id": 1, "self": 2}', "multiple values for argument 'self'"),
        ("RecordingTask", b'{"self": 2}', "multiple values for argument 'self'"),
    ],
)
def test_arguments_that_do_not_fit_run_are_400_and_run_nothing(
    client, verified, isolated_registrations, task_log, task, body, problem
):
    _strict_task()
    response = post(client, verified, url(task), body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error.startswith(f"Arguments do not fit {task}.run(): ") and problem in error
    assert testapp_tasks.runs_of(task) == []
    assert task_log == []


def test_arguments_that_fit_run_it(client, verified, isolated_registrations):
    _strict_task()
    response = post(client, verified, url("StrictOrder"), b'{"order_id": 7}')
    assert response.status_code == 200
    assert [kwargs for kwargs, _ in testapp_tasks.runs_of("StrictOrder")] == [{"order_id": 7}]


def test_an_overridden_execute_is_checked_too(client, verified, isolated_registrations):
    from django_integration.tasks import OnDemandTask

    class Wrapped(OnDemandTask):
        def execute(self, tenant, **kwargs):
            return super().execute(**kwargs)

        def run(self, **kwargs):
            testapp_tasks.record(self.name(), kwargs, self.task_info)

    response = post(client, verified, url("Wrapped"), b'{"n": 1}')
    assert response.status_code == 400
    assert "missing a required argument: 'tenant'" in response.json()["error"]
    assert testapp_tasks.runs_of("Wrapped") == []


def test_a_subscriber_whose_run_takes_fewer_arguments_is_400(
    client, verified, isolated_registrations
):
    from django_integration.tasks import SubscriberTask

    class Narrow(SubscriberTask):
        topic_id = "narrow"

        def run(self, data):
            testapp_tasks.record(self.name(), {"data": data}, self.task_info)

    response = post(client, verified, url("Narrow", "subscriber-tasks"), _envelope(b"{}"))
    assert response.status_code == 400
    assert "unexpected keyword argument" in response.json()["error"]
    assert testapp_tasks.runs_of("Narrow") == []


@pytest.mark.parametrize(
    ("claims", "status"),
    [
        ({"aud": [f"{DOMAIN}/gcp/tasks/RecordingTask"]}, 403),
        ({"iss": ["https://accounts.google.com"]}, 401),
        ({"email": [CALLER]}, 403),
        ({"email": {CALLER: True}}, 403),
        ({"nbf": 4102444800}, 401),  # 2100-01-01
    ],
)
def test_tokens_with_odd_claims_are_refused_not_500(client, verified, claims, status):
    path = url("RecordingTask")
    token = verified.token(f"{DOMAIN}{path}", CALLER, claims=claims)
    response = client.post(
        path,
        data=b"{}",
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == status
    assert testapp_tasks.runs_of("RecordingTask") == []


@pytest.mark.parametrize("attempt", ["1e400", "-1e400", '"NaN"', "[1]"])
def test_an_odd_delivery_attempt_is_ignored_not_500(client, verified, attempt):
    envelope = json.loads(_envelope(b"{}"))
    body = json.dumps({**envelope, "deliveryAttempt": 0}).replace(
        '"deliveryAttempt": 0', f'"deliveryAttempt": {attempt}'
    )
    response = post(client, verified, url("RecordingSubscriber", "subscriber-tasks"), body.encode())
    assert response.status_code == 200
    [(_, info)] = testapp_tasks.runs_of("RecordingSubscriber")
    assert info.delivery_attempt is None


def test_an_unencodable_result_still_answers_200(client, verified, isolated_registrations):
    from django_integration.tasks import OnDemandTask

    class Opaque(OnDemandTask):
        def run(self, **kwargs):
            return object()

    response = post(client, verified, url("Opaque"))
    assert response.status_code == 200
    assert response.json()["result"].startswith("<object object")


def _envelope(data, **message):
    message["data"] = base64.b64encode(data).decode()
    return json.dumps(
        {"message": message, "subscription": "projects/p/subscriptions/s", "deliveryAttempt": 2}
    ).encode()


def test_a_pubsub_push_runs_the_subscriber_with_the_decoded_message(client, verified):
    body = _envelope(
        b'{"order": 42}',
        attributes={"kind": "created"},
        messageId="m-1",
        orderingKey="customer-7",
        publishTime="2025-01-15T12:00:00.123456789Z",
    )
    response = post(client, verified, url("RecordingSubscriber", "subscriber-tasks"), body)

    assert response.status_code == 200 and response.json() == {"result": "ok"}
    [(kwargs, info)] = testapp_tasks.runs_of("RecordingSubscriber")
    assert kwargs["data"] == {"order": 42}
    assert kwargs["attributes"] == {"kind": "created"}
    assert (kwargs["message_id"], kwargs["ordering_key"]) == ("m-1", "customer-7")
    assert kwargs["publish_time"].isoformat() == "2025-01-15T12:00:00.123456+00:00"
    assert kwargs["subscription"] == "projects/p/subscriptions/s"
    assert "delivery_attempt" not in kwargs  # django-gcp's run() signature is kept
    assert info.delivery_attempt == 2 and info.caller == CALLER


@pytest.mark.parametrize(
    "body",
    [
        b'{"a": 1}',
        _envelope(b"{}", attributes={"n": 1}),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="deep"),
    ],
)
def test_a_malformed_envelope_is_400(client, verified, body):
    response = post(client, verified, url("RecordingSubscriber", "subscriber-tasks"), body)
    assert response.status_code == 400
    assert testapp_tasks.runs_of("RecordingSubscriber") == []


def test_unreachable_certificates_are_503_so_google_retries(client):
    with oidc.Issuer() as issuer:
        token = issuer.token(f"{DOMAIN}{url('RecordingTask')}", CALLER)
    with override_settings(GCP_TASKS_OIDC_CERTS_URL="http://127.0.0.1:9/oauth2/v1/certs"):
        response = client.post(
            url("RecordingTask"),
            data=b"{}",
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 503
    assert testapp_tasks.runs_of("RecordingTask") == []


@override_settings(GCP_TASKS_DISABLE_AUTH=True)
def test_with_verification_explicitly_off_no_token_is_needed(client):
    response = client.post(url("RecordingTask"), data=b'{"n": 1}', content_type="application/json")
    assert response.status_code == 200
    [(kwargs, info)] = testapp_tasks.runs_of("RecordingTask")
    assert kwargs == {"n": 1} and info.caller is None


def test_csrf_does_not_apply(verified):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert post(strict, verified, url("RecordingTask")).status_code == 200
