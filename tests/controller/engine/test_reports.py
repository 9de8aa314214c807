"""Pass reports: what counts as converged, pending, failed, owned, and each source's result."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from controller.engine import reports, scopes
from controller.gcp import errors
from controller.planning import plans
from controller.registry import merging, model

JOB = plans.Kind.SCHEDULER_JOB
SUB = plans.Kind.SUBSCRIPTION
JOBS = scopes.Scope(JOB, "p", "l")
SUBSCRIPTIONS = scopes.Scope(SUB, "p", "")
DENIED = errors.PermissionDenied("no")


def _outcome(
    verb: plans.Verb,
    name: str = "shop--a",
    kind: plans.Kind = JOB,
    *,
    applied: bool = True,
    error: errors.ApiError | None = None,
    owner: str = "shop",
    reason: str = "",
) -> reports.Outcome:
    job = model.SchedulerJob(name, "* * * * *", "https://x")
    sub = model.Subscription(name, "t", "https://x")
    orphan = verb in (plans.Verb.DELETE, plans.Verb.ORPHAN_KEPT)
    desired = None if orphan else job if kind is JOB else sub
    action = plans.Action(kind, name, verb, desired=desired, owner=owner, reason=reason)
    return reports.Outcome(action, applied=applied and action.is_write, error=error)


def _scope(
    *outcomes: reports.Outcome, scope: scopes.Scope = JOBS, refused: str = ""
) -> reports.ScopeReport:
    plan = plans.Plan(actions=tuple(o.action for o in outcomes), refused=refused)
    return reports.ScopeReport(scope, plan=plan, outcomes=outcomes)


def _report(*outcomes: reports.Outcome, refused: str = "") -> reports.PassReport:
    registry = _registry(*(o.action.name for o in outcomes if o.action.desired is not None))
    scope_reports = (_scope(*outcomes, refused=refused),)
    return reports.PassReport(
        scopes=scope_reports, results=reports.results([registry], scope_reports, (), [JOB])
    )


def _registry(*jobs: str, subs: tuple[str, ...] = (), source: str = "a.json") -> model.Registry:
    return model.Registry(
        source=source,
        project="p",
        location="l",
        affix="shop",
        owner="shop",
        scheduler_jobs=tuple(model.SchedulerJob(n, "* * * * *", "https://x") for n in jobs),
        subscriptions=tuple(model.Subscription(n, "t", "https://x") for n in subs),
    )


@pytest.mark.parametrize(
    ("outcomes", "converged", "pending"),
    [
        ((), True, 0),
        ((_outcome(plans.Verb.UNCHANGED), _outcome(plans.Verb.CREATE, "b")), True, 0),
        ((_outcome(plans.Verb.CREATE, applied=False),), False, 1),  # dry run
        ((_outcome(plans.Verb.RECREATE_NEEDED, kind=SUB),), False, 1),
        ((_outcome(plans.Verb.CONFLICT),), False, 1),
        ((_outcome(plans.Verb.ORPHAN_KEPT, "old"),), True, 0),
        ((_outcome(plans.Verb.UPDATE, error=errors.Unavailable("down")),), False, 0),
    ],
)
def test_converged_and_pending(
    outcomes: tuple[reports.Outcome, ...], converged: bool, pending: int
) -> None:
    report = _report(*outcomes)

    assert report.converged is converged
    assert report.for_source("a.json").converged is converged  # type: ignore[union-attr]
    assert len(report.pending) == pending


def test_listing_failure_is_a_failure_of_every_source_in_the_scope() -> None:
    registry = _registry("shop--a")
    failed = (reports.ScopeReport(JOBS, error=DENIED),)
    report = reports.PassReport(
        scopes=failed, results=reports.results([registry], failed, (), [JOB])
    )

    assert report.failures == (DENIED,) and report.failed and not report.converged
    result = report.for_source("a.json")
    assert result is not None
    assert [(p.cause, p.api_failure) for p in result.problems] == [
        (reports.Cause.LIST_FAILED, True)
    ]
    assert result.problems[0].message == "listing failed: no"


@pytest.mark.parametrize(
    ("outcomes", "owned"),
    [
        (
            (
                _outcome(plans.Verb.CREATE, "a"),
                _outcome(plans.Verb.PAUSE, "a"),  # created then paused: still one job
                _outcome(plans.Verb.UNCHANGED, "b"),
            ),
            {"scheduler_job": 2, "subscription": 0},
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


def test_a_source_gets_its_resources_and_its_owners_orphans_only() -> None:
    mine = _outcome(plans.Verb.CREATE, "shop--a")
    orphan = _outcome(plans.Verb.DELETE, "shop--old")
    theirs = _outcome(plans.Verb.CREATE, "blog--a", owner="blog")
    their_orphan = _outcome(plans.Verb.DELETE, "blog--old", owner="blog")
    sub = _outcome(plans.Verb.UNCHANGED, "shop--t--s", SUB)
    done = (
        _scope(mine, orphan, theirs, their_orphan),
        _scope(sub, scope=SUBSCRIPTIONS),
    )
    found = reports.results([_registry("shop--a", subs=("shop--t--s",))], done, (), [JOB, SUB])

    assert [o.action.name for o in found["a.json"].outcomes] == [
        "shop--a",
        "shop--old",
        "shop--t--s",
    ]
    assert found["a.json"].written == (mine, orphan)


def test_problems_come_most_serious_first_each_once() -> None:
    conflict = merging.Conflict("scheduler_job", "shop--x", "p", "l", ("a.json", "b"), "twice")
    failed = _outcome(plans.Verb.UPDATE, "shop--a", error=DENIED)
    blocked = _outcome(plans.Verb.RECREATE_NEEDED, "shop--t--s", SUB, reason="immutable filter")
    taken = _outcome(plans.Verb.CONFLICT, "shop--b", reason="not ours")
    done = (
        _scope(failed, taken, taken),
        _scope(blocked, scope=SUBSCRIPTIONS, refused="too many deletions"),
    )
    registry = _registry("shop--a", "shop--b", "shop--x", subs=("shop--t--s",))

    result = reports.results([registry], done, (conflict,), [JOB, SUB])["a.json"]

    assert [(p.cause, p.message) for p in result.problems] == [
        (reports.Cause.CONFLICT, "twice"),
        (reports.Cause.CONFLICT, "not ours"),
        (reports.Cause.WRITE_FAILED, "update shop--a failed: no"),
        (reports.Cause.REFUSED, "too many deletions"),
        (reports.Cause.RECREATE_NEEDED, "immutable filter"),
    ]


def test_kinds_not_reconciled_and_sources_not_in_the_pass_have_no_result() -> None:
    registry = _registry("shop--a", subs=("shop--t--s",))
    done = (_scope(_outcome(plans.Verb.UNCHANGED, "shop--a")),)
    report = reports.PassReport(scopes=done, results=reports.results([registry], done, (), [JOB]))

    result = report.for_source("a.json")
    assert result is not None and result.converged
    assert [o.action.kind for o in result.outcomes] == [JOB]
    assert report.for_source("elsewhere.json") is None


def test_results_of_a_large_scope_take_linear_time() -> None:
    """10,000 outcomes against a registry of 10,000: each outcome is matched by name in a set
    (a scan of the registry per outcome took seconds here, and minutes at 20,000)."""
    names = [f"shop--j{index:05d}" for index in range(10_000)]
    outcomes = tuple(_outcome(plans.Verb.UNCHANGED, name) for name in names)
    scope_reports = (_scope(*outcomes),)
    registry = _registry(*names)

    started = time.process_time()
    found = reports.results([registry], scope_reports, (), [JOB])
    elapsed = time.process_time() - started

    assert len(found["a.json"].outcomes) == 10_000
    assert elapsed < 1.0, f"{elapsed:.2f} s of CPU"


class _CountedOutcomes(tuple[reports.Outcome, ...]):
    """A scope's outcomes that count how often they are read through."""

    reads = 0

    def __iter__(self) -> Iterator[reports.Outcome]:
        type(self).reads += 1
        return super().__iter__()


def test_a_scopes_outcomes_are_read_once_however_many_registries_share_it() -> None:
    """The operator passes one registry per custom resource: thousands share a scope, and
    scanning its outcomes once per registry took 3.6 s at 8,000."""
    names = [f"shop--j{index:03d}" for index in range(200)]
    unchanged = [_outcome(plans.Verb.UNCHANGED, name) for name in names]
    outcomes = _CountedOutcomes([*unchanged, _outcome(plans.Verb.DELETE, "shop--old")])
    scope_reports = (reports.ScopeReport(JOBS, plan=plans.Plan(), outcomes=outcomes),)
    registries = [_registry(name, source=f"{name}.json") for name in names]

    found = reports.results(registries, scope_reports, (), [JOB])

    assert _CountedOutcomes.reads == 1
    assert [o.action.name for o in found["shop--j007.json"].outcomes] == ["shop--j007", "shop--old"]
    assert all(len(result.outcomes) == 2 for result in found.values())
