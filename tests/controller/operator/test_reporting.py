"""Events from a pass: drift every time it is found, standing problems once, on the right object."""

from __future__ import annotations

from typing import Any

from controller.engine import reports, scopes
from controller.gcp import errors
from controller.operator import declarations, reporting
from controller.planning import plans
from controller.registry import custom_resources, model

DEFAULTS = custom_resources.Defaults(project="shop-prod", location="europe-west1")
JOB = "shop--nightly"


def declared(schedule: str = "0 3 * * *") -> declarations.Declared:
    body = {
        "apiVersion": "gcptasks.dev/v1",
        "kind": "PeriodicTask",
        "metadata": {"name": "nightly", "namespace": "shop", "uid": "u-1"},
        "spec": {"schedule": schedule, "httpTarget": {"uri": "https://shop.example/n/"}},
    }
    return declarations.from_custom_resource(body, DEFAULTS)


def passed(
    verb: plans.Verb, *, actual: bool = True, orphan: bool = False, **kwargs: Any
) -> reports.PassReport:
    job = model.SchedulerJob(JOB, "0 3 * * *", "https://shop.example/n/")
    registry = declared().registry
    assert registry is not None
    action = plans.Action(
        plans.Kind.SCHEDULER_JOB,
        "shop--gone" if orphan else JOB,
        verb,
        desired=None if orphan else job,
        actual=job if actual else None,
        drift=kwargs.pop("drift", ()),
        reason=kwargs.pop("reason", ""),
        owner=registry.owner,
    )
    outcome = reports.Outcome(action, **kwargs)
    scope = scopes.Scope(plans.Kind.SCHEDULER_JOB, "shop-prod", "europe-west1")
    done = (reports.ScopeReport(scope, plans.Plan((action,)), (outcome,)),)
    return reports.PassReport(
        scopes=done, results=reports.results([registry], done, (), plans.Kind)
    )


class Recorder:
    def __init__(self) -> None:
        self.posted: list[tuple[str, str, str, str]] = []

    def __call__(self, ref: Any, *, type: str, reason: str, message: str) -> None:
        self.posted.append((ref["metadata"]["name"], type, reason, message))

    def reasons(self) -> list[str]:
        return [reason for _, _, reason, _ in self.posted]


DRIFT = (plans.Drift("schedule", "0 3 * * *", "*/5 * * * *"),)


def test_creation_of_a_new_object_is_normal_and_recreation_of_a_known_one_is_drift():
    recorder = Recorder()
    reporter = reporting.Reporter(recorder)
    reporter.post([declared()], passed(plans.Verb.CREATE, actual=False, applied=True))
    reporter.post([declared()], passed(plans.Verb.CREATE, actual=False, applied=True))
    assert recorder.posted[0][1:3] == ("Normal", "Created")
    assert recorder.posted[1][1:3] == ("Warning", "DriftDetected")
    assert "was missing; created it again" in recorder.posted[1][3]


def test_an_update_is_drift_when_the_spec_did_not_change_and_an_update_when_it_did():
    recorder = Recorder()
    reporter = reporting.Reporter(recorder)
    reporter.post([declared()], passed(plans.Verb.UNCHANGED))
    reporter.post([declared()], passed(plans.Verb.UPDATE, drift=DRIFT, applied=True))
    reporter.post([declared("0 4 * * *")], passed(plans.Verb.UPDATE, drift=DRIFT, applied=True))
    assert recorder.reasons() == ["DriftDetected", "Updated"]
    assert recorder.posted[0][0] == "nightly"
    assert "schedule was '*/5 * * * *', wanted '0 3 * * *'; corrected" in recorder.posted[0][3]


def test_standing_problems_are_posted_once_until_they_clear():
    recorder = Recorder()
    reporter = reporting.Reporter(recorder)
    failure = errors.PermissionDenied("denied", operation="update")
    failing = passed(plans.Verb.UPDATE, drift=DRIFT, applied=True, error=failure)
    for _ in range(3):
        reporter.post([declared()], failing)
    reporter.post([declared()], passed(plans.Verb.UNCHANGED))
    reporter.post([declared()], failing)
    assert recorder.reasons() == ["SyncFailed", "SyncFailed"]


def test_recreate_needed_and_refused_plans_are_warnings():
    recorder = Recorder()
    reporter = reporting.Reporter(recorder)
    reporter.post([declared()], passed(plans.Verb.RECREATE_NEEDED, reason="filter changed"))
    assert recorder.posted == [("nightly", "Warning", "RecreateNeeded", "filter changed")]


def test_objects_that_are_invalid_or_being_deleted_get_nothing():
    recorder = Recorder()
    reporter = reporting.Reporter(recorder)
    invalid = declared("never")
    reporter.post([invalid], passed(plans.Verb.CREATE, actual=False, applied=True))
    assert recorder.posted == []


def test_orphans_of_an_object_are_not_its_spec_at_work():
    recorder = Recorder()
    reporter = reporting.Reporter(recorder)
    paused = (plans.Drift("paused", True, False),)
    reporter.post([declared()], passed(plans.Verb.UNCHANGED))
    reporter.post([declared()], passed(plans.Verb.PAUSE, orphan=True, drift=paused, applied=True))
    reporter.post([declared()], passed(plans.Verb.DELETE, orphan=True, applied=True))
    assert recorder.posted == []
