import socket
import threading
import time
from collections.abc import Iterator
from http import server as http_server

import pytest
from google.auth.transport import requests as auth_requests
from google.oauth2 import id_token

from emulators import dispatching, oidc
from emulators.testing import PushTarget

EMAIL = "pusher@my-project.iam.gserviceaccount.com"


@pytest.fixture
def slow_url() -> Iterator[str]:
    """An endpoint that answers only after a second."""

    class Slow(http_server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            time.sleep(1)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http_server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/slow"
    server.shutdown()
    server.server_close()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.mark.parametrize("status", [200, 204, 404, 500, 503])
def test_delivery_reports_the_status(push_target: PushTarget, status: int) -> None:
    push_target.answer(status)
    delivery = dispatching.deliver(push_target.url_for("/run"), body=b"x")
    assert (delivery.status, delivery.error) == (status, None)
    assert delivery.ok is (200 <= status < 300)
    assert delivery.duration >= 0


def test_method_body_and_headers_are_sent(push_target: PushTarget) -> None:
    dispatching.deliver(
        push_target.url_for("/run?x=1"),
        method="PUT",
        body=b'{"a": 1}',
        headers={"Content-Type": "application/json", "X-Extra": "yes"},
    )
    (received,) = push_target.received
    assert (received.method, received.path, received.body) == ("PUT", "/run?x=1", b'{"a": 1}')
    assert received.headers["Content-Type"] == "application/json"
    assert received.headers["X-Extra"] == "yes"
    assert "Authorization" not in received.headers


@pytest.mark.parametrize("audience", ["", "https://custom.example.com/aud"])
def test_oidc_token_is_added_and_verifies(
    push_target: PushTarget, oidc_issuer: oidc.Issuer, audience: str
) -> None:
    url = push_target.url_for("/secured")
    dispatching.deliver(url, oidc=(EMAIL, audience), issuer=oidc_issuer)
    (received,) = push_target.received
    scheme, token = received.headers["Authorization"].split(" ", 1)
    assert scheme == "Bearer"
    claims = id_token.verify_token(
        token, auth_requests.Request(), audience=audience or url, certs_url=oidc_issuer.certs_url
    )
    assert claims["email"] == EMAIL


def test_oidc_without_issuer_is_a_programming_error(push_target: PushTarget) -> None:
    with pytest.raises(ValueError, match="no issuer"):
        dispatching.deliver(push_target.url, oidc=(EMAIL, ""))
    assert push_target.received == []


def test_refused_connection_is_an_error_not_a_status() -> None:
    delivery = dispatching.deliver(closed_port_url())
    assert delivery.status is None
    assert delivery.error and "ConnectionError" in delivery.error
    assert not delivery.ok


def test_timeout_is_honoured(slow_url: str) -> None:
    delivery = dispatching.deliver(slow_url, timeout=0.2)
    assert delivery.status is None
    assert delivery.error and "Timeout" in delivery.error
    assert delivery.duration < 0.9
