"""Desired resources for the adapter and engine tests, close to what the example app exports."""

from __future__ import annotations

from controller.registry import model

LOCATION = "europe-west1"
OWNER = "shop"


def job(name: str = "cleanup", **overrides: object) -> model.SchedulerJob:
    fields: dict[str, object] = {
        "name": f"shop--{name}",
        "schedule": "0 3 * * *",
        "uri": f"https://shop.example.com/gcp-tasks/{name}",
        "time_zone": "Europe/London",
        "body": '{"kind": "cleanup"}',
        "headers": {"Content-Type": "application/json"},
        "retry": model.SchedulerRetry(retry_count=2),
    }
    fields.update(overrides)
    return model.SchedulerJob(**fields)  # type: ignore[arg-type]


def subscription(name: str = "order-created", **overrides: object) -> model.Subscription:
    fields: dict[str, object] = {
        "name": f"shop--orders--{name}",
        "topic": "orders",
        "push_endpoint": f"https://shop.example.com/gcp-subscriber-tasks/{name}",
        "ack_deadline_seconds": 30,
    }
    fields.update(overrides)
    return model.Subscription(**fields)  # type: ignore[arg-type]


def registry(
    project: str,
    jobs: tuple[model.SchedulerJob, ...] = (),
    subs: tuple[model.Subscription, ...] = (),
    *,
    owner: str = OWNER,
    affix: str = "shop",
    source: str = "test-registry.json",
) -> model.Registry:
    return model.Registry(
        name=owner,
        source=source,
        project=project,
        location=LOCATION,
        affix=affix,
        owner=owner,
        scheduler_jobs=jobs,
        subscriptions=subs,
    )
