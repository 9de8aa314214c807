"""Smoke: the idle benchmark at its smallest size runs the controller twice as a process and
counts, from the emulators' request logs, one List per kind per resync and nothing between."""

from __future__ import annotations

import pytest

from benchmarks import idling, profiles, reconciling


@pytest.mark.timeout(180)
def test_smallest_idle_benchmark(smoke: profiles.Profile) -> None:
    outcome = idling.run(smoke)

    data = outcome.data
    resyncing = data["resyncing"]
    assert resyncing["passes"] == smoke.idle_passes
    # Every resync of an unchanged registry: its pages (one per kind at this size), nothing
    # else: no Get, no write.
    pages = reconciling.expected_pages(smoke.idle_size)
    assert pages == 2
    assert resyncing["api_calls"] == {
        "ListJobs": smoke.idle_passes,
        "ListSubscriptions": smoke.idle_passes,
    }
    assert resyncing["api_calls_per_pass"] == pages
    assert data["alive"]["api_calls"] == {}
    assert data["alive"]["seconds"] >= smoke.idle_seconds
    assert data["hour"]["api_calls"] == data["hour"]["resyncs"] * pages
    assert data["hour"]["resyncs"] == 3600 / data["default_resync_seconds"]
    (target,) = outcome.targets
    assert target.met is True
