"""Smoke: the endpoint benchmark at its smallest size serves every variant (django-gcp's too) over
HTTP and counts the certificate fetches. No timing is asserted."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import endpoints, profiles


@pytest.mark.timeout(120)
@pytest.mark.parametrize("server", ["threaded", "serial"])
def test_smallest_endpoint_benchmark(
    smoke: profiles.Profile, django_gcp_python: Path, server: str
) -> None:
    outcome = endpoints.run(smoke, django_gcp_python=django_gcp_python, server=server)

    variants = outcome.data["variants"]
    assert sorted(variants) == sorted(endpoints.VARIANTS)
    for entry in variants.values():
        assert entry["requests"] > 0  # every one answered 200, or the run would have failed
        assert len(entry["round_rates"]) == smoke.endpoint_rounds
        assert entry["server_cpu_ms_per_request"] > 0
    assert variants["bare"]["slowdown_vs_bare"] == variants["bare"]["server_cpu_vs_bare"] == 1.0
    assert outcome.data["server"] == endpoints.SERVERS[server]
    # One fetch for the whole run: the issuer says max-age=3600.
    assert outcome.data["certificate_fetches"] == 1
    assert [target.met for target in outcome.targets][1] is True
    # Every request of the recorded variant (warm-up included) stored its execution.
    recorded = variants["endpoint-recorded"]["requests"] + endpoints.WARMUP_REQUESTS
    assert outcome.data["recorded_executions"] == recorded
    assert "recording an execution" in outcome.targets[-1].goal
