"""`manage.py gcp_devserver` as a user runs it: a real process tree (the command, Google's Pub/Sub
emulator, runserver and its reloaded child), Google's clients, the example shop and a project
written here, stopped with Ctrl-C or SIGTERM; and, in this process, the registry it exports."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from django.core.management import CommandError
from django.test import override_settings
from django.utils import autoreload
from google.cloud import scheduler_v1

from django_integration import pausing, tasks
from django_integration.management.commands import gcp_devserver
from emulators import process_groups, testing

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "manage.py"
SHOP_CALLER = "shop-tasks@example-shop.iam.gserviceaccount.com"
SHOP_JOBS = "projects/example-shop/locations/europe-west1"
TIMEOUT = 60.0  # generous: a JVM, two Django processes and reloads on a busy 2-core machine
_SUMMARY = re.compile(r"^  (Cloud Tasks|Cloud Scheduler|Pub/Sub|App)\s+(\S+)")


class DevServer:
    """One `manage.py gcp_devserver` in a session of its own, as a terminal would run it."""

    def __init__(self, manage: Path, *arguments: str, environment: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(manage), "gcp_devserver", *arguments],
            cwd=manage.parent,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self.seen: dict[int, str] = {}  # every process ever found below it, to clean up after
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._lock:
                self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        with self._lock:
            return "\n".join(self.lines)

    def wait_for(self, *fragments: str, timeout: float = TIMEOUT) -> str:
        """The first line holding every fragment, waiting for it."""

        def found() -> str | None:
            with self._lock:
                lines = list(self.lines)
            return next((line for line in lines if all(f in line for f in fragments)), None)

        try:
            return testing.eventually(found, timeout=timeout)
        except AssertionError:
            pytest.fail(f"no line with {fragments} in:\n{self.output[-6000:]}")

    def summary(self) -> dict[str, str]:
        """Service -> address from the lines printed at startup (the app's URL once it serves)."""
        self.wait_for("Quit the server with CONTROL-C")  # runserver is up
        with self._lock:
            matches = (_SUMMARY.match(line) for line in self.lines)
            return {match[1]: match[2] for match in matches if match}

    def descendants(self) -> dict[int, str]:
        """Every process below the command, by pid, with its command line."""
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError, IndexError):
                    parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                    children.setdefault(parent, []).append(int(entry.name))
        found: dict[int, str] = {}
        pending = list(children.get(self.process.pid, []))
        while pending:
            pid = pending.pop()
            with contextlib.suppress(OSError):
                found[pid] = (
                    Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
                ).decode()
            pending += children.get(pid, [])
        self.seen.update(found)
        return found

    def stop(self, how: Callable[[subprocess.Popen[str]], None]) -> int:
        how(self.process)
        return self.wait()

    def wait(self) -> int:
        """The exit code, once the command and its output have ended."""
        code = self.process.wait(timeout=TIMEOUT)
        # The output ends when every process holding it has: a leftover would keep it open.
        self._reader.join(timeout=10)
        assert self.process.stdout is not None
        if not self._reader.is_alive():
            self.process.stdout.close()
        return code

    def kill(self) -> None:
        """After a failed test: nothing it started may outlive it."""
        self.descendants()
        for group in [self.process.pid, *self.seen]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGKILL)
        self.wait()


def ctrl_c(process: subprocess.Popen[str]) -> None:
    os.killpg(process.pid, signal.SIGINT)  # a terminal signals the whole foreground group


def sigterm(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)  # `kill`, Docker, Procfile runners: the process only


@pytest.fixture
def devserver() -> Iterator[Callable[..., DevServer]]:
    started: list[DevServer] = []
    # The shell of a developer who evaluated `python -m emulators` earlier, and pytest-django's
    # settings module: neither may leak into the command.
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.endswith("_EMULATOR_HOST")
        and name not in ("DJANGO_SETTINGS_MODULE", "GCP_TASKS_OIDC_CERTS_URL")
    }

    def start(*arguments: str, manage: Path = EXAMPLE, **variables: str) -> DevServer:
        server = DevServer(manage, *arguments, environment={**environment, **variables})
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()  # a no-op after a clean stop


def post(url: str, body: dict[str, object]) -> requests.Response:
    """POST once the app answers (runserver binds just after printing its banner)."""

    def answered() -> requests.Response | None:
        with contextlib.suppress(requests.ConnectionError):
            return requests.post(url, json=body, timeout=10)
        return None

    return testing.eventually(answered, timeout=TIMEOUT)


def scheduler_jobs(host: str, parent: str) -> dict[str, scheduler_v1.Job]:
    client = testing.scheduler_client(host)
    try:
        return {job.name.rsplit("/", 1)[1]: job for job in client.list_jobs(parent=parent)}
    finally:
        client.transport.close()


def test_the_example_shop_runs_on_local_google_cloud_until_ctrl_c(devserver):
    server = devserver("127.0.0.1:0")
    hosts = server.summary()
    app = hosts["App"]

    # An on-demand task: enqueued by a view, pushed by Cloud Tasks with a token, verified, run.
    assert post(f"{app}orders/7/confirmation", {"email": "ada@example.com"}).status_code == 202
    # The example project's LOGGING: JSON lines with each record's `extra` fields.
    server.wait_for('"message": "Order confirmation sent to ada@example.com"', '"order_id": 7')
    server.wait_for('"message": "Task SendOrderConfirmation succeeded"', SHOP_CALLER)

    # A periodic task: its job is in Cloud Scheduler, aimed at this app; run now, it runs.
    jobs = testing.eventually(lambda: scheduler_jobs(hosts["Cloud Scheduler"], SHOP_JOBS))
    job = jobs["shop--nightlysalesreport"]
    assert job.http_target.uri == f"{app}gcp/tasks/NightlySalesReport"
    assert job.schedule == "0 3 * * *"
    client = testing.scheduler_client(hosts["Cloud Scheduler"])
    client.run_job(name=job.name)
    client.transport.close()
    server.wait_for('"message": "Task NightlySalesReport succeeded"', SHOP_CALLER)

    # A subscriber: published by a view, pushed by Google's emulator, signed, verified, run.
    assert post(f"{app}orders/7/events", {"status": "paid"}).status_code == 202
    server.wait_for('"logger": "examples.shop.tasks"', '"status": "paid"')
    server.wait_for('"message": "Task OrderEventsSubscriber succeeded"', SHOP_CALLER)

    children = server.descendants()
    commands = list(children.values())
    assert sum("runserver" in command for command in commands) == 2  # reloader and server
    assert any("cloud-pubsub-emulator" in command for command in commands)

    assert server.stop(ctrl_c) == 0
    assert [children[pid] for pid in children if process_groups.running(pid)] == []
    assert "Stopping runserver, the controller and the emulators" in server.output
    with socket.socket() as probe:  # nobody listens on the app's port any more
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is no listener
        probe.bind(("127.0.0.1", int(app.rsplit(":", 1)[1].strip("/"))))


def test_sigterm_leaves_no_process_behind(devserver):
    server = devserver("127.0.0.1:0")
    server.summary()
    children = server.descendants()
    assert any("cloud-pubsub-emulator" in command for command in children.values())

    assert server.stop(sigterm) == 0
    assert [children[pid] for pid in children if process_groups.running(pid)] == []


PROJECT_SETTINGS = """
SECRET_KEY = "devloop-test"
DEBUG = True
INSTALLED_APPS = ["django_integration", "devapp"]
ROOT_URLCONF = "devsite.urls"
DATABASES = {}
USE_TZ = True
GCP_TASKS_DOMAIN = "https://devsite.example.com"
GCP_TASKS_DEFAULT_QUEUE_NAME = "default"
GCP_TASKS_RESOURCE_AFFIX = "devsite"
GCP_TASKS_PROJECT = "devsite-project"
"""
PROJECT_URLS = """
from django.urls import include, path

urlpatterns = [path("gcp/", include("django_integration.urls"))]
"""
MANAGE = """
import os, sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devsite.settings")
from django.core.management import execute_from_command_line

execute_from_command_line(sys.argv)
"""
REPORT = """
class Report(PeriodicTask):
    run_every = "{schedule}"

    def run(self, **kwargs):
        return "report"
"""
CLEANUP = """
class Cleanup(PeriodicTask):
    run_every = "0 4 * * *"

    def run(self, **kwargs):
        return "clean"
"""
DEVSITE_JOBS = "projects/devsite-project/locations/europe-west1"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A Django project of a user's own: settings, URLs and one app with a periodic task."""
    files = {
        "manage.py": MANAGE,
        "devsite/__init__.py": "",
        "devsite/settings.py": PROJECT_SETTINGS,
        "devsite/urls.py": PROJECT_URLS,
        "devapp/__init__.py": "",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(text))
    write_tasks(tmp_path, REPORT.format(schedule="0 3 * * *"))
    return tmp_path


def write_tasks(project: Path, *classes: str) -> None:
    header = "from django_integration.tasks import PeriodicTask\n"
    (project / "devapp" / "tasks.py").write_text(header + "\n".join(classes))


def edit_until_reloaded(server: DevServer, project: Path, *classes: str) -> None:
    """Write tasks.py as a developer saves it, again if runserver's reloader missed it: the
    reloader only notices a file that changed after its first look at it, which a busy machine
    may delay past the first edit (a developer never edits that fast)."""
    reloads = server.output.count("changed, reloading.")
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        write_tasks(project, *classes)
        with contextlib.suppress(AssertionError):
            testing.eventually(
                lambda: server.output.count("changed, reloading.") > reloads,
                timeout=3 * autoreload.StatReloader.SLEEP_TIME,
            )
            return
    pytest.fail(f"runserver never reloaded:\n{server.output[-6000:]}")


def test_editing_periodic_tasks_while_it_runs_converges_the_scheduler(devserver, project):
    server = devserver("127.0.0.1:0", "--no-pubsub", manage=project / "manage.py")
    hosts = server.summary()
    scheduler = hosts["Cloud Scheduler"]
    [report] = testing.eventually(lambda: scheduler_jobs(scheduler, DEVSITE_JOBS)).values()
    assert report.http_target.uri == f"{hosts['App']}gcp/tasks/Report"
    # The project names no service account: the command gave it one, signed and allowed.
    assert report.http_target.oidc_token.service_account_email == (
        "gcp-devserver@devsite-project.iam.gserviceaccount.com"
    )

    # Changed and added: runserver reloads, the app re-exports, the controller converges.
    edit_until_reloaded(server, project, REPORT.format(schedule="*/10 * * * *"), CLEANUP)
    server.wait_for("controller: create scheduler job devsite--cleanup")
    server.wait_for("controller: update scheduler job devsite--report (schedule)")
    jobs = scheduler_jobs(scheduler, DEVSITE_JOBS)
    assert {name: job.schedule for name, job in jobs.items()} == {
        "devsite--report": "*/10 * * * *",
        "devsite--cleanup": "0 4 * * *",
    }

    # Removed: their jobs go too.
    edit_until_reloaded(server, project)
    server.wait_for("controller: delete scheduler job devsite--cleanup")
    server.wait_for("controller: delete scheduler job devsite--report")
    assert scheduler_jobs(scheduler, DEVSITE_JOBS) == {}

    assert server.stop(sigterm) == 0


def test_killed_outright_its_runserver_dies_with_it(devserver, project):
    server = devserver("127.0.0.1:0", "--no-pubsub", manage=project / "manage.py")
    server.summary()
    children = server.descendants()
    assert sum("runserver" in command for command in children.values()) == 2

    assert server.stop(lambda process: process.kill()) == -signal.SIGKILL
    testing.eventually(
        lambda: not [pid for pid in children if process_groups.running(pid)], timeout=TIMEOUT
    )


def test_without_java_it_says_what_to_install_or_pass(devserver, project):
    server = devserver("127.0.0.1:0", manage=project / "manage.py", PATH="/nonexistent")
    assert server.wait() == 1
    server.wait_for("Java is not installed", "--no-pubsub")
    assert server.descendants() == {}


def test_a_taken_port_stops_everything_with_runserver_s_error(devserver, project):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = devserver(f"127.0.0.1:{port}", "--no-pubsub", manage=project / "manage.py")
        assert server.wait() == 1
    server.wait_for("That port is already in use")
    server.wait_for("runserver exited with code 1")


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        (["eighty"], '"eighty" is not a valid port number or address:port pair.'),
        (["--resync-seconds", "0"], "--resync-seconds must be positive"),
    ],
)
def test_bad_arguments_are_refused_before_anything_starts(devserver, project, arguments, error):
    server = devserver(*arguments, "--no-pubsub", manage=project / "manage.py")
    assert server.wait() == 1
    server.wait_for(error)
    assert "Cloud Tasks" not in server.output


def test_periodic_django_tasks_alone_need_an_affix(monkeypatch, tmp_path):
    # No PeriodicTask or SubscriberTask class, only testapp's `@periodic` sweep: still a job.
    monkeypatch.setattr(tasks, "_registered", dict(tasks.on_demand_tasks()))
    registry_file = tmp_path / "registry.json"

    with (
        override_settings(GCP_TASKS_RESOURCE_AFFIX=None),
        pytest.raises(CommandError, match="GCP_TASKS_RESOURCE_AFFIX must be set"),
    ):
        gcp_devserver.Command()._export(registry_file)
    assert not registry_file.exists()


@pytest.mark.django_db
def test_the_summarized_registry_is_the_exported_one_with_its_pauses(tmp_path):
    pausing.pause("test--sweep", "sweep", user="alice", reason="")
    registry_file = tmp_path / "registry.json"

    desired = gcp_devserver.Command()._export(registry_file)

    assert desired is not None
    paused = {job.name for job in desired.scheduler_jobs if job.paused}
    assert paused == {"test--sweep"}
    exported = json.loads(registry_file.read_text())["spec"]["schedulerJobs"]
    assert {job["name"] for job in exported if job.get("paused")} == paused
