"""django-gcp's `task_manager` and the controller's `reconcile` leave the cloud in the same state
for the same app: the one engine behind two entry points. Needs the controller extra, so it is
not among the Django integration's tests, which also run without it."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

from google.cloud import pubsub_v1, scheduler_v1

from emulators import pubsub, running, testing

ROOT = pathlib.Path(__file__).resolve().parents[1]
LOCATION = "europe-west1"


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
