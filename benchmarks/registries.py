"""Registries of N scheduler jobs and N push subscriptions, shaped like a Django app's export,
and writing them as registry documents the controller reads."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from controller.registry import documents, model

LOCATION = "europe-west1"
AFFIX = "bench"
SERVICE_ACCOUNT = "bench-tasks@bench-project.iam.gserviceaccount.com"
DOMAIN = "https://bench.example.com"
SUBSCRIPTIONS_PER_TOPIC = 10


def job_name(index: int) -> str:
    return f"{AFFIX}--job-{index:05d}"


def subscription_name(index: int) -> str:
    return f"{AFFIX}--{topic_name(index)}--sub-{index:05d}"


def topic_name(index: int) -> str:
    return f"topic-{index // SUBSCRIPTIONS_PER_TOPIC:04d}"


def build(size: int, *, project: str, owner: str = AFFIX) -> model.Registry:
    """`size` jobs and `size` subscriptions (ten per topic), every optional field in use."""
    token = model.OidcToken(service_account_email=SERVICE_ACCOUNT)
    jobs = tuple(
        model.SchedulerJob(
            name=job_name(index),
            schedule=f"{index % 60} {index % 24} * * *",
            uri=f"{DOMAIN}/gcp/tasks/Job{index:05d}",
            time_zone="Europe/London",
            description=f"Benchmark job {index}",
            body='{"source": "benchmark"}',
            headers={"Content-Type": "application/json"},
            oidc_token=token,
            retry=model.SchedulerRetry(retry_count=2),
            attempt_deadline=1800.0,
        )
        for index in range(size)
    )
    subscriptions = tuple(
        model.Subscription(
            name=subscription_name(index),
            topic=topic_name(index),
            push_endpoint=f"{DOMAIN}/gcp/subscriber-tasks/Subscriber{index:05d}",
            oidc_token=token,
            ack_deadline_seconds=30,
            retry=model.PushRetry(minimum_backoff=10.0, maximum_backoff=300.0),
            labels={"app": "bench"},
        )
        for index in range(size)
    )
    return model.Registry(
        source=f"benchmark-{size}",
        project=project,
        location=LOCATION,
        affix=AFFIX,
        owner=owner,
        scheduler_jobs=jobs,
        subscriptions=subscriptions,
        name=f"bench-{size}",
    )


def with_job(registry: model.Registry, index: int, **changes: object) -> model.Registry:
    jobs = list(registry.scheduler_jobs)
    jobs[index] = dataclasses.replace(jobs[index], **changes)  # type: ignore[arg-type]
    return dataclasses.replace(registry, scheduler_jobs=tuple(jobs))


def with_subscription(registry: model.Registry, index: int, **changes: object) -> model.Registry:
    subscriptions = list(registry.subscriptions)
    subscriptions[index] = dataclasses.replace(subscriptions[index], **changes)  # type: ignore[arg-type]
    return dataclasses.replace(registry, subscriptions=tuple(subscriptions))


def write(registry: model.Registry, path: Path) -> Path:
    """Write atomically: a watcher never reads half a document."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(documents.render(registry))
    temporary.replace(path)
    return path
