"""Metrics: one pass report turned into counters, served over HTTP with a health endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from controller import metrics
from controller.engine import reports, scopes
from controller.gcp import errors
from controller.planning import plans


def _value(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def _report() -> reports.PassReport:
    update = plans.Action(
        plans.Kind.SCHEDULER_JOB,
        "shop--a",
        plans.Verb.UPDATE,
        drift=(plans.Drift("schedule", "1", "2"), plans.Drift("time_zone", "UTC", "X")),
    )
    create = plans.Action(plans.Kind.SUBSCRIPTION, "shop--s", plans.Verb.CREATE)
    updated = reports.Outcome(update, applied=True)
    failed = reports.Outcome(create, applied=True, error=errors.QuotaExceeded("slow down"))
    jobs = scopes.Scope(plans.Kind.SCHEDULER_JOB, "p", "l")
    subs = scopes.Scope(plans.Kind.SUBSCRIPTION, "p", "")
    done = (
        reports.ScopeReport(jobs, plans.Plan((update,)), (updated,)),
        reports.ScopeReport(subs, plans.Plan((create,)), (failed,)),
    )
    return reports.PassReport(
        scopes=done, api_calls=7, writes=3, api_errors={"RESOURCE_EXHAUSTED": 2}, duration=0.2
    )


def test_record_pass_counts_everything() -> None:
    names = {
        "failed": ("gcptasks_reconcile_passes_total", {"result": "failed", "dry_run": "false"}),
        "update": (
            "gcptasks_reconcile_actions_total",
            {"kind": "scheduler_job", "verb": "update", "result": "ok"},
        ),
        "create": (
            "gcptasks_reconcile_actions_total",
            {"kind": "subscription", "verb": "create", "result": "failed"},
        ),
        "drift": ("gcptasks_drift_detected_total", {"kind": "scheduler_job", "field": "schedule"}),
        "reads": ("gcptasks_api_calls_total", {"type": "read"}),
        "writes": ("gcptasks_api_calls_total", {"type": "write"}),
        "quota": ("gcptasks_api_errors_total", {"code": "RESOURCE_EXHAUSTED"}),
        "passes": ("gcptasks_reconcile_pass_duration_seconds_count", {}),
    }
    before = {key: _value(name, **labels) for key, (name, labels) in names.items()}

    metrics.record_pass(_report())

    after = {key: _value(name, **labels) for key, (name, labels) in names.items()}
    assert {key: after[key] - before[key] for key in names} == {
        "failed": 1,
        "update": 1,
        "create": 1,
        "drift": 1,
        "reads": 4,
        "writes": 3,
        "quota": 2,
        "passes": 1,
    }
    assert _value("gcptasks_owned_resources", kind="scheduler_job") == 1
    assert _value("gcptasks_owned_resources", kind="subscription") == 0


@pytest.fixture
def server() -> Iterator[tuple[metrics.Server, list[bool]]]:
    healthy = [True]

    def health() -> tuple[bool, dict[str, Any]]:
        return healthy[0], {"passes": 3}

    running = metrics.Server("127.0.0.1", 0, health=health).start()
    yield running, healthy
    running.stop()


def test_server_serves_metrics_and_health(server: tuple[metrics.Server, list[bool]]) -> None:
    running, healthy = server
    base = f"http://127.0.0.1:{running.port}"

    exposition = requests.get(f"{base}/metrics", timeout=5)
    ok = requests.get(f"{base}/healthz", timeout=5)
    healthy[0] = False
    stuck = requests.get(f"{base}/healthz", timeout=5)

    assert exposition.status_code == 200
    assert "# TYPE gcptasks_reconcile_passes_total counter" in exposition.text
    assert (ok.status_code, ok.json()) == (200, {"status": "ok", "passes": 3})
    assert (stuck.status_code, stuck.json()["status"]) == (503, "unhealthy")
    assert requests.get(f"{base}/other", timeout=5).status_code == 404


def test_health_only_server_does_not_serve_metrics() -> None:
    running = metrics.Server("127.0.0.1", 0, metrics=False, health=lambda: (True, {})).start()
    try:
        assert (
            requests.get(f"http://127.0.0.1:{running.port}/metrics", timeout=5).status_code == 404
        )
    finally:
        running.stop()
