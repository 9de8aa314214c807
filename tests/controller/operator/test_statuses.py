"""What a pass means for a custom resource's status: a table of pass outcomes to conditions."""

from __future__ import annotations

import datetime

import pytest

from controller.engine import reports, scopes
from controller.gcp import errors
from controller.operator import declarations, statuses
from controller.planning import plans
from controller.registry import custom_resources, merging

DEFAULTS = custom_resources.Defaults(project="shop-prod", location="europe-west1")
JOB = "shop--nightly"
EARLIER = datetime.datetime(2025, 1, 15, 12, 0, tzinfo=datetime.UTC)
NOW = datetime.datetime(2025, 1, 15, 12, 5, 30, tzinfo=datetime.UTC)


def declared(**spec: object) -> declarations.Declared:
    body = {
        "apiVersion": "gcptasks.dev/v1",
        "kind": "PeriodicTask",
        "metadata": {"name": "nightly", "namespace": "shop", "generation": 4},
        "spec": {"schedule": "0 3 * * *", "httpTarget": {"uri": "https://shop.example/n/"}, **spec},
    }
    return declarations.from_custom_resource(body, DEFAULTS)


def report(
    *outcomes: reports.Outcome,
    refused: str = "",
    error: errors.ApiError | None = None,
    conflicts: tuple[merging.Conflict, ...] = (),
    location: str = "europe-west1",
) -> reports.SourceResult | None:
    """The engine's result for `declared()` after a pass with these outcomes."""
    item = declared()
    assert item.registry is not None
    plan = None if error else plans.Plan(tuple(o.action for o in outcomes), refused=refused)
    scope = scopes.Scope(plans.Kind.SCHEDULER_JOB, "shop-prod", location)
    done = (reports.ScopeReport(scope, plan, tuple(outcomes), error),)
    return reports.results([item.registry], done, conflicts, plans.Kind).get(item.source)


def outcome(
    verb: plans.Verb,
    *,
    name: str = JOB,
    applied: bool = True,
    error: errors.ApiError | None = None,
    drift: tuple[plans.Drift, ...] = (),
    reason: str = "",
) -> reports.Outcome:
    action = plans.Action(plans.Kind.SCHEDULER_JOB, name, verb, drift=drift, reason=reason)
    return reports.Outcome(action, applied=applied, error=error)


DENIED = errors.PermissionDenied("caller lacks cloudscheduler.jobs.update", operation="update")
CLAIMED = merging.Conflict(
    "scheduler_job", JOB, "shop-prod", "europe-west1", ("periodictask/shop/nightly", "x"), "both"
)


@pytest.mark.parametrize(
    ("item", "result", "ready", "reason", "synced"),
    [
        (declared(), report(outcome(plans.Verb.CREATE)), "True", "Created", "True"),
        (
            declared(),
            report(outcome(plans.Verb.UPDATE, drift=(plans.Drift("schedule", "a", "b"),))),
            "True",
            "Updated",
            "True",
        ),
        (declared(), report(outcome(plans.Verb.PAUSE)), "True", "Updated", "True"),
        (
            declared(),
            report(outcome(plans.Verb.UNCHANGED, applied=False)),
            "True",
            "UpToDate",
            "True",
        ),
        (
            declared(),
            report(outcome(plans.Verb.UPDATE, error=DENIED)),
            "False",
            "ApiError",
            "False",
        ),
        (declared(), report(error=DENIED), "False", "ApiError", "False"),
        (
            declared(),
            report(outcome(plans.Verb.CREATE, applied=False), refused="too many"),
            "False",
            "PlanRefused",
            "True",
        ),
        (
            declared(),
            report(outcome(plans.Verb.CONFLICT, applied=False, reason="not ours")),
            "False",
            "Conflict",
            "True",
        ),
        (declared(), report(conflicts=(CLAIMED,)), "False", "Conflict", "True"),
        (
            declared(),
            report(outcome(plans.Verb.UNCHANGED, name="shop--other")),
            "Unknown",
            "Pending",
            "Unknown",
        ),
        (
            declared(),
            report(outcome(plans.Verb.UNCHANGED), location="us-east1"),
            "Unknown",
            "Pending",
            "Unknown",
        ),
        (declared(), None, "Unknown", "Pending", "Unknown"),
        (
            declared(schedule="every day"),
            report(outcome(plans.Verb.UNCHANGED)),
            "False",
            "InvalidSpec",
            "False",
        ),
    ],
)
def test_verdicts(item, result, ready, reason, synced):
    verdict = statuses.verdict(item, result)
    assert (verdict.ready, verdict.reason, verdict.synced) == (ready, reason, synced)
    assert verdict.message


def test_an_update_names_the_fields_it_corrected():
    drift = (plans.Drift("schedule", "a", "b"), plans.Drift("time_zone", "UTC", "CET"))
    verdict = statuses.verdict(declared(), report(outcome(plans.Verb.UPDATE, drift=drift)))
    assert verdict.message == (
        "updated projects/shop-prod/locations/europe-west1/jobs/shop--nightly (schedule, time_zone)"
    )


def test_invalid_spec_messages_list_every_problem_with_its_path():
    verdict = statuses.verdict(declared(schedule="every day", timeZone="Nowhere"), None)
    assert "$.spec.schedule:" in verdict.message and "$.spec.timeZone:" in verdict.message


def ready_before(status: str) -> list[dict[str, object]]:
    return [
        {
            "type": "Ready",
            "status": status,
            "reason": "X",
            "message": "m",
            "lastTransitionTime": "2025-01-01T00:00:00Z",
        },
        {
            "type": "Synced",
            "status": "True",
            "reason": "Synced",
            "message": "m",
            "lastTransitionTime": "2025-01-01T00:00:00Z",
        },
    ]


@pytest.mark.parametrize(
    ("previous", "ready_moved", "synced_moved"),
    [
        ([], True, True),
        (ready_before("True"), False, False),
        (ready_before("False"), True, False),
    ],
)
def test_transition_times_move_only_when_a_status_changes(previous, ready_moved, synced_moved):
    verdict = statuses.verdict(declared(), report(outcome(plans.Verb.UNCHANGED)))
    ready, synced = statuses.conditions(previous, verdict, 4, NOW)
    assert (ready["lastTransitionTime"] == "2025-01-15T12:05:30Z") is ready_moved
    assert (synced["lastTransitionTime"] == "2025-01-15T12:05:30Z") is synced_moved
    assert ready["observedGeneration"] == synced["observedGeneration"] == 4
    assert (ready["type"], synced["type"]) == ("Ready", "Synced")


def test_the_status_patch_carries_names_generation_and_sync_time():
    status = statuses.status(declared(), None, report(outcome(plans.Verb.CREATE)), NOW)
    assert status["observedGeneration"] == 4
    assert status["cloudResourceName"] == (
        "projects/shop-prod/locations/europe-west1/jobs/shop--nightly"
    )
    assert status["lastSyncTime"] == "2025-01-15T12:05:30Z"


def test_a_failed_sync_keeps_the_last_sync_time_and_an_invalid_spec_the_last_name():
    previous = {"cloudResourceName": "projects/p/locations/l/jobs/old", "lastSyncTime": "then"}
    failed = statuses.status(declared(), previous, report(error=DENIED), NOW)
    assert "lastSyncTime" not in failed  # a merge patch: the previous value stays
    invalid = statuses.status(declared(schedule="never"), previous, None, NOW)
    assert invalid["cloudResourceName"] == "projects/p/locations/l/jobs/old"
    assert statuses.timestamp(EARLIER) == "2025-01-15T12:00:00Z"
