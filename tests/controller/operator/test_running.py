"""The operator end to end: kopf in-process against kmock, Google's clients against the emulators.

Objects are created through the API (as kubectl would), so kopf sees real watch events; the
cloud side is read back with Google's own clients.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import pathlib
import shutil
import signal
import socket
import sys
from typing import Any

import aiohttp
import pytest
from google.api_core import exceptions as google_exceptions
from google.protobuf import field_mask_pb2

from controller import logs
from controller.registry import custom_resources, ownership
from tests.controller.operator.conftest import LOCATION, PROJECT, Kube, eventually

ROOT = pathlib.Path(__file__).resolve().parents[3]
JOB = f"projects/{PROJECT}/locations/{LOCATION}/jobs/shop--nightly"


def periodic_task(name: str = "nightly", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "gcptasks.dev/v1",
        "kind": "PeriodicTask",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {
            "schedule": "0 3 * * *",
            "timeZone": "Europe/Amsterdam",
            "httpTarget": {"uri": f"https://shop.example.com/tasks/{name}/"},
            **spec,
        },
    }


def subscriber_task(name: str = "order-created", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "gcptasks.dev/v1",
        "kind": "SubscriberTask",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"topic": "orders", "pushEndpoint": f"https://shop.example.com/{name}/", **spec},
    }


def condition(obj: dict[str, Any] | None, kind: str = "Ready") -> dict[str, Any]:
    for found in ((obj or {}).get("status") or {}).get("conditions") or ():
        if found["type"] == kind:
            return found
    return {}


def ready(kube: Kube, body: dict[str, Any], status: str = "True", reason: str | None = None):
    def check() -> dict[str, Any] | None:
        obj = kube.get(body)
        found = condition(obj)
        if found.get("status") == status and reason in (None, found.get("reason")):
            return obj
        return None

    return check


def event_reasons(kube: Kube, body: dict[str, Any]) -> list[str]:
    return [event["reason"] for event in kube.events(body)]


async def get_job(scheduler: Any, name: str = JOB) -> Any:
    try:
        return scheduler.get_job(name=name)
    except google_exceptions.NotFound:
        return None


async def get_subscription(gcp: Any, name: str) -> Any:
    try:
        return gcp.subscriber.get_subscription(subscription=name)
    except google_exceptions.NotFound:
        return None


async def test_a_periodic_task_creates_its_job_and_becomes_ready(start_operator, kube, scheduler):
    await start_operator()
    body = periodic_task()
    await kube.create(body)

    obj = await eventually(ready(kube, body, reason="Created"))
    job = await get_job(scheduler)
    assert job.schedule == "0 3 * * *"
    assert job.time_zone == "Europe/Amsterdam"
    assert job.http_target.uri == "https://shop.example.com/tasks/nightly/"
    assert f"{ownership.MARKER_PREFIX}shop_nightly_" in job.description
    status = obj["status"]
    assert status["observedGeneration"] == obj["metadata"]["generation"] == 1
    assert status["cloudResourceName"] == JOB
    assert status["lastSyncTime"].endswith("Z")
    assert condition(obj, "Synced")["status"] == "True"
    assert condition(obj)["observedGeneration"] == 1
    assert "gcptasks.dev/finalizer" in obj["metadata"]["finalizers"]
    assert "Created" in await eventually(lambda: event_reasons(kube, body))


async def test_objects_that_existed_before_the_operator_started_are_synced(
    start_operator, kube, scheduler
):
    body = periodic_task()
    await kube.create(body)

    await start_operator()

    await eventually(ready(kube, body, reason="Created"))
    assert (await get_job(scheduler)).schedule == "0 3 * * *"


async def test_changing_the_schedule_patches_the_job(
    start_operator, kube, scheduler, cloud_scheduler_emulator
):
    await start_operator()
    body = periodic_task()
    await kube.create(body)
    created = await eventually(ready(kube, body, reason="Created"))
    cloud_scheduler_emulator.requests.clear()

    await kube.patch(body, {"spec": {"schedule": "30 4 * * *"}})

    obj = await eventually(ready(kube, body, reason="Updated"))
    assert (await get_job(scheduler)).schedule == "30 4 * * *"
    updates = [w for w in cloud_scheduler_emulator.requests.writes() if w.method == "UpdateJob"]
    assert [u.update_mask for u in updates] == [("schedule",)]
    assert obj["status"]["observedGeneration"] == obj["metadata"]["generation"] == 2
    # Ready stayed True, so its transition time stayed put.
    assert condition(obj)["lastTransitionTime"] == condition(created)["lastTransitionTime"]
    assert "Updated" in await eventually(lambda: event_reasons(kube, body))


async def test_drift_made_in_the_cloud_is_restored_on_the_next_timer_tick(
    start_operator, kube, scheduler
):
    await start_operator(resync_seconds=1.0)
    body = periodic_task()
    await kube.create(body)
    await eventually(ready(kube, body))

    async def restored() -> bool:
        return (await get_job(scheduler)).schedule == "0 3 * * *"

    # Twice: the timer keeps ticking, it does not only fire once after creation.
    for schedule in ("*/5 * * * *", "*/7 * * * *"):
        job = await get_job(scheduler)
        job.schedule = schedule
        scheduler.update_job(job=job, update_mask=field_mask_pb2.FieldMask(paths=["schedule"]))
        await eventually(restored)

    def two_drift_events() -> list[dict[str, Any]]:
        found = [e for e in kube.events(body) if e["reason"] == "DriftDetected"]
        return found if len(found) >= 2 else []

    drift = await eventually(two_drift_events)
    assert drift[0]["type"] == "Warning"
    assert "schedule was '*/5 * * * *', wanted '0 3 * * *'" in drift[0]["message"]
    assert "schedule was '*/7 * * * *'" in drift[1]["message"]


async def test_kopf_logs_are_leveled_json_without_settings_and_timer_ticks_are_debug(
    start_operator, kube, monkeypatch
):
    out = io.StringIO()
    monkeypatch.setattr(sys, "stderr", out)
    logs.configure(json=True, level="DEBUG")
    await start_operator(resync_seconds=1.0)
    body = periodic_task()
    await kube.create(body)

    def timer_ticks() -> list[dict[str, Any]]:
        lines = [json.loads(line) for line in out.getvalue().splitlines()]
        return [e for e in lines if e["message"] == "Timer 'resync' succeeded."]

    ticks = await eventually(timer_ticks)

    assert {e["severity"] for e in ticks} == {"DEBUG"}
    assert {e["k8s_ref"]["name"] for e in ticks} == {"nightly"}
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    kopf_lines = [e for e in lines if e["logger"].startswith("kopf")]
    assert kopf_lines and not [e for e in kopf_lines if "settings" in e or "k8s_skip" in e]
    assert all(e["time"].endswith("Z") and e["severity"] and e["message"] for e in lines)


@pytest.mark.parametrize(("policy", "kept"), [("Delete", False), ("Abandon", True)])
async def test_deleting_the_object_deletes_or_abandons_the_job(
    start_operator, kube, scheduler, policy, kept
):
    await start_operator()
    body = periodic_task(deletionPolicy=policy)
    await kube.create(body)
    await eventually(ready(kube, body))

    await kube.delete(body)

    await eventually(lambda: kube.get(body) is None)
    assert (await get_job(scheduler) is not None) is kept
    reason = "Abandoned" if kept else "Deleted"
    assert reason in await eventually(lambda: event_reasons(kube, body)[1:])


async def test_renaming_the_job_deletes_the_old_one(start_operator, kube, scheduler):
    await start_operator()
    body = periodic_task()
    await kube.create(body)
    await eventually(ready(kube, body))

    await kube.patch(body, {"spec": {"name": "nightly-v2"}})

    renamed = f"projects/{PROJECT}/locations/{LOCATION}/jobs/shop--nightly-v2"
    obj = await eventually(
        lambda: (
            (kube.get(body) or {}).get("status", {}).get("cloudResourceName") == renamed
            and kube.get(body)
        )
    )
    assert condition(obj)["status"] == "True"
    assert await get_job(scheduler, renamed) is not None

    async def old_job_gone() -> bool:
        return await get_job(scheduler) is None

    await eventually(old_job_gone)


async def test_an_invalid_object_gets_ready_false_and_changes_nothing(
    start_operator, kube, scheduler, cloud_scheduler_emulator
):
    await start_operator()
    body = periodic_task()
    await kube.create(body)
    await eventually(ready(kube, body))
    before = await get_job(scheduler)
    cloud_scheduler_emulator.requests.clear()

    await kube.patch(body, {"spec": {"schedule": "every day", "timeZone": "Mars/Olympus"}})

    obj = await eventually(ready(kube, body, status="False", reason="InvalidSpec"))
    message = condition(obj)["message"]
    assert "$.spec.schedule: 'every day' is not a unix-cron expression" in message
    assert "$.spec.timeZone" in message
    assert condition(obj, "Synced")["status"] == "False"
    assert "InvalidSpec" in await eventually(lambda: event_reasons(kube, body))
    assert cloud_scheduler_emulator.requests.writes() == []
    assert await get_job(scheduler) == before


async def test_a_subscriber_task_creates_its_push_subscription(start_operator, kube, gcp):
    await start_operator()
    body = subscriber_task(ackDeadlineSeconds=30, labels={"team": "checkout"})
    await kube.create(body)

    obj = await eventually(ready(kube, body, reason="Created"))
    name = f"projects/{PROJECT}/subscriptions/shop--orders--order-created"
    assert obj["status"]["cloudResourceName"] == name
    subscription = gcp.subscriber.get_subscription(subscription=name)
    assert subscription.push_config.push_endpoint == "https://shop.example.com/order-created/"
    assert subscription.ack_deadline_seconds == 30
    assert subscription.labels["team"] == "checkout"
    assert subscription.labels[ownership.MANAGED_BY_LABEL] == ownership.MANAGED_BY


def registry_configmap() -> dict[str, Any]:
    registry = {
        "apiVersion": "gcptasks.dev/v1",
        "kind": "TaskRegistry",
        "metadata": {"name": "blog"},
        "spec": {
            "project": PROJECT,
            "location": LOCATION,
            "affix": "blog",
            "owner": "blog",
            "schedulerJobs": [
                {
                    "name": "blog--digest",
                    "schedule": "0 8 * * 1",
                    "httpTarget": {"uri": "https://blog.example.com/tasks/digest/"},
                }
            ],
            "subscriptions": [
                {
                    "name": "blog--comments--moderate",
                    "topic": "comments",
                    "pushEndpoint": "https://blog.example.com/tasks/moderate/",
                }
            ],
        },
    }
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "blog-task-registry",
            "namespace": "blog",
            "labels": {custom_resources.REGISTRY_LABEL: "true"},
        },
        "data": {custom_resources.REGISTRY_KEY: json.dumps(registry)},
    }


BLOG_JOB = f"projects/{PROJECT}/locations/{LOCATION}/jobs/blog--digest"


async def test_a_registry_configmap_produces_the_apps_jobs_and_subscriptions(
    start_operator, kube, scheduler, gcp
):
    await start_operator()
    configmap = registry_configmap()
    await kube.create(configmap)

    job = await eventually(lambda: get_job(scheduler, BLOG_JOB))
    assert job.schedule == "0 8 * * 1"
    subscription = await eventually(
        lambda: get_subscription(gcp, f"projects/{PROJECT}/subscriptions/blog--comments--moderate")
    )
    assert subscription.push_config.push_endpoint == "https://blog.example.com/tasks/moderate/"
    assert "finalizers" not in kube.get(configmap)["metadata"], "apps' ConfigMaps stay untouched"


HEARTBEAT = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {
        "name": "controller-resync",
        "namespace": "tasks",
        "labels": {"gcptasks.dev/resync": "true"},
    },
}


async def test_registry_configmaps_are_resynced_by_the_heartbeat_configmap(
    start_operator, kube, scheduler
):
    await kube.create(HEARTBEAT)
    await start_operator(resync_seconds=1.0, resync_configmap="tasks/controller-resync")
    configmap = registry_configmap()
    await kube.create(configmap)
    job = await eventually(lambda: get_job(scheduler, BLOG_JOB))
    job.schedule = "*/5 * * * *"
    scheduler.update_job(job=job, update_mask=field_mask_pb2.FieldMask(paths=["schedule"]))

    async def restored() -> bool:
        return (await get_job(scheduler, BLOG_JOB)).schedule == "0 8 * * 1"

    await eventually(restored)
    drift = await eventually(
        lambda: [e for e in kube.events(configmap) if e["reason"] == "DriftDetected"]
    )
    assert "schedule was '*/5 * * * *'" in drift[0]["message"]


async def test_a_registry_configmap_turned_invalid_keeps_its_last_valid_registry(
    start_operator, kube, scheduler, gcp
):
    await kube.create(HEARTBEAT)
    await start_operator(resync_seconds=1.0, resync_configmap="tasks/controller-resync")
    configmap = registry_configmap()
    await kube.create(configmap)
    await eventually(lambda: get_job(scheduler, BLOG_JOB))

    await kube.patch(configmap, {"data": {custom_resources.REGISTRY_KEY: "{not json"}})
    (invalid,) = await eventually(
        lambda: [e for e in kube.events(configmap) if e["reason"] == "InvalidRegistry"]
    )
    assert invalid["message"].endswith("its last valid registry stays in use")
    job = await get_job(scheduler, BLOG_JOB)
    job.schedule = "*/5 * * * *"
    scheduler.update_job(job=job, update_mask=field_mask_pb2.FieldMask(paths=["schedule"]))

    async def restored() -> bool:
        return (await get_job(scheduler, BLOG_JOB)).schedule == "0 8 * * 1"

    # Still reconciled (drift corrected on the heartbeat's ticks), and nothing deleted.
    await eventually(restored)
    name = f"projects/{PROJECT}/subscriptions/blog--comments--moderate"
    assert await get_subscription(gcp, name) is not None


async def test_an_invalid_registry_configmap_is_reported_and_changes_nothing(
    start_operator, kube, cloud_scheduler_emulator
):
    await start_operator()
    configmap = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "broken",
            "namespace": "blog",
            "labels": {custom_resources.REGISTRY_LABEL: "true"},
        },
        "data": {custom_resources.REGISTRY_KEY: "{not json"},
    }
    await kube.create(configmap)

    events = await eventually(lambda: kube.events(configmap))
    assert events[0]["reason"] == "InvalidRegistry"
    assert "not valid JSON" in events[0]["message"]
    assert cloud_scheduler_emulator.requests.writes() == []


async def test_a_job_claimed_by_two_objects_is_a_conflict_on_both(start_operator, kube, scheduler):
    # The first object learns of the conflict from an Event at once, in its status on its tick.
    await start_operator(resync_seconds=1.0)
    first = periodic_task("nightly")
    second = periodic_task("copy", httpTarget={"uri": "https://shop.example.com/other/"})
    second["spec"]["name"] = "nightly"  # the same job id: shop--nightly
    await kube.create(first)
    await eventually(ready(kube, first))
    await kube.create(second)

    obj = await eventually(ready(kube, second, status="False", reason="Conflict"))
    assert "periodictask/shop/copy and periodictask/shop/nightly" in condition(obj)["message"]
    assert "Conflict" in await eventually(lambda: event_reasons(kube, first))
    await eventually(ready(kube, first, status="False", reason="Conflict"))
    assert (await get_job(scheduler)).http_target.uri.endswith("/nightly/"), "left untouched"


async def test_namespace_scoping_ignores_other_namespaces(start_operator, kube, scheduler):
    await start_operator(namespaces=["blog"])
    body = periodic_task()  # in namespace "shop"
    await kube.create(body)
    watched = periodic_task("digest")
    watched["metadata"]["namespace"] = "blog"
    await kube.create(watched)

    await eventually(ready(kube, watched))
    assert "status" not in kube.get(body)
    assert await get_job(scheduler) is None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_liveness_endpoint_reports_the_last_pass(start_operator, kube):
    endpoint = f"http://127.0.0.1:{free_port()}/healthz"
    await start_operator(liveness_endpoint=endpoint)
    body = periodic_task()
    await kube.create(body)
    await eventually(ready(kube, body))

    async with aiohttp.ClientSession() as session, session.get(endpoint) as response:
        assert response.status == 200
        payload = await response.json()
    assert payload["reconcile"]["converged"] is True


async def test_kubectl_server_side_apply_of_the_sample(start_operator, kube, scheduler):
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl must be on PATH for this test"
    await start_operator()
    sample = ROOT / "manifests" / "samples" / "periodictask.yaml"

    process = await asyncio.create_subprocess_exec(
        kubectl,
        "apply",
        "--server-side",
        "--validate=false",
        "-f",
        str(sample),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert "serverside-applied" in out.decode()

    body = {"kind": "PeriodicTask", "metadata": {"name": "nightly-report", "namespace": "shop"}}
    obj = await eventually(ready(kube, body))
    name = "projects/shop-prod-123/locations/europe-west1/jobs/shop--nightly-report"
    assert obj["status"]["cloudResourceName"] == name
    job = await get_job(scheduler, name)
    assert job.schedule == "0 3 * * *"
    assert job.http_target.oidc_token.service_account_email.startswith("shop-invoker@")


async def test_the_cli_runs_the_operator_until_sigterm(kube, gcp, scheduler):
    health = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "controller.cli",
        "run",
        f"--project={PROJECT}",
        f"--location={LOCATION}",
        "--host=127.0.0.1",
        f"--health-port={health}",
        f"--metrics-port={health}",
        "--log-format=json",
        env=dict(os.environ),  # KUBECONFIG and the emulators' hosts, set by the fixtures
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        body = periodic_task()
        await kube.create(body)
        obj = await eventually(ready(kube, body), timeout=30)
        assert obj["status"]["cloudResourceName"] == JOB
        assert (await get_job(scheduler)).schedule == "0 3 * * *"
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, stderr.decode()[-2000:]


async def test_with_peering_only_the_highest_priority_replica_acts(
    start_operator, kube, scheduler, caplog
):
    peering = {
        "apiVersion": "kopf.dev/v1",
        "kind": "ClusterKopfPeering",
        "metadata": {"name": "gcp-tasks-controller"},
    }
    async with aiohttp.ClientSession(base_url=str(kube.server.url)) as session:
        url = "/apis/kopf.dev/v1/clusterkopfpeerings"
        async with session.post(url, json=peering) as response:
            assert response.status < 300
    caplog.set_level(logging.INFO, logger="kopf")
    key = ("kopf.dev/v1/clusterkopfpeerings", None, "gcp-tasks-controller")

    def peers() -> dict[str, int]:
        status = kube.server.objects[key].get("status") or {}
        return {identity: peer["priority"] for identity, peer in status.items()}

    # Two replicas in one process: kopf's default identity (host and pid) would be the same.
    # The second starts once the first has announced itself, as a rolled-out replica would.
    await start_operator(peering_name="gcp-tasks-controller", priority=100, identity="one")
    await eventually(lambda: peers() == {"one": 100})
    await start_operator(peering_name="gcp-tasks-controller", priority=10, identity="two")
    await eventually(lambda: peers() == {"one": 100, "two": 10})
    body = periodic_task()
    await kube.create(body)

    await eventually(ready(kube, body))
    # Both start paused until they have seen their peers; only the higher priority resumed.
    assert caplog.text.count("Resuming operations after the pause") == 1
