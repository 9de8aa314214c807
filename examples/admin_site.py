"""The example shop's admin, live on one machine: `make admin-demo` (`python -m
examples.admin_site`).

Starts the emulators, migrates a fresh SQLite database, creates the superuser `admin` (password
`admin`: an example, never a real one) with the one command a reader would type:

    DJANGO_SUPERUSER_PASSWORD=admin python examples/manage.py createsuperuser --noinput \\
        --username admin --email admin@example.com

then serves the example app (`manage.py runserver`) and runs the controller on the registry file
the app exports (`GCP_TASKS_REGISTRY_FILE`), so a pause made in the admin reaches Cloud Scheduler
within one resync. The end-to-end tests and `make admin-screenshots` drive this same site.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import TypeVar

from controller import logs
from emulators import running
from examples import demo

T = TypeVar("T")

ROOT = demo.ROOT
MANAGE = [sys.executable, str(ROOT / "examples" / "manage.py")]
USERNAME = "admin"
PASSWORD = "admin"  # the example's, printed on start; never a real deployment's
EMAIL = "admin@example.com"
PROJECT = demo.PROJECT
LOCATION = demo.LOCATION
NIGHTLY = "NightlySalesReport"
NIGHTLY_JOB = demo.JOB
START_TIMEOUT = 60.0


@dataclasses.dataclass
class Site:
    """The running example app, its controller and the emulators; `stop()` ends them all."""

    url: str
    env: dict[str, str]
    registry: pathlib.Path
    services: running.Running
    app: subprocess.Popen[str]
    controller: demo.Child

    def manage(self, *args: str) -> str:
        """`manage.py ARGS` against this site's database and emulators; its standard output."""
        return _manage(self.env, *args)

    def enqueue_failing_task(self) -> None:
        """The example shop's FailingTask onto Cloud Tasks: it raises ZeroDivisionError."""
        code = "from examples.shop.tasks import FailingTask; FailingTask().enqueue(order_id=13)"
        self.manage("shell", "-c", code)

    def stop(self) -> None:
        try:
            self.controller.stop()
        finally:
            try:
                _terminate(self.app)
            finally:
                self.services.stop()


def start(workdir: pathlib.Path, *, resync_seconds: float = 1.0) -> Site:
    """Everything up and converged once; on any failure what already started is stopped."""
    services = running.start_all()
    app: subprocess.Popen[str] | None = None
    try:
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        registry = workdir / "registry.json"
        env = {
            **os.environ,
            **services.environment(),
            "GOOGLE_CLOUD_PROJECT": PROJECT,
            "DJANGO_SETTINGS_MODULE": "examples.project.settings",
            "EXAMPLE_DATABASE": str(workdir / "example.sqlite3"),
            "GCP_TASKS_DOMAIN": url,
            "GCP_TASKS_REGISTRY_FILE": str(registry),
            "DJANGO_SUPERUSER_PASSWORD": PASSWORD,
            "LOG_LEVEL": "WARNING",
        }
        _manage(env, "migrate", "--noinput")
        _manage(env, "createsuperuser", "--noinput", "--username", USERNAME, "--email", EMAIL)
        log_file = (workdir / "app.log").open("w")
        app = subprocess.Popen(
            [*MANAGE, "runserver", f"127.0.0.1:{port}", "--noreload"],
            env=env,
            cwd=ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            text=True,
        )
        log_file.close()  # the child has its own copy
        log = workdir / "app.log"
        _wait_for("the app to answer", lambda: _answers(f"{url}/admin/login/"), app, log)
        _wait_for("the app's registry export", registry.exists, app, log)
        controller = demo.start_controller(registry, env, resync_seconds=resync_seconds)
        try:
            _wait_for(
                "the controller's first pass",
                lambda: controller.logged("reconcile_pass", "converged=True"),
                app,
                log,
            )
        except BaseException:
            controller.stop()
            raise
    except BaseException:
        if app is not None:
            _terminate(app)
        services.stop()
        raise
    return Site(url, env, registry, services, app, controller)


def main() -> int:
    logs.configure(json=False, level="WARNING")
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    with tempfile.TemporaryDirectory() as workdir:
        site = start(pathlib.Path(workdir))
        try:
            print(f"\nThe example shop's admin: {site.url}/admin/", flush=True)
            print(f"Log in as {USERNAME} / {PASSWORD}. Ctrl-C stops everything.\n", flush=True)
            stopping.wait()
        except KeyboardInterrupt:
            pass
        finally:
            site.stop()
    return 0


def _manage(env: dict[str, str], *args: str) -> str:
    command = [*MANAGE, *args]
    result = subprocess.run(
        command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def _wait_for(
    what: str, predicate: Callable[[], T], app: subprocess.Popen[str], log: pathlib.Path
) -> T:
    """`predicate()` once truthy; the end of the app's log is in the error when it never is."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        result = predicate()
        if result:
            return result
        if app.poll() is not None or time.monotonic() > deadline:
            state = "timed out" if app.returncode is None else f"app exited ({app.returncode})"
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"waiting for {what}: {state}; the app's log ends:\n{tail}")
        time.sleep(0.1)


def _answers(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    try:
        with opener.open(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _terminate(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


if __name__ == "__main__":
    sys.exit(main())
