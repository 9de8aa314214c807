"""`task_manager`: django-gcp's command and report, run by the reconcile engine; it leaves the
cloud exactly as `gcp-tasks-controller reconcile` does for the same app."""

from __future__ import annotations

import io
import json
import os
import pathlib
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from google.cloud import pubsub_v1, scheduler_v1

from controller.gcp import scheduler_jobs
from django_integration.exceptions import UnknownActionError
from emulators import pubsub, running, testing
from tests.django_integration.testapp import tasks as testapp_tasks

# The commands read the admin's stored pauses (`pausing`).
pytestmark = pytest.mark.django_db

ROOT = pathlib.Path(__file__).resolve().parents[2]
LOCATION = "europe-west1"


@pytest.fixture
def project(
    cloud_scheduler_emulator: running.Service, pubsub_emulator: pubsub.PubSubEmulator
) -> str:
    return testing.unique_project("tm")


def _task_manager(*args: str) -> str:
    out = io.StringIO()
    call_command("task_manager", *args, stdout=out)
    return out.getvalue()


def test_reports_like_django_gcp_and_writes_only_differences(
    project: str, cloud_scheduler_emulator: running.Service
) -> None:
    with override_settings(GCP_TASKS_PROJECT=project):
        first = _task_manager("create_scheduler_jobs", "create_pubsub_subscriptions")
        cloud_scheduler_emulator.requests.clear()
        second = _task_manager("create_scheduler_jobs")

    assert first.splitlines() == [
        "Successfully created 3 scheduler jobs to domain https://tasks.example.com",
        "- [+] test--hourlytask",
        "- [+] test--nightlysalesreport",
        "- [+] test--sweep",
        "Successfully created 2 pubsub subscriptions to domain https://tasks.example.com",
        "- [+] test--orders--ordereventssubscriber",
        "- [+] test--test-events--recordingsubscriber",
    ]
    assert second.splitlines() == first.splitlines()[:4]
    assert cloud_scheduler_emulator.requests.writes() == []


def test_cleanup_deletes_owned_orphans_and_the_domain_can_be_overridden(
    project: str,
    cloud_scheduler_emulator: running.Service,
    scheduler_api: scheduler_v1.CloudSchedulerClient,
) -> None:
    parent = f"projects/{project}/locations/{LOCATION}"
    with override_settings(GCP_TASKS_PROJECT=project):
        _task_manager("create_scheduler_jobs")
        scheduler_api.create_job(
            parent=parent,
            job=scheduler_v1.Job(
                name=f"{parent}/jobs/test--retired",
                description=scheduler_jobs.describe("", "test"),
                schedule="0 1 * * *",
                http_target=scheduler_v1.HttpTarget(uri="https://tasks.example.com/old"),
            ),
        )
        kept = _task_manager("create_scheduler_jobs")
        cleaned = _task_manager(
            "create_scheduler_jobs", "--cleanup", "--tasks-domain", "https://new.example.com"
        )

    assert "test--retired" not in kept
    assert cleaned.splitlines() == [
        "Successfully created 4 scheduler jobs to domain https://new.example.com",
        "- [+] test--hourlytask",
        "- [+] test--nightlysalesreport",
        "- [+] test--sweep",
        "- [-] test--retired",
    ]
    uris = sorted(job.http_target.uri for job in scheduler_api.list_jobs(parent=parent))
    assert uris == [
        "https://new.example.com/gcp/django-tasks/tests.django_integration.testapp.tasks.sweep",
        "https://new.example.com/gcp/tasks/HourlyTask",
        "https://new.example.com/gcp/tasks/NightlySalesReport",
    ]


def test_unknown_action_changes_nothing(
    project: str, cloud_scheduler_emulator: running.Service
) -> None:
    with pytest.raises(UnknownActionError, match="create_queues"):
        _task_manager("create_scheduler_jobs", "create_queues")

    assert cloud_scheduler_emulator.requests.count() == 0


def test_an_invalid_registry_is_a_command_error_and_changes_nothing(
    project: str, cloud_scheduler_emulator: running.Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Cloud Scheduler refuses attempt deadlines above 30 minutes; validation says so first.
    monkeypatch.setattr(testapp_tasks.HourlyTask, "attempt_deadline", 3600)

    with (
        override_settings(GCP_TASKS_PROJECT=project),
        pytest.raises(CommandError, match=r"attemptDeadline: '3600s' is outside"),
    ):
        _task_manager("create_scheduler_jobs")

    assert cloud_scheduler_emulator.requests.count() == 0


def _cloud_state(project: str, subscriber: pubsub_v1.SubscriberClient, host: str) -> object:
    """Every job and subscription of the project, with the project id taken out of names."""
    client = testing.scheduler_client(host)
    try:
        jobs = [
            scheduler_v1.Job.to_dict(job)
            for job in client.list_jobs(parent=f"projects/{project}/locations/{LOCATION}")
        ]
    finally:
        client.transport.close()
    subs = [
        pubsub_v1.types.Subscription.to_dict(sub)
        for sub in subscriber.list_subscriptions(project=f"projects/{project}")
    ]
    for job in jobs:
        for volatile in ("user_update_time", "schedule_time", "status", "last_attempt_time"):
            job.pop(volatile, None)
    # Sorted keys: the Pub/Sub emulator returns a map's entries (labels) in no fixed order.
    text = json.dumps({"jobs": jobs, "subscriptions": subs}, sort_keys=True, default=str)
    state = json.loads(text.replace(project, "PROJECT"))
    return json.dumps({kind: sorted(items, key=repr) for kind, items in state.items()})


def test_task_manager_and_reconcile_leave_the_same_cloud_state(
    cloud_scheduler_emulator: running.Service,
    cloud_tasks_emulator: running.Service,
    pubsub_emulator: pubsub.PubSubEmulator,
    tmp_path: pathlib.Path,
) -> None:
    by_task_manager, by_reconcile = testing.unique_project("tm"), testing.unique_project("rc")
    manage = [sys.executable, str(ROOT / "examples" / "manage.py")]
    base = {**os.environ, "DJANGO_SETTINGS_MODULE": "examples.project.settings"}

    def run(command: list[str], project: str) -> None:
        env = {**base, "GOOGLE_CLOUD_PROJECT": project}
        result = subprocess.run(
            command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, result.stderr

    run(
        [*manage, "task_manager", "create_scheduler_jobs", "create_pubsub_subscriptions"],
        by_task_manager,
    )
    registry = tmp_path / "registry.json"
    run([*manage, "export_task_registry", "--output", str(registry)], by_reconcile)
    controller = pathlib.Path(sys.executable).parent / "gcp-tasks-controller"
    run([str(controller), "reconcile", "--registry", str(registry)], by_reconcile)

    subscriber = pubsub_v1.SubscriberClient()
    try:
        host = cloud_scheduler_emulator.host
        state = _cloud_state(by_task_manager, subscriber, host)
        assert state == _cloud_state(by_reconcile, subscriber, host)
    finally:
        subscriber.close()
    assert "shop--nightlysalesreport" in str(state)
    assert "shop--orders--ordereventssubscriber" in str(state)
