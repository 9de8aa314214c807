"""The main job, end to end on one machine (`make demo`, `python -m examples.demo`).

Starts the emulators, exports the example shop's task registry, runs the controller against it,
then changes the cloud behind its back (a job's schedule edited and the job paused, a
subscription deleted) and shows the drift detected and corrected in the controller's logs.
Then Django's own task framework: the example app runs, a `@task` is enqueued through
`CloudTasksBackend`, the Cloud Tasks emulator pushes it to the app (with an OIDC token the app
verifies), and its result is read back with `get_result`.
Exits 0 when all of that worked, 1 with the reason otherwise; bounded to about a minute.
"""

from __future__ import annotations

import os
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import grpc
import requests
from google.cloud import pubsub_v1, scheduler_v1
from google.cloud.scheduler_v1.services.cloud_scheduler import transports
from google.protobuf import field_mask_pb2

from controller import logs
from emulators import running

T = TypeVar("T")

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROJECT = "example-shop"
LOCATION = "europe-west1"
JOB = "shop--nightlysalesreport"
SUBSCRIPTION = "shop--orders--ordereventssubscriber"
DESIRED_SCHEDULE = "0 3 * * *"
TAMPERED_SCHEDULE = "*/5 * * * *"
RESYNC_SECONDS = 2
STEP_TIMEOUT = 20.0


class DemoFailed(Exception):
    pass


def say(message: str) -> None:
    print(f"\n==> {message}", flush=True)


def wait_for(what: str, predicate: Callable[[], T], timeout: float = STEP_TIMEOUT) -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise DemoFailed(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.1)


class Child:
    """A subprocess whose output lines are echoed with a label and kept."""

    def __init__(self, label: str, command: list[str], env: dict[str, str]) -> None:
        self.label = label
        self.process = subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            print(f"  {self.label:>10} | {line.rstrip()}", flush=True)
            with self._lock:
                self.lines.append(line)

    def logged(self, *fragments: str, since: int = 0) -> list[str]:
        """Lines (after index `since`) containing every fragment."""
        with self._lock:
            lines = self.lines[since:]
        return [line for line in lines if all(fragment in line for fragment in fragments)]

    @property
    def mark(self) -> int:
        with self._lock:
            return len(self.lines)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.process.returncode


def start_controller(
    registry: pathlib.Path, env: dict[str, str], resync_seconds: float = RESYNC_SECONDS
) -> Child:
    """`gcp-tasks-controller run` on the registry file."""
    command = [sys.executable, "-m", "controller.cli", "run", "--registry", str(registry)]
    command += ["--resync-seconds", f"{resync_seconds:g}", "--log-format", "console"]
    command += ["--metrics-port", "0", "--health-port", "0", "--host", "127.0.0.1"]
    return Child("controller", command, env)


def manage(env: dict[str, str], *arguments: str) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "manage.py"), *arguments],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        raise DemoFailed(f"manage.py {arguments[0]} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def export_registry(env: dict[str, str], output: pathlib.Path) -> None:
    manage(env, "export_task_registry", "--output", str(output))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_django_task(env: dict[str, str], workdir: pathlib.Path) -> list[str]:
    """The example app serves; a `@task` is enqueued, pushed to it, and its result read back."""
    port = free_port()
    domain = f"http://127.0.0.1:{port}"
    env = {**env, "GCP_TASKS_DOMAIN": domain, "EXAMPLE_DATABASE": str(workdir / "shop.sqlite3")}
    os.environ.update(env)
    say("Storing task results: manage.py migrate (GCP_TASKS_RECORD_EXECUTIONS is on)")
    manage(env, "migrate", "--verbosity", "0")
    say(f"Starting the example app on {domain} (manage.py runserver)")
    app = Child(
        "app",
        [
            sys.executable,
            str(ROOT / "examples" / "manage.py"),
            "runserver",
            "--noreload",
            f"127.0.0.1:{port}",
        ],
        env,
    )
    try:
        wait_for("the app to answer", lambda: _answers(f"{domain}/gcp/django-tasks/probe"))
        import django

        django.setup()  # this process enqueues and reads results like any part of the app
        from examples.shop import tasks as shop_tasks

        say("send_receipt.enqueue(order_id=42, email='ada@example.com') through CloudTasksBackend")
        result = shop_tasks.send_receipt.enqueue(order_id=42, email="ada@example.com")
        print(f"  TaskResult {result.id}: {result.status}", flush=True)

        def finished() -> bool:
            result.refresh()
            return bool(result.is_finished)

        wait_for("the task's result", finished)
        read = shop_tasks.send_receipt.get_result(result.id)
        say(f"Read back with get_result: {read.status}, return value {read.return_value}")
        if read.status != "SUCCESSFUL":
            raise DemoFailed(f"the task ended {read.status}: {read.errors}")
        seconds = (read.finished_at - read.enqueued_at).total_seconds()
    finally:
        code = app.stop()
    if code not in (0, -signal.SIGTERM):
        raise DemoFailed(f"the example app exited with {code}")
    return [
        f"django.tasks: send_receipt {read.id} pushed by the Cloud Tasks emulator to the app, "
        f"verified, run {read.attempts} time(s): {read.status} {read.return_value} "
        f"({seconds:.2f}s after enqueue)",
    ]


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 405  # POST only: it is up
    except requests.RequestException:
        return False


def run_demo(services: running.Running, workdir: pathlib.Path) -> list[str]:
    env = {
        **os.environ,
        **services.environment(),
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "DJANGO_SETTINGS_MODULE": "examples.project.settings",  # whatever the caller had set
    }
    os.environ.update(env)  # our own clients below talk to the same emulators
    scheduler = scheduler_v1.CloudSchedulerClient(
        transport=transports.CloudSchedulerGrpcTransport(
            channel=grpc.insecure_channel(services.scheduler.host)
        )
    )
    subscriber = pubsub_v1.SubscriberClient()
    job_name = f"projects/{PROJECT}/locations/{LOCATION}/jobs/{JOB}"
    subscription_name = f"projects/{PROJECT}/subscriptions/{SUBSCRIPTION}"

    say("Exporting the example shop's task registry (manage.py export_task_registry)")
    registry = workdir / "registry.json"
    export_registry(env, registry)
    print(registry.read_text(), end="")

    say(f"Starting the controller (resync every {RESYNC_SECONDS}s)")
    controller = start_controller(registry, env)
    try:
        wait_for(
            "the first pass to converge",
            lambda: controller.logged("reconcile_pass", "converged=True"),
        )
        job = scheduler.get_job(name=job_name)
        subscription = subscriber.get_subscription(subscription=subscription_name)
        say(
            f"Converged: job {JOB} ({job.schedule!r}, {job.state.name}) and subscription "
            f"{SUBSCRIPTION} exist, owned by the controller"
        )

        say(
            f"Behind the controller's back: schedule -> {TAMPERED_SCHEDULE!r}, job paused, "
            "subscription deleted"
        )
        mark = controller.mark
        scheduler.update_job(
            job=scheduler_v1.Job(name=job_name, schedule=TAMPERED_SCHEDULE),
            update_mask=field_mask_pb2.FieldMask(paths=["schedule"]),
        )
        scheduler.pause_job(name=job_name)
        subscriber.delete_subscription(subscription=subscription_name)

        expected = [
            ("drift_detected", "field=schedule", f"name={JOB}"),
            ("drift_detected", "field=paused", f"name={JOB}"),
            ("action_applied", "verb=update", f"name={JOB}"),
            ("action_applied", "verb=resume", f"name={JOB}"),
            ("action_applied", "verb=create", f"name={SUBSCRIPTION}"),
        ]
        for fragments in expected:
            wait_for(" ".join(fragments), lambda f=fragments: controller.logged(*f, since=mark))

        job = wait_for(
            "the job to be back in line",
            lambda: (
                (j := scheduler.get_job(name=job_name)).schedule == DESIRED_SCHEDULE
                and j.state == scheduler_v1.Job.State.ENABLED
                and j
            ),
        )
        subscription = subscriber.get_subscription(subscription=subscription_name)
        say("Cloud state verified")
    finally:
        code = controller.stop()
        subscriber.close()
        scheduler.transport.close()
    if code != 0:
        raise DemoFailed(f"the controller exited with {code} on SIGTERM")
    drift = controller.logged("drift_detected", since=mark)
    return [
        f"drift detected: {len(drift)} field(s) of {JOB} (schedule, paused)",
        f"job {JOB}: schedule {job.schedule!r} and {job.state.name} again "
        "(one update masked to `schedule`, one resume)",
        f"subscription {SUBSCRIPTION}: recreated, pushing to "
        f"{subscription.push_config.push_endpoint}",
        "controller stopped cleanly on SIGTERM",
        *run_django_task(env, workdir),
    ]


def main() -> int:
    # The emulators' own chatter stays out of the story; the controller's logs are the point.
    logs.configure(json=False, level="WARNING")
    started = time.monotonic()
    say("Starting the emulators (Cloud Tasks, Cloud Scheduler, Pub/Sub, OIDC issuer)")
    try:
        with running.start_all() as services, tempfile.TemporaryDirectory() as workdir:
            for line in services.exports():
                print(f"  {line}")
            summary = run_demo(services, pathlib.Path(workdir))
    except DemoFailed as error:
        print(f"\nDEMO FAILED: {error}", file=sys.stderr, flush=True)
        return 1
    except Exception as error:  # e.g. no Java for the Pub/Sub emulator: say so plainly
        print(f"\nDEMO FAILED: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
        return 1
    say(
        f"Done in {time.monotonic() - started:.1f}s: drift found and fixed, a django.tasks task run"
    )
    for line in summary:
        print(f"  - {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
