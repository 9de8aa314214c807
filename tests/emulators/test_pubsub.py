"""The launcher for Google's Pub/Sub emulator: finding it, failing loudly, and the real thing."""

import base64
import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from google.cloud import pubsub_v1

from emulators import process_groups, pubsub, testing
from emulators.testing import PushTarget, eventually


def script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "fake-emulator"
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_override_that_is_not_executable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(pubsub.ENV_BIN, str(tmp_path / "missing"))
    with pytest.raises(pubsub.EmulatorNotFound, match=r"PUBSUB_EMULATOR_BIN=.*not an executable"):
        pubsub.find_script()


def test_override_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = script(tmp_path, "exit 0")
    monkeypatch.setenv(pubsub.ENV_BIN, str(fake))
    assert pubsub.find_script() == fake


def test_missing_sdk_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(pubsub.ENV_BIN, raising=False)
    monkeypatch.setattr(pubsub, "_gcloud_sdk_root", lambda: None)
    monkeypatch.setattr(pubsub, "SDK_ROOTS", (tmp_path,))
    with pytest.raises(pubsub.EmulatorNotFound, match="gcloud components install pubsub-emulator"):
        pubsub.PubSubEmulator().start()


def test_missing_java_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pubsub.EmulatorNotFound, match=r"Java is not installed.*Java 11"):
        pubsub.PubSubEmulator(script=script(tmp_path, "sleep 60")).start()


def test_emulator_that_dies_reports_its_output(tmp_path: Path) -> None:
    dying = script(tmp_path, 'echo "port already in use: $2" >&2; exit 3')
    with pytest.raises(pubsub.EmulatorFailed, match=r"(?s)exited with code 3.*port already in use"):
        pubsub.PubSubEmulator(script=dying).start()


def test_emulator_that_never_answers_times_out_and_is_stopped(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    # A wrapper whose child outlives it unless the whole group is stopped, like gcloud's JVM.
    hanging = script(tmp_path, f"sleep 60 & echo $! > {pid_file}; echo starting; wait")
    emulator = pubsub.PubSubEmulator(script=hanging, ready_timeout=0.5)
    with pytest.raises(pubsub.EmulatorFailed, match=r"(?s)did not answer `Ok`.*starting"):
        emulator.start()
    child = int(pid_file.read_text())
    assert not process_groups.running(child)
    assert not emulator.running


# Answers `GET /` with `Ok` on the --port it is given, like the real emulator.
OK_SERVER = """
import sys, http.server
class Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"Ok")
port = int(sys.argv[2].removeprefix("--port="))
http.server.HTTPServer(("127.0.0.1", port), Ok).serve_forever()
"""


def test_stop_ends_children_that_ignore_sigterm(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    (tmp_path / "ok.py").write_text(OK_SERVER)
    stubborn = script(
        tmp_path,
        f"sh -c 'trap \"\" TERM; sleep 60' & echo $! > {pid_file}; "
        f'exec {sys.executable} {tmp_path / "ok.py"} "$@"',
    )
    emulator = pubsub.PubSubEmulator(script=stubborn, ready_timeout=10)
    emulator.start()
    child = int(pid_file.read_text())
    assert process_groups.running(child)
    emulator.stop(timeout=1)
    assert not process_groups.running(child)


def test_real_emulator_starts_and_stops_without_leaving_java_behind() -> None:
    emulator = pubsub.PubSubEmulator().start()
    pid = emulator.pid
    assert pid is not None
    assert "java" in Path(f"/proc/{pid}/cmdline").read_text()
    assert emulator.host.startswith("127.0.0.1:")
    emulator.stop()
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)
    assert not process_groups.running(pid)
    emulator.stop()  # a second stop is harmless


def test_push_subscription_delivers_to_a_local_endpoint(
    pubsub_emulator: pubsub.PubSubEmulator, push_target: PushTarget
) -> None:
    assert os.environ["PUBSUB_EMULATOR_HOST"] == pubsub_emulator.host
    project = testing.unique_project()
    publisher = pubsub_v1.PublisherClient()
    topic = publisher.topic_path(project, "orders")
    subscription = f"projects/{project}/subscriptions/orders-push"
    publisher.create_topic(name=topic)
    with pubsub_v1.SubscriberClient() as subscriber:
        subscriber.create_subscription(
            name=subscription,
            topic=topic,
            push_config=pubsub_v1.types.PushConfig(push_endpoint=push_target.url_for("/push")),
        )
        message_id = publisher.publish(topic, b'{"order": 42}', origin="test").result(timeout=10)

        (request,) = eventually(lambda: push_target.received, timeout=15)

    envelope = json.loads(request.body)
    assert request.method == "POST"
    assert request.path == "/push"
    assert envelope["subscription"] == subscription
    message = envelope["message"]
    assert base64.b64decode(message["data"]) == b'{"order": 42}'
    assert message["attributes"] == {"origin": "test"}
    assert message["messageId"] == message_id
    assert "Authorization" not in request.headers  # Google's emulator sends no OIDC token
    publisher.transport.close()


def test_free_port_is_bindable() -> None:
    port = pubsub.free_port()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))


def test_the_jvm_dies_with_a_parent_killed_outright() -> None:
    # SIGKILL gives stop() no chance to run: only the kernel's parent-death signal can end it.
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from emulators import pubsub\n"
            "emulator = pubsub.PubSubEmulator().start()\n"
            "print('jvm', emulator.pid, flush=True)\n"
            "time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert parent.stdout is not None
    with parent, parent.stdout:
        # structlog writes to stdout too: the pid is on the line the script marks.
        pid = next(int(line.split()[1]) for line in parent.stdout if line.startswith("jvm "))
        try:
            assert process_groups.running(pid)
            parent.kill()
            parent.wait(timeout=10)
            eventually(lambda: not process_groups.running(pid), timeout=15)
        finally:
            if process_groups.running(pid):
                os.kill(pid, 9)
