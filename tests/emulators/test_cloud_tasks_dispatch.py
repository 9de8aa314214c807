"""Cloud Tasks dispatch end to end: Google's client creates tasks, a local HTTP server receives
them, and the test clock decides when they are due."""

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from http import server as http_server

import pytest
from google.api_core import exceptions
from google.auth.transport import requests as auth_requests
from google.cloud import tasks_v2
from google.oauth2 import id_token
from google.rpc import code_pb2

from emulators import clock as clocks
from emulators import oidc, running
from emulators.testing import PushTarget, eventually, tasks_client

PARENT = "projects/my-project/locations/europe-west1"
QUEUE = f"{PARENT}/queues/work"
EMAIL = "tasks@my-project.iam.gserviceaccount.com"


def consistently(predicate: Callable[[], object], duration: float = 0.3) -> None:
    """Assert `predicate` stays true for `duration` seconds (for "nothing happens" checks)."""
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline:
        assert predicate()
        time.sleep(0.02)


def eta(when: datetime) -> str:
    return f"{when.timestamp():.6f}"


@pytest.fixture
def queue(tasks_api: tasks_v2.CloudTasksClient) -> str:
    tasks_api.create_queue(
        parent=PARENT,
        queue=tasks_v2.Queue(
            name=QUEUE,
            retry_config=tasks_v2.RetryConfig(
                max_attempts=4, min_backoff=timedelta(seconds=10), max_backoff=timedelta(hours=1)
            ),
        ),
    )
    return QUEUE


def create(api: tasks_v2.CloudTasksClient, task_id: str, url: str, **fields: object) -> str:
    request = fields.pop("http_request", {})
    api.create_task(
        parent=QUEUE,
        task=tasks_v2.Task(
            name=f"{QUEUE}/tasks/{task_id}",
            http_request=tasks_v2.HttpRequest(url=url, **request),
            **fields,
        ),
    )
    return f"{QUEUE}/tasks/{task_id}"


def gone(api: tasks_v2.CloudTasksClient, name: str) -> bool:
    try:
        api.get_task(name=name)
    except exceptions.NotFound:
        return True
    return False


def test_http_task_arrives_with_cloud_tasks_headers_and_a_verifiable_token(
    tasks_api: tasks_v2.CloudTasksClient,
    cloud_tasks_emulator: running.Service,
    oidc_issuer: oidc.Issuer,
    queue: str,
    push_target: PushTarget,
) -> None:
    url = push_target.url_for("/gcp-tasks/send-email")
    name = create(
        tasks_api,
        "hello-1",
        url,
        http_request={
            "body": b'{"to": "a@example.com"}',
            "headers": {"Content-Type": "application/json", "X-Custom": "kept"},
            "oidc_token": {"service_account_email": EMAIL},
        },
    )
    (received,) = eventually(lambda: push_target.received)
    assert (received.method, received.path) == ("POST", "/gcp-tasks/send-email")
    assert received.body == b'{"to": "a@example.com"}'
    headers = received.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Custom"] == "kept"
    assert headers["User-Agent"] == "Google-Cloud-Tasks"
    assert headers["X-CloudTasks-QueueName"] == "work"
    assert headers["X-CloudTasks-TaskName"] == "hello-1"
    assert headers["X-CloudTasks-TaskRetryCount"] == "0"
    assert headers["X-CloudTasks-TaskExecutionCount"] == "0"
    assert headers["X-CloudTasks-TaskETA"] == eta(cloud_tasks_emulator.clock.now())
    assert "X-CloudTasks-TaskPreviousResponse" not in headers
    scheme, token = headers["Authorization"].split(" ", 1)
    assert scheme == "Bearer"
    claims = id_token.verify_token(
        token, auth_requests.Request(), audience=url, certs_url=oidc_issuer.certs_url
    )
    assert (claims["aud"], claims["email"], claims["email_verified"]) == (url, EMAIL, True)
    assert claims["iss"] == "https://accounts.google.com"
    # A 2xx answer completes the task.
    eventually(lambda: gone(tasks_api, name))


def test_explicit_audience_and_reserved_headers(
    tasks_api: tasks_v2.CloudTasksClient,
    oidc_issuer: oidc.Issuer,
    queue: str,
    push_target: PushTarget,
) -> None:
    create(
        tasks_api,
        "audience",
        push_target.url,
        http_request={
            "body": b"raw",
            "headers": {
                "User-Agent": "mine",
                "X-CloudTasks-TaskRetryCount": "99",
                "X-Google-Secret": "no",
                "X-AppEngine-Country": "no",
            },
            "oidc_token": {"service_account_email": EMAIL, "audience": "https://app.example"},
        },
    )
    (received,) = eventually(lambda: push_target.received)
    headers = received.headers
    assert headers["Content-Type"] == "application/octet-stream"
    assert headers["User-Agent"] == "Google-Cloud-Tasks"
    assert headers["X-CloudTasks-TaskRetryCount"] == "0"
    assert "X-Google-Secret" not in headers and "X-AppEngine-Country" not in headers
    token = headers["Authorization"].removeprefix("Bearer ")
    claims = id_token.verify_token(
        token,
        auth_requests.Request(),
        audience="https://app.example",
        certs_url=oidc_issuer.certs_url,
    )
    assert claims["email"] == EMAIL


def test_task_without_oidc_token_has_no_authorization(
    tasks_api: tasks_v2.CloudTasksClient, queue: str, push_target: PushTarget
) -> None:
    create(tasks_api, "anonymous", push_target.url, http_request={"http_method": "PUT"})
    (received,) = eventually(lambda: push_target.received)
    assert received.method == "PUT"
    assert "Authorization" not in received.headers


def test_failing_target_is_retried_with_backoff_then_dropped(
    tasks_api: tasks_v2.CloudTasksClient,
    cloud_tasks_emulator: running.Service,
    queue: str,
    push_target: PushTarget,
) -> None:
    clock = cloud_tasks_emulator.clock
    push_target.default_status = 500
    start = clock.now()
    name = create(tasks_api, "flaky", push_target.url)
    due = start
    # min_backoff 10s doubling: attempts at +0, +10, +30, +70; max_attempts 4.
    for attempt, delay in enumerate([10, 20, 40]):
        eventually(lambda n=attempt: tasks_api.get_task(name=name).response_count == n + 1)
        due += timedelta(seconds=delay)
        task = tasks_api.get_task(name=name)
        assert task.schedule_time == due
        assert task.last_attempt.response_status.code == code_pb2.INTERNAL
        clock.advance(due - clock.now() - timedelta(seconds=0.5))
        consistently(lambda n=attempt: len(push_target.received) == n + 1)
        clock.advance(0.5)
        eventually(lambda n=attempt: len(push_target.received) == n + 2)
    eventually(lambda: gone(tasks_api, name))
    received = push_target.received
    assert [r.headers["X-CloudTasks-TaskRetryCount"] for r in received] == ["0", "1", "2", "3"]
    assert [r.headers["X-CloudTasks-TaskETA"] for r in received] == [
        eta(start + timedelta(seconds=s)) for s in (0, 10, 30, 70)
    ]
    assert [r.headers.get("X-CloudTasks-TaskPreviousResponse") for r in received] == [
        None,
        "500",
        "500",
        "500",
    ]
    # 5xx answers do not count as executions.
    assert {r.headers["X-CloudTasks-TaskExecutionCount"] for r in received} == {"0"}
    clock.advance(timedelta(minutes=30))
    consistently(lambda: len(push_target.received) == 4)
    # A dropped task's name is tombstoned like a completed one.
    with pytest.raises(exceptions.AlreadyExists):
        create(tasks_api, "flaky", push_target.url)


def test_attempt_bookkeeping_and_execution_count(
    tasks_api: tasks_v2.CloudTasksClient,
    cloud_tasks_emulator: running.Service,
    queue: str,
    push_target: PushTarget,
) -> None:
    clock = cloud_tasks_emulator.clock
    start = clock.now()
    push_target.answer(404)
    name = create(tasks_api, "counted", push_target.url)
    eventually(lambda: tasks_api.get_task(name=name).response_count == 1)
    task = tasks_api.get_task(name=name)
    assert (task.dispatch_count, task.response_count) == (1, 1)
    assert task.first_attempt.dispatch_time == start
    assert task.last_attempt.dispatch_time == start
    assert task.last_attempt.response_status.code == code_pb2.NOT_FOUND
    clock.advance(10)
    eventually(lambda: gone(tasks_api, name))
    second = push_target.received[1]
    assert second.headers["X-CloudTasks-TaskRetryCount"] == "1"
    assert second.headers["X-CloudTasks-TaskExecutionCount"] == "1"
    assert second.headers["X-CloudTasks-TaskPreviousResponse"] == "404"


def test_unreachable_target_is_retried(
    tasks_api: tasks_v2.CloudTasksClient,
    cloud_tasks_emulator: running.Service,
    queue: str,
    push_target: PushTarget,
) -> None:
    url = push_target.url
    push_target.stop()  # nothing listens any more
    name = create(tasks_api, "unreachable", url)
    eventually(lambda: tasks_api.get_task(name=name).dispatch_count == 1)
    eventually(lambda: "response_time" in tasks_api.get_task(name=name).last_attempt)
    task = tasks_api.get_task(name=name)
    assert task.response_count == 0
    assert task.last_attempt.response_status.code == code_pb2.UNAVAILABLE
    assert task.schedule_time == cloud_tasks_emulator.clock.now() + timedelta(seconds=10)


def test_task_retry_config_overrides_the_queues(
    tasks_api: tasks_v2.CloudTasksClient, queue: str, push_target: PushTarget
) -> None:
    push_target.default_status = 503
    name = create(
        tasks_api, "one-shot", push_target.url, retry_config=tasks_v2.RetryConfig(max_attempts=1)
    )
    eventually(lambda: gone(tasks_api, name))
    assert len(push_target.received) == 1


def test_paused_queue_dispatches_nothing_until_resumed(
    tasks_api: tasks_v2.CloudTasksClient,
    cloud_tasks_emulator: running.Service,
    queue: str,
    push_target: PushTarget,
) -> None:
    tasks_api.pause_queue(name=queue)
    name = create(tasks_api, "waiting", push_target.url)
    cloud_tasks_emulator.clock.advance(timedelta(hours=1))
    consistently(lambda: push_target.received == [])
    assert tasks_api.get_task(name=name).dispatch_count == 0
    tasks_api.resume_queue(name=queue)
    eventually(lambda: len(push_target.received) == 1)
    eventually(lambda: gone(tasks_api, name))


def test_future_schedule_time_waits_for_the_clock(
    tasks_api: tasks_v2.CloudTasksClient,
    cloud_tasks_emulator: running.Service,
    queue: str,
    push_target: PushTarget,
) -> None:
    clock = cloud_tasks_emulator.clock
    when = clock.now() + timedelta(minutes=5)
    create(tasks_api, "later", push_target.url, schedule_time=when)
    clock.advance(timedelta(minutes=4, seconds=59))
    consistently(lambda: push_target.received == [])
    clock.advance(1)
    (received,) = eventually(lambda: push_target.received)
    assert received.headers["X-CloudTasks-TaskETA"] == eta(when)


def test_run_task_dispatches_now_even_when_paused(
    tasks_api: tasks_v2.CloudTasksClient,
    cloud_tasks_emulator: running.Service,
    queue: str,
    push_target: PushTarget,
) -> None:
    clock = cloud_tasks_emulator.clock
    tasks_api.pause_queue(name=queue)
    name = create(
        tasks_api, "forced", push_target.url, schedule_time=clock.now() + timedelta(days=1)
    )
    push_target.answer(500)
    ran = tasks_api.run_task(name=name)
    assert ran.dispatch_count == 1
    assert ran.last_attempt.dispatch_time == clock.now()
    eventually(lambda: len(push_target.received) == 1)
    eventually(lambda: tasks_api.get_task(name=name).response_count == 1)
    # A failed run is retried after the queue's backoff, counted from the run.
    assert tasks_api.get_task(name=name).schedule_time == clock.now() + timedelta(seconds=10)
    tasks_api.run_task(name=name)
    eventually(lambda: gone(tasks_api, name))
    assert push_target.received[1].headers["X-CloudTasks-TaskRetryCount"] == "1"


@pytest.fixture
def stalled_url() -> Iterator[tuple[str, threading.Event]]:
    """An endpoint that answers only once the test sets the returned event."""
    release = threading.Event()

    class Stalled(http_server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            release.wait(10)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http_server.ThreadingHTTPServer(("127.0.0.1", 0), Stalled)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/stalled", release
    release.set()
    server.shutdown()
    server.server_close()


def test_a_slow_target_does_not_stall_other_tasks_or_the_api(
    tasks_api: tasks_v2.CloudTasksClient,
    queue: str,
    push_target: PushTarget,
    stalled_url: tuple[str, threading.Event],
) -> None:
    url, release = stalled_url
    slow = create(tasks_api, "slow", url)
    eventually(lambda: tasks_api.get_task(name=slow).dispatch_count == 1)
    fast = create(tasks_api, "fast", push_target.url)
    eventually(lambda: gone(tasks_api, fast))
    assert tasks_api.get_task(name=slow).response_count == 0
    release.set()
    eventually(lambda: gone(tasks_api, slow))


def test_wall_clock_dispatches_in_real_time(push_target: PushTarget) -> None:
    service = running.start_tasks(clock=clocks.WallClock(), issuer=None)
    client = tasks_client(service.host)
    try:
        client.create_queue(parent=PARENT, queue={"name": QUEUE})
        started = time.monotonic()
        when = service.clock.now() + timedelta(seconds=0.3)
        create(client, "real-time", push_target.url, schedule_time=when)
        eventually(lambda: push_target.received)
        assert time.monotonic() - started >= 0.25
    finally:
        client.transport.close()
        service.stop()
