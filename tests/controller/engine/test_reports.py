"""Pass reports: what counts as converged, pending, failed, and how many resources we own."""

from __future__ import annotations

import pytest

from controller.engine import reports
from controller.gcp import errors
from controller.planning import plans
from controller.registry import merging, model

JOB = plans.Kind.SCHEDULER_JOB
SUB = plans.Kind.SUBSCRIPTION


def _outcome(
    verb: plans.Verb,
    name: str = "shop--a",
    kind: plans.Kind = JOB,
    *,
    applied: bool = True,
    error: errors.ApiError | None = None,
) -> reports.Outcome:
    action = plans.Action(kind=kind, name=name, verb=verb)
    applied = applied and action.is_write
    return reports.Outcome(action, "p", "l", applied=applied, error=error)


def _report(*outcomes: reports.Outcome, refused: str = "") -> reports.PassReport:
    plan = plans.Plan(actions=tuple(o.action for o in outcomes), refused=refused)
    scope = reports.ScopeReport("p", "l", plan=plan, outcomes=outcomes)
    return reports.PassReport(scopes=(scope,))


@pytest.mark.parametrize(
    ("outcomes", "converged", "pending"),
    [
        ((), True, 0),
        ((_outcome(plans.Verb.UNCHANGED), _outcome(plans.Verb.CREATE, "b")), True, 0),
        ((_outcome(plans.Verb.CREATE, applied=False),), False, 1),  # dry run
        ((_outcome(plans.Verb.RECREATE_NEEDED, kind=SUB),), False, 1),
        ((_outcome(plans.Verb.CONFLICT),), False, 1),
        ((_outcome(plans.Verb.ORPHAN_KEPT),), True, 0),
        ((_outcome(plans.Verb.UPDATE, error=errors.Unavailable("down")),), False, 0),
    ],
)
def test_converged_and_pending(
    outcomes: tuple[reports.Outcome, ...], converged: bool, pending: int
) -> None:
    report = _report(*outcomes)

    assert report.converged is converged
    assert len(report.pending) == pending


def test_listing_failure_is_a_failure() -> None:
    error = errors.PermissionDenied("no")
    report = reports.PassReport(scopes=(reports.ScopeReport("p", "l", error=error),))

    assert report.failures == (error,) and report.failed and not report.converged
    assert report.plans == ()


@pytest.mark.parametrize(
    ("outcomes", "owned"),
    [
        (
            (
                _outcome(plans.Verb.CREATE, "a"),
                _outcome(plans.Verb.PAUSE, "a"),  # created then paused: still one job
                _outcome(plans.Verb.UNCHANGED, "b", SUB),
            ),
            {"scheduler_job": 1, "subscription": 1},
        ),
        (
            (
                _outcome(plans.Verb.CREATE, "a", error=errors.InvalidArgument("bad")),
                _outcome(plans.Verb.DELETE, "b"),
                _outcome(plans.Verb.DELETE, "c", error=errors.Unavailable("down")),
                _outcome(plans.Verb.ORPHAN_KEPT, "d"),
                _outcome(plans.Verb.CONFLICT, "e"),
            ),
            {"scheduler_job": 2, "subscription": 0},
        ),
    ],
)
def test_owned_counts_resources_after_the_pass(
    outcomes: tuple[reports.Outcome, ...], owned: dict[str, int]
) -> None:
    assert _report(*outcomes).owned() == owned


def test_counts_per_verb() -> None:
    report = _report(
        _outcome(plans.Verb.CREATE, "a"),
        _outcome(plans.Verb.CREATE, "b"),
        _outcome(plans.Verb.UNCHANGED, "c"),
    )

    assert report.counts() == {"create": 2, "unchanged": 1}


def test_outcomes_and_conflicts_for_one_registry() -> None:
    mine = plans.Action(JOB, "shop--a", plans.Verb.CREATE, owner="shop")
    orphan = plans.Action(JOB, "shop--old", plans.Verb.DELETE, owner="shop")
    theirs = plans.Action(JOB, "blog--a", plans.Verb.CREATE, owner="blog")
    outcomes = tuple(reports.Outcome(a, "p", "l", applied=True) for a in (mine, orphan, theirs))
    conflict = merging.Conflict("subscription", "x", "p", "", ("a.json", "b.json"), "twice")
    report = reports.PassReport(
        scopes=(reports.ScopeReport("p", "l", plans.Plan((mine, orphan, theirs)), outcomes),),
        conflicts=(conflict,),
    )
    registry = model.Registry(
        source="a.json",
        project="p",
        location="l",
        affix="shop",
        owner="shop",
        scheduler_jobs=(model.SchedulerJob("shop--a", "* * * * *", "https://x"),),
    )

    assert [o.action.name for o in report.outcomes_for(registry)] == ["shop--a", "shop--old"]
    assert report.conflicts_for("a.json") == (conflict,)
    assert report.conflicts_for("c.json") == ()
