"""Enqueueing against the Cloud Tasks emulator, with Google's own client."""

import functools
from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings
from google.cloud import tasks_v2

from django_integration import authentication, enqueueing, exceptions
from emulators import testing
from tests.django_integration.conftest import CALLER
from tests.django_integration.testapp import tasks as testapp_tasks

QUEUE = "projects/test-project/locations/europe-west1/queues/test-queue"

# Generous: pushes cross threads and processes on a busy 2-core machine; polling ends early.
eventually = functools.partial(testing.eventually, timeout=30)


def test_enqueue_reuses_one_client_and_creates_the_queue_once(
    target, builds, cloud_tasks_emulator, tasks_api
):
    created = [testapp_tasks.RecordingTask().enqueue(n=n) for n in range(5)]

    assert builds == [cloud_tasks_emulator.host]  # one client for five enqueues
    assert enqueueing.client() is enqueueing.client()
    assert cloud_tasks_emulator.requests.count("CreateQueue") == 1
    # The first CreateTask met a missing queue; after creating it, one retry; then one each.
    assert cloud_tasks_emulator.requests.count("CreateTask") == 6
    assert all(task.name.startswith(f"{QUEUE}/tasks/") for task in created)
    assert tasks_api.get_queue(name=QUEUE).name == QUEUE
    eventually(lambda: len(target.received) == 5)


def test_a_new_emulator_address_gets_a_new_client(target, builds, monkeypatch):
    testapp_tasks.RecordingTask().enqueue(n=1)
    first = enqueueing.client()
    with override_settings(GCP_TASKS_EMULATOR_TARGET="127.0.0.1:1"):
        assert enqueueing.client() is not first
    assert len(builds) == 2


def test_the_setting_points_at_the_emulator_without_the_variable(
    cloud_tasks_emulator, push_target, monkeypatch
):
    monkeypatch.delenv("CLOUD_TASKS_EMULATOR_HOST")
    with override_settings(
        GCP_TASKS_EMULATOR_TARGET=cloud_tasks_emulator.host, GCP_TASKS_DOMAIN=push_target.url
    ):
        testapp_tasks.RecordingTask().enqueue(n=1)
    assert cloud_tasks_emulator.requests.count("CreateTask") == 2


def test_tasks_carry_the_json_body_and_an_oidc_token(target, oidc_issuer):
    testapp_tasks.RecordingTask().enqueue(b=2, a=1)

    received = eventually(lambda: target.received)[0]
    url = f"{target.url}/gcp/tasks/RecordingTask"
    assert (received.method, received.path, received.body) == (
        "POST",
        "/gcp/tasks/RecordingTask",
        b'{"a":1,"b":2}',
    )
    assert received.headers["Content-Type"] == "application/json"
    token = received.headers["Authorization"].removeprefix("Bearer ")
    claims = authentication.verify_token(
        token, audiences={url}, allowed_emails={CALLER}, certs_url=oidc_issuer.certs_url
    )
    assert claims["email"] == CALLER


def test_a_configured_audience_replaces_the_url(target, oidc_issuer):
    with override_settings(GCP_TASKS_OIDC_AUDIENCE="https://audience.example.com"):
        testapp_tasks.RecordingTask().enqueue()
    token = eventually(lambda: target.received)[0].headers["Authorization"].split()[1]
    claims = authentication.verify_token(
        token,
        audiences={"https://audience.example.com"},
        allowed_emails={CALLER},
        certs_url=oidc_issuer.certs_url,
    )
    assert claims["aud"] == "https://audience.example.com"


def test_the_same_deduplicated_payload_twice_is_a_duplicate(target, cloud_tasks_emulator):
    task = testapp_tasks.DeduplicatedRecordingTask()
    first = task.enqueue(order=1, items=["a", "b"])
    with pytest.raises(exceptions.DuplicateTaskError, match="~1hour after the original task"):
        task.enqueue(items=["a", "b"], order=1)  # same payload, other keyword order
    other = task.enqueue(order=2, items=["a", "b"])

    assert first.name != other.name
    assert first.name.endswith("--deduplicatedrecordingtask--test")
    eventually(lambda: len(target.received) == 2)
    # Dispatched and gone, the name stays taken for the tombstone window, as on Google.
    with pytest.raises(exceptions.DuplicateTaskError):
        task.enqueue(order=1, items=["a", "b"])


def test_an_oversized_payload_fails_before_any_api_call(target, cloud_tasks_emulator):
    with pytest.raises(exceptions.PayloadTooLargeError, match="exceeds Cloud Tasks' limit"):
        testapp_tasks.RecordingTask().enqueue(blob="x" * enqueueing.MAX_TASK_BYTES)
    assert cloud_tasks_emulator.requests.count() == 0


def test_a_payload_just_under_the_limit_is_sent(target, cloud_tasks_emulator):
    testapp_tasks.RecordingTask().enqueue(blob="x" * (enqueueing.MAX_TASK_BYTES - 4096))
    assert cloud_tasks_emulator.requests.count("CreateTask") == 2


def test_enqueue_later_schedules_the_task(target, cloud_tasks_emulator, emulator_clock):
    created = testapp_tasks.RecordingTask().enqueue_later(timedelta(minutes=5), n=1)

    expected = datetime.now(UTC) + timedelta(minutes=5)
    assert abs(created.schedule_time.timestamp() - expected.timestamp()) < 5
    emulator_clock.advance(60)
    assert target.received == []
    emulator_clock.advance(300)
    eventually(lambda: len(target.received) == 1)


def test_dispatch_deadline_is_passed_on(target, isolated_registrations):
    from django_integration.tasks import OnDemandTask

    class Patient(OnDemandTask):
        dispatch_deadline = 900

    assert Patient().enqueue().dispatch_deadline == timedelta(seconds=900)


def test_enqueue_many_reports_each_task_in_order(target, builds, cloud_tasks_emulator):
    kwargs = [{"n": n} for n in range(20)] + [{"n": 3}, {"bad": object()}]
    outcomes = testapp_tasks.DeduplicatedRecordingTask.enqueue_many(kwargs, max_workers=8)

    assert len(outcomes) == 22
    # Items 3 and 20 carry the same payload and race each other: exactly one of them wins.
    first, again = outcomes[3], outcomes[20]
    assert {type(first), type(again)} == {tasks_v2.Task, exceptions.DuplicateTaskError}
    created = [o for o in outcomes[:21] if isinstance(o, tasks_v2.Task)]
    assert len(created) == 20
    assert all(task.name.startswith(f"{QUEUE}/tasks/") for task in created)
    assert len({task.name for task in created}) == 20
    assert isinstance(outcomes[21], exceptions.PayloadNotSerializableError)
    assert cloud_tasks_emulator.requests.count("CreateQueue") == 1
    assert len(builds) == 1
    eventually(lambda: len(target.received) == 20)


def test_enqueue_many_of_nothing_makes_no_call(target, cloud_tasks_emulator):
    assert testapp_tasks.RecordingTask.enqueue_many([]) == []
    assert cloud_tasks_emulator.requests.count() == 0


def test_a_queue_deleted_behind_our_back_is_recreated(target, cloud_tasks_emulator, tasks_api):
    testapp_tasks.RecordingTask().enqueue(n=1)
    tasks_api.delete_queue(name=QUEUE)
    with pytest.raises(exceptions.TaskQueueDoesNotExistError, match="does not exist"):
        testapp_tasks.RecordingTask().enqueue(n=2)  # we remembered creating it
    testapp_tasks.RecordingTask().enqueue(n=3)  # ... and forgot it after that failure
    assert cloud_tasks_emulator.requests.count("CreateQueue") == 2


def test_enqueue_many_sends_tasks_while_the_rest_are_prepared(
    target, cloud_tasks_emulator, isolated_registrations
):
    from django_integration.tasks import OnDemandTask

    seen_before_last: list[int] = []

    class Watched(OnDemandTask):
        prepared = 0

        @property
        def queue_name(self):
            Watched.prepared += 1
            if Watched.prepared == 10:  # the last task waits until an earlier one was sent
                seen_before_last.append(
                    testing.eventually(
                        lambda: cloud_tasks_emulator.requests.count("CreateTask"), timeout=10
                    )
                )
            return "test-queue"

    outcomes = Watched.enqueue_many([{"n": n} for n in range(10)], max_workers=4)

    assert all(isinstance(outcome, tasks_v2.Task) for outcome in outcomes)
    assert seen_before_last and seen_before_last[0] >= 1


@pytest.mark.parametrize(
    ("overrides", "request_fields", "expected"),
    [
        (
            {},
            {},
            {"oidc_token": {"service_account_email": CALLER, "audience": "https://h/x"}},
        ),
        (
            {"GCP_TASKS_OIDC_AUDIENCE": "https://aud"},
            {"task_id": "abc"},
            {
                "oidc_token": {"service_account_email": CALLER, "audience": "https://aud"},
                "name": f"{QUEUE}/tasks/abc",
            },
        ),
        (
            {"GCP_TASKS_SERVICE_ACCOUNT_EMAIL": None},
            {
                "schedule_time": datetime(2030, 1, 2, 3, 4, 5, 600000, tzinfo=UTC),
                "dispatch_deadline": 900.5,
            },
            {
                "schedule_time": datetime(2030, 1, 2, 3, 4, 5, 600000, tzinfo=UTC),
                "dispatch_deadline": timedelta(seconds=900),
            },
        ),
    ],
)
def test_build_task_makes_the_whole_message_from_current_settings(
    overrides, request_fields, expected
):
    request = enqueueing.TaskRequest(queue="q", url="https://h/x", body='{"a":1}', **request_fields)
    enqueueing.build_task(QUEUE, enqueueing.TaskRequest(queue="q", url="u", body=""))  # cached
    with override_settings(**overrides):
        task = enqueueing.build_task(QUEUE, request)

    oidc = expected.pop("oidc_token", None)
    wanted = tasks_v2.Task(
        http_request=tasks_v2.HttpRequest(
            http_method=tasks_v2.HttpMethod.POST,
            url="https://h/x",
            headers={"Content-Type": "application/json"},
            body=b'{"a":1}',
            oidc_token=tasks_v2.OidcToken(**oidc) if oidc else None,
        ),
        **expected,
    )
    assert isinstance(task, tasks_v2.Task)
    assert task == wanted


def test_queue_path_follows_settings_and_the_project_variable(monkeypatch):
    assert enqueueing.queue_path("q") == "projects/test-project/locations/europe-west1/queues/q"
    with override_settings(GCP_TASKS_PROJECT=None, GCP_TASKS_REGION="us-east1"):
        monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "from-env")
        assert enqueueing.queue_path("q") == "projects/from-env/locations/us-east1/queues/q"
        monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "other")
        assert enqueueing.queue_path("q") == "projects/other/locations/us-east1/queues/q"
    assert enqueueing.queue_path("q") == "projects/test-project/locations/europe-west1/queues/q"
