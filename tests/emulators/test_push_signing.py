"""Pub/Sub pushes through the signing proxy carry the token their subscription asks for, as
Google's Pub/Sub sends them; Google's own emulator and clients, a real local endpoint."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator

import pytest
import requests
import structlog
from google.auth import jwt
from google.cloud import pubsub_v1

from emulators import running, testing
from emulators.testing import PushTarget, eventually

ACCOUNT = "pusher@signing-test.iam.gserviceaccount.com"


@pytest.fixture(scope="module")
def services() -> Iterator[running.Running]:
    with running.start_all() as started:
        yield started


@pytest.fixture
def publish(
    services: running.Running, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., str]]:
    """Create a topic and a push subscription with `push_config`, then publish one message."""
    assert services.pubsub is not None
    monkeypatch.setenv(running.PUBSUB_ENV, services.pubsub.host)
    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    project = testing.unique_project("signing")

    def create_and_publish(push_config: dict[str, object], data: bytes = b'{"n": 1}') -> str:
        topic = publisher.topic_path(project, "events")
        publisher.create_topic(name=topic)
        subscription = subscriber.subscription_path(project, "events-push")
        subscriber.create_subscription(
            request={"name": subscription, "topic": topic, "push_config": push_config}
        )
        publisher.publish(topic, data).result(timeout=30)
        return subscription

    yield create_and_publish
    subscriber.close()
    publisher.transport.close()


def _claims(services: running.Running, authorization: str, audience: str) -> dict[str, object]:
    scheme, _, token = authorization.partition(" ")
    assert scheme == "Bearer"
    return dict(jwt.decode(token, certs=services.issuer.pem_certificates(), audience=audience))


def test_a_push_carries_a_token_for_the_subscriptions_account(
    services: running.Running, publish: Callable[..., str], push_target: PushTarget
) -> None:
    endpoint = push_target.url_for("/gcp/subscriber-tasks/Events")
    subscription = publish(
        {"push_endpoint": endpoint, "oidc_token": {"service_account_email": ACCOUNT}}
    )

    (request,) = eventually(lambda: push_target.received, timeout=30)
    # Pub/Sub's default audience is the push endpoint.
    claims = _claims(services, request.headers["Authorization"], audience=endpoint)
    assert (claims["email"], claims["email_verified"]) == (ACCOUNT, True)
    envelope = json.loads(request.body)  # the push itself passes through unchanged
    assert envelope["subscription"] == subscription
    assert base64.b64decode(envelope["message"]["data"]) == b'{"n": 1}'
    assert request.path == "/gcp/subscriber-tasks/Events"
    assert request.headers["Content-Type"] == "application/json"


def test_the_audience_the_subscription_names_is_the_tokens(
    services: running.Running, publish: Callable[..., str], push_target: PushTarget
) -> None:
    publish(
        {
            "push_endpoint": push_target.url_for("/push"),
            "oidc_token": {"service_account_email": ACCOUNT, "audience": "https://app.example"},
        }
    )

    (request,) = eventually(lambda: push_target.received, timeout=30)
    claims = _claims(services, request.headers["Authorization"], audience="https://app.example")
    assert claims["email"] == ACCOUNT


def test_a_subscription_without_oidc_token_pushes_unsigned(
    publish: Callable[..., str], push_target: PushTarget
) -> None:
    publish({"push_endpoint": push_target.url_for("/push")})

    (request,) = eventually(lambda: push_target.received, timeout=30)
    assert "Authorization" not in request.headers


def test_the_endpoints_answer_reaches_the_emulator(
    publish: Callable[..., str], push_target: PushTarget
) -> None:
    push_target.answer(500)  # refused once: Pub/Sub redelivers
    publish({"push_endpoint": push_target.url_for("/push")})

    first, second = eventually(lambda: len(push_target.received) >= 2 and push_target.received)
    assert first.body == second.body


def test_a_push_whose_subscription_cannot_be_read_goes_unsigned_and_is_logged(
    services: running.Running, push_target: PushTarget
) -> None:
    assert services.push_signer is not None
    proxies = {"http": f"http://127.0.0.1:{services.push_signer.port}"}
    envelope = {"subscription": "projects/nowhere/subscriptions/gone", "message": {}}
    with structlog.testing.capture_logs() as logs:
        answer = requests.post(
            push_target.url_for("/push"), json=envelope, proxies=proxies, timeout=30
        )

    assert answer.status_code == 200  # the endpoint's answer
    (request,) = push_target.received
    assert "Authorization" not in request.headers
    assert [entry["event"] for entry in logs] == ["pubsub_push_unsigned"]
