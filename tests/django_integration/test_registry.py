import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from controller.registry import documents, model, schemas
from django_integration import registry
from django_integration.tasks import PeriodicTask, SubscriberTask

ROOT = Path(__file__).resolve().parents[2]
CALLER = "tasks@test-project.iam.gserviceaccount.com"
TOKEN = model.OidcToken(service_account_email=CALLER)


def test_periodic_tasks_become_scheduler_jobs():
    built = registry.build()
    hourly = next(job for job in built.scheduler_jobs if job.name == "test--hourlytask")
    assert hourly == model.SchedulerJob(
        name="test--hourlytask",
        schedule="0 * * * *",
        uri="https://tasks.example.com/gcp/tasks/HourlyTask",
        time_zone="UTC",
        body="{}",
        headers={"Content-Type": "application/json"},
        oidc_token=TOKEN,
        attempt_deadline=1800.0,
    )


def test_subscriber_tasks_become_push_subscriptions():
    built = registry.build()
    subscription = next(s for s in built.subscriptions if s.topic == "test-events")
    assert subscription == model.Subscription(
        name="test--test-events--recordingsubscriber",
        topic="test-events",
        push_endpoint="https://tasks.example.com/gcp/subscriber-tasks/RecordingSubscriber",
        oidc_token=TOKEN,
    )


def test_the_registry_names_its_app():
    built = registry.build()
    assert (built.project, built.location, built.affix, built.owner, built.delimiter) == (
        "test-project",
        "europe-west1",
        "test",
        "test",
        "--",
    )
    assert built.name == "test"
    assert built.generated_by.startswith("django_integration ")
    assert [job.name for job in built.scheduler_jobs] == sorted(
        job.name for job in built.scheduler_jobs
    )


def test_every_cloud_option_of_a_task_is_carried(isolated_registrations):
    class Tuned(PeriodicTask):
        run_every = "*/5 * * * *"
        time_zone = "Europe/London"
        run_kwargs = {"full": True}
        description = "Tuned job"
        paused = True
        attempt_deadline = 60
        retry_count = 3
        max_retry_duration = 600
        min_backoff_duration = 10
        max_backoff_duration = 300
        max_doublings = 2

    class TunedSubscriber(SubscriberTask):
        topic_id = "tuned"
        enable_message_ordering = True
        ack_deadline_seconds = 60
        filter = 'attributes.kind = "created"'
        dead_letter_topic_id = "tuned-dead"
        max_delivery_attempts = 7
        minimum_backoff = 5
        message_retention_duration = 3600
        labels = {"team": "shop"}

    with override_settings(GCP_TASKS_OIDC_AUDIENCE="https://aud.example.com"):
        built = registry.build()
    job = next(job for job in built.scheduler_jobs if job.name == "test--tuned")
    assert (job.schedule, job.time_zone, job.body, job.description, job.paused) == (
        "*/5 * * * *",
        "Europe/London",
        '{"full":true}',
        "Tuned job",
        True,
    )
    assert job.attempt_deadline == 60
    assert job.retry == model.SchedulerRetry(3, 600, 10, 300, 2)
    assert job.oidc_token == model.OidcToken(CALLER, "https://aud.example.com")
    sub = next(sub for sub in built.subscriptions if sub.topic == "tuned")
    assert sub.name == "test--tuned--tunedsubscriber"
    assert (sub.enable_message_ordering, sub.ack_deadline_seconds, sub.filter) == (
        True,
        60,
        'attributes.kind = "created"',
    )
    assert (sub.dead_letter_topic, sub.max_delivery_attempts) == ("tuned-dead", 7)
    assert sub.retry == model.PushRetry(minimum_backoff=5, maximum_backoff=600)
    assert sub.message_retention_duration == 3600
    assert dict(sub.labels) == {"team": "shop"}
    assert documents.parse(documents.render(built), "test") == dataclasses.replace(
        built, source="test"
    )


def test_without_a_service_account_there_is_no_token():
    with override_settings(GCP_TASKS_SERVICE_ACCOUNT_EMAIL=None):
        built = registry.build()
    assert {job.oidc_token for job in built.scheduler_jobs} == {None}
    assert {sub.oidc_token for sub in built.subscriptions} == {None}


def test_a_registry_needs_an_affix():
    with (
        override_settings(GCP_TASKS_RESOURCE_AFFIX=None),
        pytest.raises(ImproperlyConfigured, match="GCP_TASKS_RESOURCE_AFFIX must be set"),
    ):
        registry.build()


def test_the_rendered_registry_validates_and_parses_back():
    text = registry.render()
    jsonschema.validate(json.loads(text), schemas.load())
    parsed = documents.parse(text, "test")
    assert parsed.scheduler_jobs == registry.build().scheduler_jobs
    assert parsed.subscriptions == registry.build().subscriptions
    assert registry.render() == text


def _export_example(*args):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "examples.project.settings"}
    for name in list(env):
        if name.startswith(("GCP_", "GOOGLE_", "CLOUD_", "PUBSUB_")):
            del env[name]
    env["GCP_TASKS_DOMAIN"] = "https://shop.example.com"
    return subprocess.run(
        [sys.executable, "examples/manage.py", "export_task_registry", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        check=True,
        timeout=60,
    )


def test_the_example_project_exports_a_valid_stable_registry(tmp_path):
    first = _export_example().stdout
    second = _export_example("--output", str(tmp_path / "registry.json"))
    assert second.stdout == b""
    assert (tmp_path / "registry.json").read_bytes() == first  # byte-identical across runs

    document = json.loads(first)
    jsonschema.validate(document, schemas.load())
    parsed = documents.parse(first, "example")
    assert [job.name for job in parsed.scheduler_jobs] == [
        "shop--nightlysalesreport",
        "shop--purge_abandoned_carts",
    ]
    assert [sub.name for sub in parsed.subscriptions] == ["shop--orders--ordereventssubscriber"]
    [job, scheduled], [sub] = parsed.scheduler_jobs, parsed.subscriptions
    assert (job.schedule, job.time_zone, job.uri) == (
        "0 3 * * *",
        "Europe/London",
        "https://shop.example.com/gcp/tasks/NightlySalesReport",
    )
    assert (scheduled.schedule, scheduled.uri, scheduled.body) == (
        "30 2 * * *",
        "https://shop.example.com/gcp/django-tasks/examples.shop.tasks.purge_abandoned_carts",
        '{"args":[],"kwargs":{"days":30}}',
    )
    assert sub.enable_message_ordering and sub.topic == "orders"
    assert (parsed.project, parsed.affix, parsed.owner) == ("example-shop", "shop", "shop")


def test_periodic_django_tasks_become_scheduler_jobs_beside_the_classes():
    built = registry.build()
    sweep = next(job for job in built.scheduler_jobs if job.name == "test--sweep")
    assert sweep == model.SchedulerJob(
        name="test--sweep",
        schedule="*/5 * * * *",
        uri="https://tasks.example.com/gcp/django-tasks/tests.django_integration.testapp.tasks.sweep",
        time_zone="Europe/Paris",
        description="Sweep the recent orders.",  # the docstring's first line
        body='{"args":[],"kwargs":{"scope":"recent"}}',
        headers={"Content-Type": "application/json"},
        oidc_token=TOKEN,
        retry=model.SchedulerRetry(retry_count=2),
        attempt_deadline=1800.0,
    )
    assert [job.name for job in built.scheduler_jobs] == sorted(
        job.name for job in built.scheduler_jobs
    )
    assert registry.render() == registry.render()  # byte-stable
