"""Smoke: the enqueue benchmark at its smallest size runs all three implementations and reports
well-formed results. No timing is asserted: benchmarks are not tests."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from benchmarks import enqueueing, profiles


@pytest.mark.timeout(300)
def test_smallest_enqueue_benchmark(smoke: profiles.Profile, django_gcp_python: Path) -> None:
    outcome = enqueueing.run(smoke, django_gcp_python=django_gcp_python)

    sequential = outcome.data["sequential"]
    assert sorted(sequential) == sorted(
        f"{implementation}/{mode}"
        for implementation in enqueueing.IMPLEMENTATIONS
        for mode in enqueueing.MODES
    )
    for entry in sequential.values():
        assert entry["latency_ms"]["count"] == smoke.enqueue_calls * smoke.enqueue_rounds
        assert 0 < entry["latency_ms"]["median"] <= entry["latency_ms"]["p95"]
        # Every enqueue is exactly one CreateTask request, as served by the emulator.
        assert entry["create_requests_per_task"] == 1.0
        assert math.isfinite(entry["vs_raw"])
    assert {sequential[f"raw/{mode}"]["vs_raw"] for mode in enqueueing.MODES} == {1.0}
    for entry in outcome.data["bulk"].values():
        assert entry["create_requests_per_task"] == 1.0
    assert outcome.data["workers"]["django-gcp"]["django_gcp"]  # the version it reports
    assert [target.benchmark for target in outcome.targets] == ["enqueue"] * 3
    assert all(isinstance(target.met, bool) for target in outcome.targets)
    assert [len(table.rows) for table in outcome.tables] == [6, 3]
