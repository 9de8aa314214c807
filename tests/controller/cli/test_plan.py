"""`gcp-tasks-controller plan`: the plan for humans on stdout, nothing written."""

from __future__ import annotations

import dataclasses
import pathlib

import pytest
from google.cloud import scheduler_v1
from google.protobuf import field_mask_pb2

from controller.cli import exits, main, plan
from controller.engine import reports, scopes
from controller.gcp import errors
from controller.planning import plans
from emulators import running
from tests.controller import resources

from .conftest import WriteRegistry


def test_plan_prints_one_line_per_action_and_writes_nothing(
    emulators: running.Service,
    project: str,
    write_registry: WriteRegistry,
    scheduler_api: scheduler_v1.CloudSchedulerClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    registry = resources.registry(
        project, jobs=(resources.job("cleanup"), resources.job("report")), subs=()
    )
    path = write_registry(registry)
    assert main.main(["reconcile", "--registry", str(path)]) == 0
    name = f"projects/{project}/locations/{resources.LOCATION}/jobs/shop--cleanup"
    scheduler_api.update_job(
        job=scheduler_v1.Job(name=name, schedule="*/5 * * * *", time_zone="UTC"),
        update_mask=field_mask_pb2.FieldMask(paths=["schedule", "time_zone"]),
    )
    grown = resources.registry(
        project, jobs=(*registry.scheduler_jobs, resources.job("extra")), subs=()
    )
    path = write_registry(grown)
    emulators.requests.clear()
    capsys.readouterr()

    code = main.main(["plan", "--registry", str(path)])

    assert code == exits.CONVERGED
    assert emulators.requests.writes() == []
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"projects/{project}/locations/{resources.LOCATION}:",
        "  ~ update          scheduler_job shop--cleanup  (schedule, time_zone)",
        "  + create          scheduler_job shop--extra",
        "Plan: 1 to create, 1 to update, 0 to pause, 0 to resume, 0 to delete, 0 to recreate, "
        "1 unchanged.",
    ]


def test_plan_of_invalid_input_exits_2(emulators: running.Service, tmp_path: pathlib.Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[]")

    assert main.main(["plan", "--registry", str(bad)]) == exits.INVALID
    assert emulators.requests.count() == 0


JOBS = scopes.Scope(plans.Kind.SCHEDULER_JOB, "p", "l")
SUBSCRIPTIONS = scopes.Scope(plans.Kind.SUBSCRIPTION, "p", "")


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (
            reports.ScopeReport(JOBS, error=errors.PermissionDenied("denied")),
            [
                "projects/p/locations/l:",
                "  cannot list the actual state: PERMISSION_DENIED: denied",
            ],
        ),
        (
            reports.ScopeReport(
                JOBS,
                plan=plans.Plan(
                    actions=(
                        plans.Action(plans.Kind.SCHEDULER_JOB, "a", plans.Verb.DELETE, reason="x"),
                        plans.Action(plans.Kind.SCHEDULER_JOB, "b", plans.Verb.UNCHANGED),
                    ),
                    refused="too many deletions",
                ),
            ),
            [
                "projects/p/locations/l:",
                "  REFUSED, nothing would be applied: too many deletions",
                "  - delete          scheduler_job a",
            ],
        ),
        (
            reports.ScopeReport(
                SUBSCRIPTIONS,
                plan=plans.Plan(
                    actions=(
                        plans.Action(
                            plans.Kind.SUBSCRIPTION,
                            "s",
                            plans.Verb.RECREATE_NEEDED,
                            drift=(plans.Drift("filter", "a", "b"),),
                            reason="immutable",
                        ),
                    ),
                ),
            ),
            [
                "projects/p:",
                "  ! recreate_needed subscription  s  (filter)  # immutable",
            ],
        ),
        (
            reports.ScopeReport(
                SUBSCRIPTIONS,
                plan=plans.Plan(
                    actions=(plans.Action(plans.Kind.SUBSCRIPTION, "s", plans.Verb.UNCHANGED),)
                ),
            ),
            [],
        ),
    ],
    ids=["list-failed", "refused", "subscriptions-are-project-wide", "nothing-to-show"],
)
def test_render(scope: reports.ScopeReport, expected: list[str]) -> None:
    outcomes = tuple(
        reports.Outcome(action) for action in (scope.plan.actions if scope.plan else ())
    )
    scope = dataclasses.replace(scope, outcomes=outcomes)

    lines = plan.render(reports.PassReport(scopes=(scope,))).splitlines()

    assert lines[:-1] == expected
    assert lines[-1].startswith("Plan: ")
