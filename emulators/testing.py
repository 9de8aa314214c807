"""Pytest fixtures for the emulators (loaded by tests/conftest.py), and helpers tests share.

Each gRPC emulator fixture starts fresh on a free port, sets its *_EMULATOR_HOST variable for the
test, and is stopped afterwards. The Pub/Sub emulator is one Java process per session: give each
test its own project id. A missing Pub/Sub emulator is an error, never a skip.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http import server as http_server
from typing import Any, TypeVar

import grpc
import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import scheduler_v1, tasks_v2
from google.cloud.scheduler_v1.services.cloud_scheduler import transports as scheduler_transports
from google.cloud.tasks_v2.services.cloud_tasks import transports as tasks_transports
from requests.structures import CaseInsensitiveDict

from emulators import clock as clocks
from emulators import oidc, pubsub, running

# A winter Wednesday, noon UTC: fixed so that cron and time-zone tests can name exact instants.
FIXED_START = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
# Local channels never go through a developer's HTTP(S)_PROXY.
_CHANNEL_OPTIONS = [("grpc.enable_http_proxy", 0)]

T = TypeVar("T")


def eventually(predicate: Callable[[], T], timeout: float = 5.0, interval: float = 0.02) -> T:
    """Poll `predicate` until it returns something truthy, and return that; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout:g}s: last result {result!r}")
        time.sleep(interval)


def scheduler_client(host: str) -> scheduler_v1.CloudSchedulerClient:
    """Google's own Cloud Scheduler client on an insecure channel to `host` ("127.0.0.1:PORT")."""
    transport = scheduler_transports.CloudSchedulerGrpcTransport(
        channel=grpc.insecure_channel(host, options=_CHANNEL_OPTIONS),
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
    )
    return scheduler_v1.CloudSchedulerClient(transport=transport)


def tasks_client(host: str) -> tasks_v2.CloudTasksClient:
    """Google's own Cloud Tasks client on an insecure channel to `host` ("127.0.0.1:PORT")."""
    transport = tasks_transports.CloudTasksGrpcTransport(
        channel=grpc.insecure_channel(host, options=_CHANNEL_OPTIONS),
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
    )
    return tasks_v2.CloudTasksClient(transport=transport)


def unique_project(prefix: str = "test") -> str:
    """A fresh project id, so tests sharing the session's Pub/Sub emulator never collide."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class Received:
    """One request a `PushTarget` received; `headers` are case-insensitive."""

    method: str
    path: str
    headers: CaseInsensitiveDict[str]
    body: bytes


class PushTarget:
    """A local HTTP endpoint that records what is pushed to it and answers with chosen statuses."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._answers: list[int] = []
        self.default_status = 200
        self.delay = 0.0  # seconds to wait before answering, to play a slow target
        self._server = http_server.ThreadingHTTPServer((host, 0), _recording_handler(self))
        self._server.daemon_threads = True
        # A short poll interval: shutdown() waits for one, and every test stops a target.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url_for(self, path: str) -> str:
        return f"{self.url}/{path.lstrip('/')}"

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def answer(self, *statuses: int) -> None:
        """Answer the next requests with these statuses, in order, then `default_status`."""
        with self._lock:
            self._answers.extend(statuses)

    def start(self) -> PushTarget:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _record(self, received: Received) -> int:
        with self._lock:
            self._received.append(received)
            return self._answers.pop(0) if self._answers else self.default_status


def _recording_handler(target: PushTarget) -> type[http_server.BaseHTTPRequestHandler]:
    class Handler(http_server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = CaseInsensitiveDict(dict(self.headers.items()))
            status = target._record(Received(self.command, self.path, headers, body))
            if target.delay:
                time.sleep(target.delay)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def emulator_clock() -> clocks.ManualClock:
    """A ManualClock at FIXED_START; the emulators fire and dispatch only when a test moves it."""
    return clocks.ManualClock(FIXED_START)


@pytest.fixture
def oidc_issuer() -> Iterator[oidc.Issuer]:
    """An OIDC issuer on a free port; tokens are stamped on wall time so they verify."""
    with oidc.Issuer() as issuer:
        yield issuer


@pytest.fixture
def cloud_tasks_emulator(
    emulator_clock: clocks.ManualClock,
    oidc_issuer: oidc.Issuer,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[running.Service]:
    """Cloud Tasks on a free port (`.host`, `.requests`, `.clock`, `.state`)."""
    service = running.start_tasks(clock=emulator_clock, issuer=oidc_issuer)
    monkeypatch.setenv(running.TASKS_ENV, service.host)
    yield service
    service.stop()


@pytest.fixture
def cloud_scheduler_emulator(
    emulator_clock: clocks.ManualClock,
    oidc_issuer: oidc.Issuer,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[running.Service]:
    """Cloud Scheduler on a free port (`.host`, `.requests`, `.clock`, `.state`)."""
    service = running.start_scheduler(clock=emulator_clock, issuer=oidc_issuer)
    monkeypatch.setenv(running.SCHEDULER_ENV, service.host)
    yield service
    service.stop()


@pytest.fixture(scope="session")
def pubsub_emulator_process() -> Iterator[pubsub.PubSubEmulator]:
    """Google's Pub/Sub emulator, one JVM for the whole session."""
    emulator = pubsub.PubSubEmulator().start()
    yield emulator
    emulator.stop()


@pytest.fixture
def pubsub_emulator(
    pubsub_emulator_process: pubsub.PubSubEmulator, monkeypatch: pytest.MonkeyPatch
) -> pubsub.PubSubEmulator:
    """The session's Pub/Sub emulator with PUBSUB_EMULATOR_HOST set for this test."""
    monkeypatch.setenv(running.PUBSUB_ENV, pubsub_emulator_process.host)
    return pubsub_emulator_process


@pytest.fixture
def push_target() -> Iterator[PushTarget]:
    """A local HTTP endpoint recording every request (`.url`, `.received`, `.answer(500)`)."""
    target = PushTarget().start()
    yield target
    target.stop()


@pytest.fixture
def scheduler_api(
    cloud_scheduler_emulator: running.Service,
) -> Iterator[scheduler_v1.CloudSchedulerClient]:
    """Google's Cloud Scheduler client connected to `cloud_scheduler_emulator`."""
    client = scheduler_client(cloud_scheduler_emulator.host)
    yield client
    client.transport.close()


@pytest.fixture
def tasks_api(cloud_tasks_emulator: running.Service) -> Iterator[tasks_v2.CloudTasksClient]:
    """Google's Cloud Tasks client connected to `cloud_tasks_emulator`."""
    client = tasks_client(cloud_tasks_emulator.host)
    yield client
    client.transport.close()
