"""Smoke: the django.tasks enqueue benchmark at its smallest size runs all four implementations
in one Django 6 process and reports well-formed results. No timing is asserted."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from benchmarks import backend_enqueueing, profiles


@pytest.mark.timeout(600)
def test_smallest_backend_benchmark(smoke: profiles.Profile, django_tasks_python: Path) -> None:
    outcome = backend_enqueueing.run(smoke, django_tasks_python=django_tasks_python)

    sequential = outcome.data["sequential"]
    assert list(sequential) == list(backend_enqueueing.IMPLEMENTATIONS)
    for entry in sequential.values():
        assert entry["latency_ms"]["count"] == smoke.enqueue_calls * smoke.enqueue_rounds
        assert 0 < entry["latency_ms"]["median"] <= entry["latency_ms"]["p95"]
        assert math.isfinite(entry["vs_raw"])
    assert sequential["raw"]["vs_raw"] == 1.0
    versions = outcome.data["worker"]["versions"]
    assert versions["Django"].startswith("6.") and versions["django-tasks-google"] == "0.6.0"
    [target] = outcome.targets
    assert target.benchmark == "backend" and isinstance(target.met, bool)
    assert [len(table.rows) for table in outcome.tables] == [4]
