"""The Subscriber tasks page against Google's Pub/Sub emulator: exists, matches (the controller's
own comparison), dead-letter and retry settings; errors shown, never a 500."""

from __future__ import annotations

import html
import re

import pytest
from django.test import override_settings
from google.cloud import pubsub_v1
from google.protobuf import field_mask_pb2

from controller.engine import reconciling
from controller.gcp import clients
from controller.planning import plans
from django_integration import pausing, registry
from emulators import running, testing

pytestmark = pytest.mark.django_db

PAGE = "/admin/django_integration/declaredsubscribertask/"
ORDERS = "test--orders--ordereventssubscriber"  # the example shop's subscriber


@pytest.fixture
def project(pubsub_emulator):
    project = testing.unique_project("admin")
    with override_settings(GCP_TASKS_PROJECT=project):
        yield project


def reconcile_subscriptions() -> None:
    with clients.Clients.from_environment() as built:
        reconciling.Reconciler(built, kinds={plans.Kind.SUBSCRIPTION}).run_pass([pausing.desired()])


def rows(response) -> dict[str, str]:
    page = html.unescape(response.content.decode())
    pattern = r'<tr class="gcptasks-row" data-subscription="([^"]+)">(.*?)</tr>'
    return {
        m[1]: " ".join(re.sub(r"<[^>]+>", " ", m[2]).split())
        for m in re.finditer(pattern, page, re.S)
    }


def test_declared_subscriptions_are_compared_with_pub_sub(admin_client, project):
    reconcile_subscriptions()
    subscriber = pubsub_v1.SubscriberClient()
    path = f"projects/{project}/subscriptions/{ORDERS}"
    subscriber.update_subscription(
        subscription={"name": path, "ack_deadline_seconds": 99},
        update_mask=field_mask_pb2.FieldMask(paths=["ack_deadline_seconds"]),
    )
    subscriber.close()

    response = admin_client.get(PAGE)

    assert response.status_code == 200
    listed = rows(response)
    assert set(listed) == {sub.name for _, sub in registry.subscriber_subscriptions()}
    assert "exists, differs" in listed[ORDERS] and "ack_deadline_seconds" in listed[ORDERS]
    assert "backoff 10\N{EN DASH}300 s" in listed[ORDERS] and "ordered" in listed[ORDERS]
    others = [text for name, text in listed.items() if name != ORDERS]
    assert others and all("exists, matches" in text for text in others)


def test_missing_subscriptions_say_so(admin_client, project):
    listed = rows(admin_client.get(PAGE))

    assert "missing" in listed[ORDERS]
    assert "not in the cloud yet: the controller creates it" in listed[ORDERS]


def test_dead_letter_settings_are_shown(admin_client, project, isolated_registrations):
    from django_integration import tasks

    type(
        "Audited",
        (tasks.SubscriberTask,),
        {"topic_id": "audit", "dead_letter_topic_id": "audit-dead", "max_delivery_attempts": 7},
    )

    listed = rows(admin_client.get(PAGE))

    assert "audit-dead after 7 attempts" in listed["test--audit--audited"]


def test_a_pub_sub_error_is_shown_on_the_page(admin_client, monkeypatch):
    monkeypatch.setenv(running.PUBSUB_ENV, "127.0.0.1:9")

    response = admin_client.get(PAGE)

    assert response.status_code == 200
    assert "Pub/Sub could not be read: UNAVAILABLE" in html.unescape(response.content.decode())
    assert "unknown" in rows(response)[ORDERS]


def test_viewing_needs_the_view_permission(user_with, project):
    assert user_with().get(PAGE).status_code == 403
    assert user_with("view_declaredsubscribertask").get(PAGE).status_code == 200
