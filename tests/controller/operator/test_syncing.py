"""Passes for the operator, against the emulators: shared by concurrent callers, fresh on demand."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import structlog

from controller.engine import reconciling
from controller.operator import declarations, syncing
from controller.registry import custom_resources
from tests.controller.operator.conftest import LOCATION, PROJECT

DEFAULTS = custom_resources.Defaults(project=PROJECT, location=LOCATION)


def periodic_task(name: str) -> declarations.Declared:
    body = {
        "apiVersion": "gcptasks.dev/v1",
        "kind": "PeriodicTask",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"schedule": "0 3 * * *", "httpTarget": {"uri": f"https://shop.example/{name}/"}},
    }
    return declarations.from_custom_resource(body, DEFAULTS)


def subscriber_task(name: str) -> declarations.Declared:
    body = {
        "apiVersion": "gcptasks.dev/v1",
        "kind": "SubscriberTask",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"topic": "orders", "pushEndpoint": f"https://shop.example/{name}/"},
    }
    return declarations.from_custom_resource(body, DEFAULTS)


def syncer(gcp: Any, posted: list[Any]) -> syncing.Syncer:
    return syncing.Syncer(
        gcp, reconciling.DEFAULT_POLICY, post=lambda ref, **event: posted.append(event)
    )


async def test_concurrent_callers_share_passes(gcp, cloud_scheduler_emulator):
    posted: list[Any] = []
    engine = syncer(gcp, posted)
    items = (periodic_task("nightly"), periodic_task("hourly"))

    results = await asyncio.gather(*(engine.fresh(lambda: items) for _ in range(8)))

    passes = cloud_scheduler_emulator.requests.count("ListJobs")
    assert 1 <= passes <= 2, "eight callers, at most one running pass and one queued"
    assert len({result.started for result in results}) == passes
    assert all(result.converged for result in results)
    assert [event["reason"] for event in posted] == ["Created", "Created"]


async def test_a_recent_pass_is_reused_within_max_age(gcp, cloud_scheduler_emulator):
    engine = syncer(gcp, [])
    items = (periodic_task("nightly"),)
    first = await engine.fresh(lambda: items)
    again = await engine.fresh(lambda: items, max_age=60)
    fresh = await engine.fresh(lambda: items)
    assert again is first
    assert fresh is not first and fresh.started > first.started
    assert cloud_scheduler_emulator.requests.count("ListJobs") == 2


async def test_subscriber_tasks_never_list_scheduler_jobs(gcp, cloud_scheduler_emulator):
    engine = syncer(gcp, [])
    result = await engine.fresh(lambda: (subscriber_task("order-created"),))
    assert result.converged
    assert cloud_scheduler_emulator.requests.count("ListJobs") == 0
    subscription = f"projects/{PROJECT}/subscriptions/shop--orders--order-created"
    assert gcp.subscriber.get_subscription(subscription=subscription).name == subscription


async def test_delete_removes_only_the_objects_own_job(gcp, scheduler):
    engine = syncer(gcp, [])
    nightly, hourly = periodic_task("nightly"), periodic_task("hourly")
    await engine.fresh(lambda: (nightly, hourly))

    report = await engine.delete(nightly)

    assert not report.failures
    parent = f"projects/{PROJECT}/locations/{LOCATION}"
    assert [job.name for job in scheduler.list_jobs(parent=parent)] == [
        f"{parent}/jobs/shop--hourly"
    ]


async def test_every_engine_of_the_operator_shares_one_write_limiter(gcp, cloud_scheduler_emulator):
    """Quotas are per project and minute: a rate lowered by a quota error in a pass holds for
    the engine that deletes a custom resource's job too, instead of starting from full rate."""
    engine = syncer(gcp, [])
    nightly = periodic_task("nightly")
    faults = cloud_scheduler_emulator.faults
    with structlog.testing.capture_logs() as logs:
        faults.inject("CreateJob", grpc.StatusCode.RESOURCE_EXHAUSTED)
        assert (await engine.fresh(lambda: (nightly,))).converged
        faults.inject("DeleteJob", grpc.StatusCode.RESOURCE_EXHAUSTED)
        assert not (await engine.delete(nightly)).failures

    lowered = [event for event in logs if event["event"] == "write_rate_lowered"]
    assert [event["operation"] for event in lowered] == ["CreateJob", "DeleteJob"]
    normal = reconciling.DEFAULT_WRITES_PER_SECOND
    assert lowered[0]["previous_rate"] == normal and lowered[0]["rate"] == normal / 2
    # Climbing back by a twelfth of the normal rate a second: still well below normal.
    assert lowered[1]["previous_rate"] < 0.75 * normal
