"""`gcp-tasks-controller run --registry`: reacts to source changes before the resync timer,
keeps the last good state through an invalid source, serves metrics and health, stops cleanly."""

from __future__ import annotations

import collections
import dataclasses
import json
import os
import pathlib
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from benchmarks import pubsub_admin
from controller.cli import main
from controller.registry import model
from emulators import recording, running, testing
from tests.controller import resources

from .conftest import WriteRegistry, json_events

EXECUTABLE = pathlib.Path(sys.executable).parent / "gcp-tasks-controller"


class Output:
    """The JSON events a running `main()` has written to (captured) stderr so far."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys
        self.events: list[dict[str, Any]] = []

    def named(self, event: str) -> list[dict[str, Any]]:
        self.events.extend(json_events(self._capsys.readouterr().err))
        return [e for e in self.events if e["event"] == event]


@dataclasses.dataclass
class Controller:
    thread: threading.Thread
    stop: threading.Event
    output: Output
    result: list[int]

    def port(self, name: str) -> int:
        (serving,) = testing.eventually(lambda: self.output.named("serving"))
        return int(serving[name])


@pytest.fixture
def start(emulators: running.Service, capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    started: list[Controller] = []

    def start_controller(path: pathlib.Path, *extra: str) -> Controller:
        stop = threading.Event()
        result: list[int] = []
        argv = [
            "run",
            "--registry",
            str(path),
            "--resync-seconds",
            "600",  # long: any reaction in these tests comes from noticing the change
            "--poll-seconds",
            "0.05",
            "--metrics-port",
            "0",
            "--health-port",
            "0",
            "--host",
            "127.0.0.1",
            "--log-format",
            "json",
            *extra,
        ]
        thread = threading.Thread(target=lambda: result.append(main.main(argv, stop=stop)))
        thread.start()
        controller = Controller(thread, stop, Output(capsys), result)
        started.append(controller)
        return controller

    yield start_controller
    for controller in started:
        controller.stop.set()
        controller.thread.join(timeout=10)


def _registry(project: str, schedule: str = "0 3 * * *") -> model.Registry:
    return resources.registry(
        project,
        jobs=(resources.job("cleanup", schedule=schedule), resources.job("report")),
        subs=(),
    )


def test_run_reacts_to_a_changed_file_and_survives_an_invalid_one(
    start: Any, emulators: running.Service, project: str, write_registry: WriteRegistry
) -> None:
    path = write_registry(_registry(project))
    controller = start(path)
    testing.eventually(lambda: emulators.requests.count("CreateJob") == 2, timeout=10)

    write_registry(_registry(project, schedule="30 4 * * *"))

    updates = testing.eventually(
        lambda: [r for r in emulators.requests.entries if r.method == "UpdateJob"], timeout=10
    )
    assert [u.update_mask for u in updates] == [("schedule",)]

    emulators.requests.clear()
    path.write_text('{"apiVersion": "gcptasks.dev/v1", "kind": "TaskRegistry", "spec": {}}')
    (invalid,) = testing.eventually(lambda: controller.output.named("registry_invalid"), timeout=10)
    assert invalid["kept_last_good"] is True
    path.write_text("")  # unreadable as JSON too: still no deletion
    testing.eventually(lambda: len(controller.output.named("registry_invalid")) == 2, timeout=10)
    health = requests.get(f"http://127.0.0.1:{controller.port('health_port')}/healthz", timeout=5)
    assert health.status_code == 200
    assert set(health.json()["invalid_sources"]) == {str(path)}
    assert emulators.requests.writes() == []

    controller.stop.set()
    controller.thread.join(timeout=10)
    assert controller.result == [0]
    assert controller.output.named("controller_stopped")


def test_metrics_endpoint_serves_the_counters(
    start: Any, emulators: running.Service, project: str, write_registry: WriteRegistry
) -> None:
    path = write_registry(_registry(project))
    controller = start(path)
    testing.eventually(lambda: controller.output.named("reconcile_pass"), timeout=10)
    url = f"http://127.0.0.1:{controller.port('metrics_port')}/metrics"

    text = requests.get(url, timeout=5).text

    for line in (
        'gcptasks_reconcile_actions_total{kind="scheduler_job",result="ok",verb="create"}',
        'gcptasks_api_calls_total{type="write"}',
        'gcptasks_owned_resources{kind="scheduler_job"} 2.0',
        "gcptasks_reconcile_pass_duration_seconds_count",
        'gcptasks_reconcile_passes_total{dry_run="false",result="converged"}',
    ):
        assert line in text, line
    assert requests.get(url.replace("/metrics", "/healthz"), timeout=5).status_code == 404


def test_sigterm_stops_the_console_script(
    emulators: running.Service, project: str, write_registry: WriteRegistry
) -> None:
    path = write_registry(_registry(project))
    process = subprocess.Popen(
        [
            *(str(EXECUTABLE), "run", "--registry", str(path), "--resync-seconds", "1"),
            *("--metrics-port", "0", "--health-port", "0", "--host", "127.0.0.1"),
            *("--log-format", "json"),
        ],
        env=dict(os.environ),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + 30
        for line in process.stderr:
            if '"reconcile_pass"' in line or time.monotonic() > deadline:
                break
        process.send_signal(signal.SIGTERM)
        rest = process.communicate(timeout=10)[1]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    events = [json.loads(line)["event"] for line in rest.splitlines() if line.startswith("{")]
    assert events[-2:] == ["stop_requested", "controller_stopped"]


@pytest.fixture
def pubsub_stand_in(monkeypatch: pytest.MonkeyPatch) -> Iterator[pubsub_admin.PubSubAdmin]:
    """The in-memory Pub/Sub admin stand-in, whose request log counts what Google's emulator
    cannot."""
    admin, server, host = pubsub_admin.start()
    monkeypatch.setenv(running.PUBSUB_ENV, host)
    yield admin
    server.stop(grace=None).wait()


def test_each_resync_of_an_unchanged_registry_costs_its_list_pages_only(
    start: Any,
    emulators: running.Service,
    pubsub_stand_in: pubsub_admin.PubSubAdmin,
    project: str,
    write_registry: WriteRegistry,
) -> None:
    """Idle, the controller sends one List request per page per kind each resync, and nothing
    else: counted by the emulators themselves over a few short resyncs."""
    registry = resources.registry(
        project,
        jobs=(resources.job("cleanup"), resources.job("report")),
        subs=(resources.subscription("order-created"), resources.subscription("order-paid")),
    )
    controller = start(write_registry(registry), "--resync-seconds", "0.3")
    testing.eventually(lambda: controller.output.named("reconcile_pass"), timeout=10)
    logs = (emulators.requests, pubsub_stand_in.log)
    first_pass = [_others(log) for log in logs]  # creates, topics: the first pass's work

    testing.eventually(lambda: len(controller.output.named("reconcile_pass")) >= 5, timeout=20)
    controller.stop.set()
    controller.thread.join(timeout=10)

    passes = controller.output.named("reconcile_pass")
    assert len(passes) >= 5 and all(p["converged"] for p in passes)
    assert [p["api_calls"] for p in passes[1:]] == [2] * (len(passes) - 1)
    assert emulators.requests.count("ListJobs") == len(passes)
    assert pubsub_stand_in.log.count("ListSubscriptions") == len(passes)
    assert [_others(log) for log in logs] == first_pass
    assert first_pass[0] == {"CreateJob": 2}


def _others(log: recording.RequestLog) -> dict[str, int]:
    """Requests other than Lists, by method."""
    return dict(
        collections.Counter(r.method for r in log.entries if not r.method.startswith("List"))
    )
