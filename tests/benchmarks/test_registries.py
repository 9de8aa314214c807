"""Benchmark registries are valid documents the controller reads back unchanged."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from benchmarks import registries
from controller.registry import documents


@pytest.mark.parametrize("size", [1, 10, 25])
def test_registries_round_trip_through_a_document(tmp_path: Path, size: int) -> None:
    registry = registries.build(size, project="bench-project")
    path = registries.write(registry, tmp_path / "registry.json")
    parsed = documents.parse(path.read_bytes(), "registry.json")
    assert parsed == dataclasses.replace(registry, source="registry.json")
    assert len({job.name for job in parsed.scheduler_jobs}) == size
    assert {sub.topic for sub in parsed.subscriptions} == {
        registries.topic_name(i) for i in range(size)
    }
    assert [p.name for p in tmp_path.iterdir()] == ["registry.json"]


def test_one_resource_changes_at_a_time() -> None:
    registry = registries.build(3, project="bench-project")
    changed = registries.with_job(registry, 1, schedule="5 5 * * *")
    assert [job.schedule for job in changed.scheduler_jobs] == [
        "0 0 * * *",
        "5 5 * * *",
        "2 2 * * *",
    ]
    changed = registries.with_subscription(registry, 2, ack_deadline_seconds=42)
    assert [sub.ack_deadline_seconds for sub in changed.subscriptions] == [30, 30, 42]
