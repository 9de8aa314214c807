"""The whole loop: a live Django server, Google's clients and the emulators, no mocks.

Cloud Tasks (emulator) pushes with OIDC tokens from the local issuer, which the app verifies;
Pub/Sub (Google's emulator) pushes envelopes, but sends no token, so that test switches
verification off explicitly.
"""

import functools
import logging

import pytest
import requests
from django.test import override_settings
from google.cloud import pubsub_v1

from django_integration import exceptions, loggers, publishing
from emulators import oidc, testing
from emulators.testing import unique_project
from examples.shop import tasks as shop_tasks
from tests.django_integration.conftest import CALLER
from tests.django_integration.testapp import tasks as testapp_tasks

# Generous: pushes cross threads and processes on a busy 2-core machine; polling ends early.
eventually = functools.partial(testing.eventually, timeout=30)


@pytest.fixture
def app(live_server, verified, cloud_tasks_emulator):
    """The live server as the tasks' domain, verifying tokens from the emulators' issuer."""
    with override_settings(GCP_TASKS_DOMAIN=live_server.url):
        yield live_server


def test_an_enqueued_task_is_pushed_with_a_token_and_runs(app):
    created = testapp_tasks.RecordingTask().enqueue(order=7, tags={"b", "a"})

    [(kwargs, info)] = eventually(lambda: testapp_tasks.runs_of("RecordingTask"))
    assert kwargs == {"order": 7, "tags": ["a", "b"]}
    assert info.caller == CALLER  # the verified service account
    assert info.queue_name == "test-queue"
    assert info.task_name == created.name.rsplit("/", 1)[1]
    assert (info.retry_count, info.execution_count) == (0, 0)


def test_deduplicated_tasks_run_once_per_payload(app):
    task = testapp_tasks.DeduplicatedRecordingTask()
    task.enqueue(sku="A-1")
    with pytest.raises(exceptions.DuplicateTaskError):
        task.enqueue(sku="A-1")
    task.enqueue(sku="B-2")

    eventually(lambda: len(testapp_tasks.runs_of("DeduplicatedRecordingTask")) == 2)
    runs = sorted(kwargs["sku"] for kwargs, _ in testapp_tasks.runs_of("DeduplicatedRecordingTask"))
    assert runs == ["A-1", "B-2"]


def test_a_failing_task_answers_500_and_cloud_tasks_retries_it(app, emulator_clock):
    testapp_tasks.ExplodingTask().enqueue(n=1)

    def retried():
        emulator_clock.advance(1)  # past each backoff (the queue's minimum is 0.1 s)
        runs = testapp_tasks.runs_of("ExplodingTask")
        return len(runs) >= 2 and runs

    runs = eventually(retried)
    assert [info.retry_count for _, info in runs[:2]] == [0, 1]
    # Google counts neither 5xx answers as executions; the retry names our 500 instead.
    assert (runs[1][1].execution_count, runs[1][1].previous_response) == (0, 500)


def test_a_bulk_enqueue_reaches_the_app(app):
    outcomes = testapp_tasks.RecordingTask.enqueue_many([{"n": n} for n in range(25)])
    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    eventually(lambda: len(testapp_tasks.runs_of("RecordingTask")) == 25, timeout=40)
    assert sorted(kwargs["n"] for kwargs, _ in testapp_tasks.runs_of("RecordingTask")) == list(
        range(25)
    )


def test_the_example_shops_tasks_run_as_the_readme_shows(app, caplog):
    caplog.set_level(logging.INFO)  # as the example project's LOGGING does
    shop_tasks.SendOrderConfirmation().enqueue(order_id=1, email="a@b.c")
    shop_tasks.RebuildSearchIndex().enqueue(scope="all")
    with pytest.raises(exceptions.DuplicateTaskError):
        shop_tasks.RebuildSearchIndex().enqueue(scope="all")

    def succeeded():
        tasks = {r.task for r in caplog.records if r.name == loggers.tasks.name}
        return {"SendOrderConfirmation", "RebuildSearchIndex"} <= tasks

    eventually(succeeded)
    shop = [r for r in caplog.records if r.name == shop_tasks.__name__]
    [sent] = [r for r in shop if r.getMessage() == "Order confirmation sent to a@b.c"]
    assert (sent.order_id, sent.email) == (1, "a@b.c")
    assert [r.scope for r in shop if r.getMessage() == "Search index rebuilt"] == ["all"]


def _token(issuer, audience, email=CALLER):
    return {"Authorization": f"Bearer {issuer.token(audience, email)}"}


@pytest.mark.parametrize(
    ("make_headers", "status"),
    [
        (lambda issuer, url, stranger: {}, 401),
        (lambda issuer, url, stranger: _token(stranger, url), 401),
        (lambda issuer, url, stranger: _token(issuer, url + "-elsewhere"), 403),
        (
            lambda issuer, url, stranger: _token(
                issuer, url, "intruder@evil.iam.gserviceaccount.com"
            ),
            403,
        ),
    ],
    ids=["no-token", "other-key", "wrong-audience", "outside-allowlist"],
)
def test_requests_without_a_valid_google_token_are_refused(app, verified, make_headers, status):
    url = testapp_tasks.RecordingTask.url()
    with oidc.Issuer() as stranger:
        headers = make_headers(verified, url, stranger)
    response = requests.post(url, json={"n": 1}, headers=headers, timeout=10)
    assert response.status_code == status
    assert testapp_tasks.runs_of("RecordingTask") == []
    # The same request with a valid token does run: the refusal was the token's doing.
    assert requests.post(url, json={"n": 1}, headers=_token(verified, url), timeout=10).ok
    assert len(testapp_tasks.runs_of("RecordingTask")) == 1


@pytest.fixture
def pubsub_project(pubsub_emulator):
    project = unique_project("django")
    with override_settings(GCP_TASKS_PROJECT=project):
        yield project


def _push_subscription(project, topic_id, name, endpoint, ordered=False):
    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    topic = publisher.topic_path(project, topic_id)
    publisher.create_topic(name=topic)
    subscriber.create_subscription(
        request={
            "name": subscriber.subscription_path(project, name),
            "topic": topic,
            "push_config": {"push_endpoint": endpoint},
            "enable_message_ordering": ordered,
        }
    )
    subscriber.close()


# Google's Pub/Sub emulator pushes without an OIDC token (it cannot sign one), so this test
# turns verification off explicitly; verification itself is covered with the Cloud Tasks pushes.
@override_settings(GCP_TASKS_DISABLE_AUTH=True)
def test_a_published_message_reaches_the_subscriber_decoded(live_server, pubsub_project):
    with override_settings(GCP_TASKS_DOMAIN=live_server.url):
        task = testapp_tasks.RecordingSubscriber()
        _push_subscription(pubsub_project, task.topic_id, task.subscription_id, task.url())
        message_id = task.publish({"order": 42, "items": ["a"]}, attributes={"kind": "created"})

        [(kwargs, info)] = eventually(
            lambda: testapp_tasks.runs_of("RecordingSubscriber"), timeout=40
        )
    assert kwargs["data"] == {"order": 42, "items": ["a"]}
    assert kwargs["attributes"] == {"kind": "created"}
    assert kwargs["message_id"] == message_id
    assert kwargs["subscription"] == (
        f"projects/{pubsub_project}/subscriptions/{task.subscription_id}"
    )
    assert kwargs["publish_time"] is not None
    assert info.caller is None


@override_settings(GCP_TASKS_DISABLE_AUTH=True)
def test_ordered_messages_arrive_in_order(live_server, pubsub_project):
    with override_settings(GCP_TASKS_DOMAIN=live_server.url):
        task = testapp_tasks.RecordingSubscriber()
        _push_subscription(
            pubsub_project, "ordered-events", "ordered-sub", task.url(), ordered=True
        )
        for n in range(3):
            publishing.publish(
                topic_id="ordered-events",
                data=f'{{"n": {n}}}'.encode(),
                ordering_key="customer-7",
                enable_message_ordering=True,
            )
        runs = eventually(
            lambda: (
                len(testapp_tasks.runs_of("RecordingSubscriber")) == 3
                and testapp_tasks.runs_of("RecordingSubscriber")
            ),
            timeout=40,
        )
    assert [kwargs["data"] for kwargs, _ in runs] == [{"n": 0}, {"n": 1}, {"n": 2}]
    # Google's emulator leaves `orderingKey` out of push envelopes (Pub/Sub itself sends it);
    # its decoding is covered in test_deliveries and test_views.
