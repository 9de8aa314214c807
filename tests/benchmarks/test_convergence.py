"""Smoke: the convergence benchmark at its smallest size runs the controller as a process and sees
a registry change and a drift corrected. No timing is asserted beyond "it converged"."""

from __future__ import annotations

import math

import pytest

from benchmarks import convergence, profiles


@pytest.mark.timeout(180)
def test_smallest_convergence_benchmark(smoke: profiles.Profile) -> None:
    outcome = convergence.run(smoke)

    scenarios = outcome.data["scenarios"]
    assert sorted(scenarios) == sorted(convergence.SCENARIOS)
    for entry in scenarios.values():
        assert len(entry["samples"]) == smoke.convergence_samples * 2
        assert all(math.isfinite(value) and value > 0 for value in entry["samples"])
    assert outcome.data["converged_passes"] >= 1
    assert len(outcome.tables[0].rows) == 2
