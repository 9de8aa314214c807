"""`python -m emulators` as a user runs it: a subprocess, its exports, real clients, SIGTERM."""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO
from urllib import request

import pytest
from google.cloud import pubsub_v1
from google.cloud.scheduler_v1 import types

from emulators import pubsub, testing

EXPORT = re.compile(r"^export ([A-Z_]+)=(\S+)$")


class Launched:
    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "emulators", *args],
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            # A stop that hangs is then diagnosable: SIGABRT makes it print every thread's stack.
            env={**os.environ, "PYTHONFAULTHANDLER": "1", **(env or {})},
            text=True,
        )

    def exports(self, count: int) -> dict[str, str]:
        assert self.process.stdout is not None
        found: dict[str, str] = {}
        while len(found) < count:
            line = self.process.stdout.readline()
            if not line:
                raise AssertionError(f"exited early; stderr:\n{self.errors()}")
            match = EXPORT.match(line.strip())
            assert match, f"unexpected stdout line {line!r}"
            found[match.group(1)] = match.group(2)
        return found

    def errors(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")

    def wait(self) -> int:
        return self.process.wait(timeout=30)

    def terminate(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGABRT)
            self.process.wait(timeout=10)
            raise AssertionError(f"did not stop within 30 s; stderr:\n{self.errors()}") from None
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()

    def close(self) -> None:
        self.terminate()
        assert self.process.stdout is not None
        self.process.stdout.close()
        self.stderr.close()


@pytest.fixture
def launch() -> Iterator[type[Launched]]:
    launched: list[Launched] = []

    class Tracked(Launched):
        def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
            super().__init__(*args, env=env)
            launched.append(self)

    yield Tracked
    for item in launched:
        item.close()


def processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_starts_everything_prints_exports_and_stops_on_sigterm(
    launch: type[Launched], monkeypatch: pytest.MonkeyPatch
) -> None:
    emulators = launch()
    env = emulators.exports(4)

    assert list(env) == [
        "CLOUD_TASKS_EMULATOR_HOST",
        "CLOUD_SCHEDULER_EMULATOR_HOST",
        "PUBSUB_EMULATOR_HOST",
        "GCP_TASKS_OIDC_CERTS_URL",
    ]
    for name in list(env)[:3]:
        assert re.fullmatch(r"127\.0\.0\.1:\d+", env[name]), env[name]

    scheduler = testing.scheduler_client(env["CLOUD_SCHEDULER_EMULATOR_HOST"])
    parent = "projects/demo/locations/europe-west1"
    job = scheduler.create_job(
        parent=parent,
        job=types.Job(
            name=f"{parent}/jobs/hello",
            schedule="*/5 * * * *",
            http_target=types.HttpTarget(uri="http://127.0.0.1:9/hello"),
        ),
    )
    assert job.state == types.Job.State.ENABLED
    assert [j.name for j in scheduler.list_jobs(parent=parent)] == [job.name]
    scheduler.transport.close()

    tasks = testing.tasks_client(env["CLOUD_TASKS_EMULATOR_HOST"])
    queue = tasks.create_queue(parent=parent, queue={"name": f"{parent}/queues/default"})
    assert tasks.get_queue(name=queue.name).name == queue.name
    tasks.transport.close()

    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", env["PUBSUB_EMULATOR_HOST"])
    publisher = pubsub_v1.PublisherClient()
    topic = publisher.create_topic(name=f"projects/{testing.unique_project()}/topics/greetings")
    assert topic.name.endswith("/topics/greetings")
    publisher.transport.close()

    with request.urlopen(env["GCP_TASKS_OIDC_CERTS_URL"], timeout=5) as answer:
        assert json.load(answer)  # at least one certificate

    pubsub_port = env["PUBSUB_EMULATOR_HOST"].rsplit(":", 1)[1]
    assert processes_mentioning(f"--port={pubsub_port}")
    assert emulators.terminate() == 0
    assert processes_mentioning(f"--port={pubsub_port}") == []
    assert "emulators.stopped" in emulators.errors()


def test_no_pubsub_and_fixed_ports(launch: type[Launched]) -> None:
    scheduler_port = pubsub.free_port()
    emulators = launch("--no-pubsub", "--scheduler-port", str(scheduler_port))
    env = emulators.exports(3)
    assert "PUBSUB_EMULATOR_HOST" not in env
    assert env["CLOUD_SCHEDULER_EMULATOR_HOST"] == f"127.0.0.1:{scheduler_port}"
    emulators.process.send_signal(signal.SIGINT)  # Ctrl-C stops it just as cleanly
    assert emulators.terminate() == 0


def test_missing_pubsub_emulator_is_a_clear_failure(launch: type[Launched]) -> None:
    emulators = launch(env={"PUBSUB_EMULATOR_BIN": "/nonexistent/cloud-pubsub-emulator"})
    assert emulators.wait() == 1
    assert "PUBSUB_EMULATOR_BIN=/nonexistent/cloud-pubsub-emulator" in emulators.errors()


def test_bad_arguments_are_refused(launch: type[Launched]) -> None:
    emulators = launch("--tasks-port", "70000")
    assert emulators.wait() == 2
    assert "not a port number" in emulators.errors()
