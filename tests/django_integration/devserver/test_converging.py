"""The dev server's reconcile loop: the registry file, Google's clients and the emulators."""

from __future__ import annotations

import pytest
import structlog

from controller.registry import documents
from django_integration.devserver import converging
from emulators import testing
from emulators.testing import eventually
from tests.controller import resources


@pytest.fixture
def project():
    return testing.unique_project("devloop")


@pytest.fixture
def write(tmp_path, project):
    path = tmp_path / "registry.json"

    def write_registry(jobs=(), subs=()):
        path.write_text(documents.render(resources.registry(project, tuple(jobs), tuple(subs))))
        return str(path)

    return write_registry


@pytest.fixture
def start(cloud_scheduler_emulator):
    started = []

    def start_controller(path, *, pubsub=False):
        lines: list[str] = []
        controller = converging.Controller(
            path,
            scheduler_host=cloud_scheduler_emulator.host,
            pubsub=pubsub,
            resync_seconds=600,  # long: every reaction here comes from the file changing
            say=lines.append,
            poll_seconds=0.05,
        ).start()
        started.append(controller)
        return controller, lines

    yield start_controller
    for controller in started:
        controller.stop()


def job_names(scheduler_api, project):
    parent = f"projects/{project}/locations/{resources.LOCATION}"
    return {job.name.rsplit("/", 1)[1]: job for job in scheduler_api.list_jobs(parent=parent)}


def test_each_change_of_the_file_is_applied_and_told(start, write, scheduler_api, project):
    _, lines = start(write([resources.job("report")]))
    eventually(lambda: "controller: create scheduler job shop--report" in lines, timeout=30)
    assert job_names(scheduler_api, project)["shop--report"].schedule == "0 3 * * *"

    write([resources.job("report", schedule="*/5 * * * *"), resources.job("cleanup")])
    eventually(lambda: "controller: create scheduler job shop--cleanup" in lines, timeout=30)
    assert "controller: update scheduler job shop--report (schedule)" in lines
    assert job_names(scheduler_api, project)["shop--report"].schedule == "*/5 * * * *"

    write([])  # every task removed: the emulators start empty, so nothing guards them
    eventually(lambda: not job_names(scheduler_api, project), timeout=30)
    assert "controller: delete scheduler job shop--report" in lines
    assert "controller: delete scheduler job shop--cleanup" in lines


def test_an_invalid_file_keeps_the_last_good_state(start, write, tmp_path, scheduler_api, project):
    path = write([resources.job("report")])
    controller, lines = start(path)
    eventually(lambda: controller.passes, timeout=30)
    with structlog.testing.capture_logs() as logs:
        (tmp_path / "registry.json").write_text('{"apiVersion": "gcptasks.dev/v1"')
        eventually(lambda: [e for e in logs if e["event"] == "registry_invalid"], timeout=30)
    assert list(job_names(scheduler_api, project)) == ["shop--report"]
    assert lines == ["controller: create scheduler job shop--report"]


def test_without_pubsub_only_scheduler_jobs_are_reconciled(start, write, scheduler_api, project):
    controller, lines = start(write([resources.job("report")], [resources.subscription()]))
    eventually(lambda: controller.passes, timeout=30)
    assert lines == ["controller: create scheduler job shop--report"]


def test_with_pubsub_subscriptions_are_reconciled(start, write, pubsub_emulator, project):
    controller, lines = start(write([], [resources.subscription()]), pubsub=True)
    eventually(lambda: controller.passes, timeout=30)
    assert lines == ["controller: create subscription shop--orders--order-created"]
