"""`task_manager`: django-gcp's command and report, run by the reconcile engine (that it leaves
the cloud as `gcp-tasks-controller reconcile` does: tests/test_task_manager_and_reconcile.py)."""

from __future__ import annotations

import io
import logging
import pathlib

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from google.cloud import pubsub_v1, scheduler_v1

from controller.gcp import subscriptions
from controller.registry import model, ownership
from django_integration.exceptions import UnknownActionError
from django_integration.management.commands import task_manager
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
        "Successfully created 4 scheduler jobs to domain https://tasks.example.com",
        "- [+] test--hourlytask",
        "- [+] test--nightlysalesreport",
        "- [+] test--purge_abandoned_carts",
        "- [+] test--sweep",
        "Successfully created 2 pubsub subscriptions to domain https://tasks.example.com",
        "- [+] OrderEventsSubscriber",  # django-gcp names the task a subscription pushes to
        "- [+] RecordingSubscriber",
    ]
    assert second.splitlines() == first.splitlines()[:5]
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
                description=ownership.describe("", "test"),
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
        "Successfully created 5 scheduler jobs to domain https://new.example.com",
        "- [+] test--hourlytask",
        "- [+] test--nightlysalesreport",
        "- [+] test--purge_abandoned_carts",
        "- [+] test--sweep",
        "- [-] test--retired",
    ]
    uris = sorted(job.http_target.uri for job in scheduler_api.list_jobs(parent=parent))
    assert uris == [
        "https://new.example.com/gcp/django-tasks/examples.shop.tasks.purge_abandoned_carts",
        "https://new.example.com/gcp/django-tasks/tests.django_integration.testapp.tasks.sweep",
        "https://new.example.com/gcp/tasks/HourlyTask",
        "https://new.example.com/gcp/tasks/NightlySalesReport",
    ]


def test_a_name_taken_by_a_job_that_is_not_ours_is_a_command_error(
    project: str,
    cloud_scheduler_emulator: running.Service,
    scheduler_api: scheduler_v1.CloudSchedulerClient,
) -> None:
    parent = f"projects/{project}/locations/{LOCATION}"
    scheduler_api.create_job(
        parent=parent,
        job=scheduler_v1.Job(
            name=f"{parent}/jobs/test--hourlytask",
            description="made by hand",
            schedule="0 1 * * *",
            http_target=scheduler_v1.HttpTarget(uri="https://elsewhere.example.com/"),
        ),
    )

    with (
        override_settings(GCP_TASKS_PROJECT=project),
        pytest.raises(CommandError) as raised,
    ):
        _task_manager("create_scheduler_jobs")

    assert str(raised.value).splitlines() == [
        "Not every resource is in line:",
        "scheduler_job 'test--hourlytask' already exists and is not ours (it has no ownership "
        "marker); it is left alone",
    ]
    assert scheduler_api.get_job(name=f"{parent}/jobs/test--hourlytask").description == (
        "made by hand"
    )


def _owned_subscription(
    project: str, name: str, task: str, owner: str
) -> pubsub_v1.types.Subscription:
    orphan = model.Subscription(
        name=name,
        topic="test-events",
        push_endpoint=f"https://tasks.example.com/gcp/subscriber-tasks/{task}",
    )
    return subscriptions.to_proto(orphan, owner, project)


def test_cleanup_reports_deleted_subscriptions_by_task_like_django_gcp(
    project: str, pubsub_emulator: pubsub.PubSubEmulator
) -> None:
    subscriber = pubsub_v1.SubscriberClient()
    try:
        with override_settings(GCP_TASKS_PROJECT=project):
            _task_manager("create_pubsub_subscriptions")
            retired = _owned_subscription(
                project, "test--test-events--retiredsubscriber", "RetiredSubscriber", "test"
            )
            subscriber.create_subscription(request=retired)
            cleaned = _task_manager("create_pubsub_subscriptions", "--cleanup")
        names = sorted(
            sub.name.rsplit("/", 1)[-1]
            for sub in subscriber.list_subscriptions(project=f"projects/{project}")
        )
    finally:
        subscriber.close()
    assert cleaned.splitlines() == [
        "Successfully created 3 pubsub subscriptions to domain https://tasks.example.com",
        "- [+] OrderEventsSubscriber",
        "- [+] RecordingSubscriber",
        "- [-] RetiredSubscriber",
    ]
    assert names == [
        "test--orders--ordereventssubscriber",
        "test--test-events--recordingsubscriber",
    ]


@override_settings(GCP_TASKS_RESOURCE_AFFIX=None)
def test_without_an_affix_resources_are_created_and_cleanup_is_skipped_with_a_warning(
    project: str,
    cloud_scheduler_emulator: running.Service,
    scheduler_api: scheduler_v1.CloudSchedulerClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    parent = f"projects/{project}/locations/{LOCATION}"
    subscriber = pubsub_v1.SubscriberClient()
    try:
        with override_settings(GCP_TASKS_PROJECT=project):
            first = _task_manager("create_scheduler_jobs", "create_pubsub_subscriptions")
            # Ours by its marker, declared by no task: only a cleanup could delete it.
            scheduler_api.create_job(
                parent=parent,
                job=scheduler_v1.Job(
                    name=f"{parent}/jobs/retired",
                    description=ownership.describe("", "django"),
                    schedule="0 1 * * *",
                    http_target=scheduler_v1.HttpTarget(uri="https://tasks.example.com/old"),
                ),
            )
            cloud_scheduler_emulator.requests.clear()
            with caplog.at_level(logging.WARNING):
                again = _task_manager(
                    "create_scheduler_jobs", "create_pubsub_subscriptions", "--cleanup"
                )
        jobs = sorted(job.name.rsplit("/", 1)[-1] for job in scheduler_api.list_jobs(parent=parent))
        subs = sorted(
            sub.name.rsplit("/", 1)[-1]
            for sub in subscriber.list_subscriptions(project=f"projects/{project}")
        )
    finally:
        subscriber.close()

    assert first.splitlines() == [
        "Successfully created 4 scheduler jobs to domain https://tasks.example.com",
        "- [+] hourlytask",
        "- [+] nightlysalesreport",
        "- [+] purge_abandoned_carts",
        "- [+] sweep",
        "Successfully created 2 pubsub subscriptions to domain https://tasks.example.com",
        "- [+] OrderEventsSubscriber",
        "- [+] RecordingSubscriber",
    ]
    assert again == first
    assert cloud_scheduler_emulator.requests.writes() == []
    assert jobs == ["hourlytask", "nightlysalesreport", "purge_abandoned_carts", "retired", "sweep"]
    assert subs == ["orders--ordereventssubscriber", "test-events--recordingsubscriber"]
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, task_manager.CLEANUP_SKIPPED.format(kind="Scheduler Jobs")),
        (logging.WARNING, task_manager.CLEANUP_SKIPPED.format(kind="PubSub Subscriptions")),
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
