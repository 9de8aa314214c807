"""Planning, table-driven: desired registries + observed resources + policy -> verbs and fields."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pytest

from controller.planning import planner, plans, policies
from controller.registry import merging, model

Resource = model.SchedulerJob | model.Subscription
Observed = model.ObservedJob | model.ObservedSubscription
Expected = tuple[str, str, str, tuple[str, ...]]  # kind, name, verb, drift fields


def job(slug: str, affix: str = "shop", **changes: Any) -> model.SchedulerJob:
    fields = {"schedule": "0 3 * * *", "uri": f"https://{affix}.example/gcp-tasks/{slug}"}
    return model.SchedulerJob(name=f"{affix}--{slug}", **(fields | changes))


def sub(slug: str, affix: str = "shop", **changes: Any) -> model.Subscription:
    fields = {
        "topic": "orders",
        "push_endpoint": f"https://{affix}.example/gcp-subscriber-tasks/{slug}",
    }
    return model.Subscription(name=f"{affix}--orders--{slug}", **(fields | changes))


def reg(
    *resources: Resource, owner: str = "shop", affix: str = "shop", source: str = ""
) -> model.Registry:
    return model.Registry(
        source=source or f"file:{owner}.json",
        project="shop-prod",
        location="europe-west1",
        affix=affix,
        owner=owner,
        scheduler_jobs=tuple(r for r in resources if isinstance(r, model.SchedulerJob)),
        subscriptions=tuple(r for r in resources if isinstance(r, model.Subscription)),
    )


def seen(resource: Resource, owner: str | None = "shop", push: bool = True) -> Observed:
    if isinstance(resource, model.SchedulerJob):
        return model.ObservedJob(resource, owner)
    return model.ObservedSubscription(resource, owner, push)


def changed(resource: Any, **changes: Any) -> Any:
    return dataclasses.replace(resource, **changes)


def run(
    desired: Sequence[model.Registry],
    observed: Sequence[Observed],
    policy: policies.Policy = planner.DEFAULT_POLICY,
    conflicts: Sequence[merging.Conflict] = (),
) -> plans.Plan:
    return planner.plan(
        desired,
        [o for o in observed if isinstance(o, model.ObservedJob)],
        [o for o in observed if isinstance(o, model.ObservedSubscription)],
        policy,
        conflicts=conflicts,
    )


def summary(plan: plans.Plan) -> list[Expected]:
    short = {plans.Kind.SCHEDULER_JOB: "job", plans.Kind.SUBSCRIPTION: "sub"}
    return [
        (short[a.kind], a.name, a.verb.value, tuple(d.field for d in a.drift)) for a in plan.actions
    ]


A, B, C = job("a"), job("b"), job("c")
S = sub("created", labels={"team": "checkout"})
RECREATE = policies.Policy(allow_recreate=True)
PAUSE_ORPHANS = policies.Policy(orphans=policies.OrphanPolicy.PAUSE)
KEEP_ORPHANS = policies.Policy(orphans=policies.OrphanPolicy.KEEP)
MASS = policies.Policy(allow_mass_deletion=True)

CASES: list[Any] = [
    # --- desired vs observed, one resource at a time
    ("create-job", [reg(A)], [], None, [("job", "shop--a", "create", ())]),
    ("create-subscription", [reg(S)], [], None, [("sub", S.name, "create", ())]),
    (
        "create-paused-job-then-pause",
        [reg(job("a", paused=True))],
        [],
        None,
        [("job", "shop--a", "create", ()), ("job", "shop--a", "pause", ("paused",))],
    ),
    ("unchanged-job", [reg(A)], [seen(A)], None, [("job", "shop--a", "unchanged", ())]),
    ("unchanged-subscription", [reg(S)], [seen(S)], None, [("sub", S.name, "unchanged", ())]),
    *[
        (
            f"update-job-{field}",
            [reg(A)],
            [seen(changed(A, **{attr: value}))],
            None,
            [("job", "shop--a", "update", (field,))],
        )
        for field, attr, value in [
            ("schedule", "schedule", "*/5 * * * *"),
            ("time_zone", "time_zone", "Asia/Tokyo"),
            ("description", "description", "edited"),
            ("http_target.uri", "uri", "https://old.example/x"),
            ("http_target.http_method", "http_method", "GET"),
            ("http_target.body", "body", "{}"),
            ("http_target.headers", "headers", {"X-Old": "1"}),
            (
                "http_target.oidc_token",
                "oidc_token",
                model.OidcToken("sa@p.iam.gserviceaccount.com"),
            ),
            ("retry_config", "retry", model.SchedulerRetry(retry_count=5)),
            ("attempt_deadline", "attempt_deadline", 30.0),
        ]
    ],
    *[
        (
            f"update-subscription-{field}",
            [reg(S)],
            [seen(changed(S, **{attr: value}))],
            None,
            [("sub", S.name, "update", (field,))],
        )
        for field, attr, value in [
            ("push_config", "push_endpoint", "https://old.example/x"),
            ("ack_deadline_seconds", "ack_deadline_seconds", 30),
            ("dead_letter_policy", "dead_letter_topic", "dead"),
            ("retry_policy", "retry", model.PushRetry()),
            ("message_retention_duration", "message_retention_duration", 86400.0),
            ("labels", "labels", {"team": "x"}),
        ]
    ],
    (
        "update-names-exactly-the-differing-fields",
        [reg(A)],
        [seen(changed(A, schedule="1 1 * * *", uri="https://old.example/a", body="x"))],
        None,
        [("job", "shop--a", "update", ("schedule", "http_target.uri", "http_target.body"))],
    ),
    (
        "pause",
        [reg(job("a", paused=True))],
        [seen(A)],
        None,
        [("job", "shop--a", "pause", ("paused",))],
    ),
    (
        "resume",
        [reg(A)],
        [seen(job("a", paused=True))],
        None,
        [("job", "shop--a", "resume", ("paused",))],
    ),
    (
        "update-then-pause",
        [reg(job("a", paused=True))],
        [seen(job("a", schedule="1 1 * * *"))],
        None,
        [("job", "shop--a", "update", ("schedule",)), ("job", "shop--a", "pause", ("paused",))],
    ),
    (
        "update-then-resume",
        [reg(A)],
        [seen(job("a", paused=True, description="x"))],
        None,
        [("job", "shop--a", "update", ("description",)), ("job", "shop--a", "resume", ("paused",))],
    ),
    # --- immutable fields
    *[
        (
            f"immutable-{field}-{verb}",
            [reg(S)],
            [seen(changed(S, **{field: value}))],
            policy,
            [("sub", S.name, verb, (field,))],
        )
        for field, value in [
            ("filter", 'attributes.x = "1"'),
            ("enable_message_ordering", True),
            ("topic", "payments"),
        ]
        for verb, policy in [("recreate_needed", None), ("recreate", RECREATE)]
    ],
    (
        "immutable-and-mutable-drift-together",
        [reg(S)],
        [seen(changed(S, filter="x", ack_deadline_seconds=30))],
        None,
        [("sub", S.name, "recreate_needed", ("ack_deadline_seconds", "filter"))],
    ),
    # --- ownership
    (
        "desired-name-taken-no-marker",
        [reg(A)],
        [seen(A, owner=None)],
        None,
        [("job", "shop--a", "conflict", ())],
    ),
    (
        "desired-name-taken-other-owner",
        [reg(A)],
        [seen(A, owner="billing")],
        None,
        [("job", "shop--a", "conflict", ())],
    ),
    (
        "desired-name-is-a-pull-subscription",
        [reg(S)],
        [seen(S, push=False)],
        None,
        [("sub", S.name, "conflict", ())],
    ),
    (
        "not-ours-no-marker",
        [reg(A)],
        [seen(A), seen(B, owner=None), seen(sub("x"), owner=None)],
        None,
        [("job", "shop--a", "unchanged", ())],
    ),
    (
        "not-ours-other-owner",
        [reg(A)],
        [seen(A), seen(B, owner="billing"), seen(sub("x"), owner="billing")],
        None,
        [("job", "shop--a", "unchanged", ())],
    ),
    (
        "not-ours-wrong-affix",
        [reg(A)],
        [seen(A), seen(job("b", affix="other")), seen(sub("x", affix="other"))],
        None,
        [("job", "shop--a", "unchanged", ())],
    ),
    (
        "not-ours-pull-subscription-with-our-labels",
        [reg(A)],
        [seen(A), seen(S, push=False)],
        None,
        [("job", "shop--a", "unchanged", ())],
    ),
    (
        "two-owners-one-pass",
        [reg(A), reg(job("a", affix="bill"), owner="billing", affix="bill")],
        [
            seen(A),
            seen(job("a", affix="bill"), owner="billing"),
            seen(job("z", affix="bill"), owner="shop"),
        ],
        None,
        [("job", "bill--a", "unchanged", ()), ("job", "shop--a", "unchanged", ())],
    ),
    (
        "desired-by-one-owner-owned-by-another-in-the-pass",
        [reg(A, B), reg(job("x", affix="bill"), owner="billing", affix="bill")],
        [seen(A), seen(B, owner="billing"), seen(job("x", affix="bill"), owner="billing")],
        None,
        [
            ("job", "bill--x", "unchanged", ()),
            ("job", "shop--a", "unchanged", ()),
            ("job", "shop--b", "conflict", ()),
        ],
    ),
    # --- orphans
    (
        "orphan-delete",
        [reg(A, B)],
        [seen(A), seen(B), seen(C)],
        None,
        [
            ("job", "shop--a", "unchanged", ()),
            ("job", "shop--b", "unchanged", ()),
            ("job", "shop--c", "delete", ()),
        ],
    ),
    (
        "orphan-subscription-delete",
        [reg(A, B, sub("kept"))],
        [seen(A), seen(B), seen(S), seen(sub("kept"))],
        None,
        [
            ("job", "shop--a", "unchanged", ()),
            ("job", "shop--b", "unchanged", ()),
            ("sub", S.name, "delete", ()),
            ("sub", "shop--orders--kept", "unchanged", ()),
        ],
    ),
    (
        "orphan-pause-job",
        [reg(A)],
        [seen(A), seen(B)],
        PAUSE_ORPHANS,
        [("job", "shop--a", "unchanged", ()), ("job", "shop--b", "pause", ("paused",))],
    ),
    (
        "orphan-pause-already-paused",
        [reg(A)],
        [seen(A), seen(job("b", paused=True))],
        PAUSE_ORPHANS,
        [("job", "shop--a", "unchanged", ()), ("job", "shop--b", "orphan_kept", ())],
    ),
    (
        "orphan-pause-subscription-kept",
        [reg(A)],
        [seen(A), seen(S)],
        PAUSE_ORPHANS,
        [("job", "shop--a", "unchanged", ()), ("sub", S.name, "orphan_kept", ())],
    ),
    (
        "orphan-keep",
        [reg(A)],
        [seen(A), seen(B), seen(S)],
        KEEP_ORPHANS,
        [
            ("job", "shop--a", "unchanged", ()),
            ("job", "shop--b", "orphan_kept", ()),
            ("sub", S.name, "orphan_kept", ()),
        ],
    ),
    # --- empty desired states never delete
    ("nothing-desired-nothing-ours", [], [seen(A), seen(S)], None, []),
    (
        "empty-registry-keeps-everything",
        [reg()],
        [seen(A), seen(S)],
        None,
        [("job", "shop--a", "orphan_kept", ()), ("sub", S.name, "orphan_kept", ())],
    ),
    (
        "empty-registry-does-not-pause-either",
        [reg()],
        [seen(A)],
        PAUSE_ORPHANS,
        [("job", "shop--a", "orphan_kept", ())],
    ),
    (
        "empty-registry-with-mass-deletion",
        [reg()],
        [seen(A), seen(S)],
        MASS,
        [("job", "shop--a", "delete", ()), ("sub", S.name, "delete", ())],
    ),
    (
        "empty-registry-of-one-owner-only",
        [reg(), reg(job("a", affix="bill"), owner="billing", affix="bill")],
        [
            seen(A),
            seen(job("a", affix="bill"), owner="billing"),
            seen(job("old", affix="bill"), owner="billing"),
            seen(job("b", affix="bill"), owner="billing"),
        ],
        policies.Policy(max_deletion_ratio=1.0),
        [
            ("job", "bill--a", "unchanged", ()),
            ("job", "bill--b", "delete", ()),
            ("job", "bill--old", "delete", ()),
            ("job", "shop--a", "orphan_kept", ()),
        ],
    ),
    # --- ordering: jobs before subscriptions, then by name
    (
        "deterministic-order",
        [reg(C, S, A, B)],
        [],
        None,
        [
            ("job", "shop--a", "create", ()),
            ("job", "shop--b", "create", ()),
            ("job", "shop--c", "create", ()),
            ("sub", S.name, "create", ()),
        ],
    ),
]


@pytest.mark.parametrize(
    ("desired", "observed", "policy", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_plan(
    desired: list[model.Registry],
    observed: list[Observed],
    policy: policies.Policy | None,
    expected: list[Expected],
) -> None:
    plan = run(desired, observed, policy or policies.Policy())
    assert summary(plan) == expected
    assert plan.refused == ""
    # Observed resources that are not ours never show up as the target of an action.
    for action in plan.actions:
        if action.verb is not plans.Verb.CONFLICT:
            assert action.owner in {r.owner for r in desired}


@pytest.mark.parametrize(
    ("owned", "orphans", "policy", "refused"),
    [
        (3, 2, policies.Policy(), True),  # 67% > 50%
        (2, 1, policies.Policy(), False),  # exactly 50% is allowed
        (1, 1, policies.Policy(), True),
        (3, 2, policies.Policy(allow_mass_deletion=True), False),
        (3, 2, policies.Policy(max_deletion_ratio=0.7), False),
        (4, 1, policies.Policy(max_deletion_ratio=0.0), True),
        (3, 2, KEEP_ORPHANS, False),  # keeping is not deleting
    ],
)
def test_deletion_threshold(
    owned: int, orphans: int, policy: policies.Policy, refused: bool
) -> None:
    jobs = [job(f"j{i}") for i in range(owned)]
    keep = jobs[orphans:] or [job("new")]
    plan = run([reg(*keep)], [seen(j) for j in jobs], policy)
    deletions = [a for a in plan.actions if a.verb is plans.Verb.DELETE]
    assert bool(plan.refused) is refused
    if refused:
        assert f"refusing to delete {orphans} of {owned} scheduler_jobs of owner 'shop'" in (
            plan.refused
        )
        assert len(deletions) == orphans  # still listed, so `plan` can show them


SUBS = [sub(f"s{i}") for i in range(10)]
BILLING_SUB = sub("s", affix="bill")


@pytest.mark.parametrize(
    ("desired", "observed", "policy", "refused"),
    [
        (  # the periodic tasks vanished from the export, the subscriptions did not
            [reg(*SUBS)],
            [seen(A), *map(seen, SUBS)],
            None,
            "refusing to delete 1 of 1 scheduler_jobs of owner 'shop' (all of them)",
        ),
        (
            [reg(A)],
            [seen(A), *map(seen, SUBS)],
            None,
            "refusing to delete 10 of 10 subscriptions of owner 'shop' (all of them)",
        ),
        (
            [reg(A, *SUBS)],
            [seen(A), seen(B), seen(C), seen(job("d")), *map(seen, SUBS)],
            None,
            "refusing to delete 3 of 4 scheduler_jobs of owner 'shop' (more than "
            "max_deletion_ratio 50%)",
        ),
        (  # one owner's loss is not hidden by another owner's count
            [reg(A, B, C), reg(BILLING_SUB, owner="billing", affix="bill")],
            [
                *map(seen, (A, B, C)),
                seen(BILLING_SUB, owner="billing"),
                seen(job("x", affix="bill"), owner="billing"),
            ],
            None,
            "refusing to delete 1 of 1 scheduler_jobs of owner 'billing' (all of them)",
        ),
        (  # both kinds are named
            [reg(job("new"), sub("new"))],
            [seen(A), seen(B), seen(S)],
            None,
            "refusing to delete 2 of 2 scheduler_jobs of owner 'shop' (all of them) and "
            "1 of 1 subscriptions of owner 'shop' (all of them)",
        ),
        (  # a ratio of 1 allows any share, but all of a kind still needs the override
            [reg(*SUBS)],
            [seen(A), *map(seen, SUBS)],
            policies.Policy(max_deletion_ratio=1.0),
            "refusing to delete 1 of 1 scheduler_jobs of owner 'shop' (all of them)",
        ),
        ([reg(*SUBS)], [seen(A), *map(seen, SUBS)], MASS, ""),
        ([reg(A, *SUBS)], [seen(A), seen(B), *map(seen, SUBS)], None, ""),  # half the jobs
        ([reg(*SUBS)], [seen(A), *map(seen, SUBS)], KEEP_ORPHANS, ""),  # keeping is not deleting
    ],
    ids=[
        "all-jobs",
        "all-subscriptions",
        "most-jobs",
        "per-owner",
        "both-kinds",
        "ratio-1",
        "mass-allowed",
        "half",
        "kept",
    ],
)
def test_mass_deletion_is_judged_per_kind_and_owner(
    desired: list[model.Registry],
    observed: list[Observed],
    policy: policies.Policy | None,
    refused: str,
) -> None:
    plan = run(desired, observed, policy or policies.Policy())

    if refused:
        assert plan.refused == f"{refused}; allow mass deletion to apply this plan"
    else:
        assert plan.refused == ""


@pytest.mark.parametrize(
    ("desired", "found", "policy", "expected"),
    [
        (A, seen(A), None, [("job", "shop--a", "unchanged", ())]),
        (
            A,
            seen(changed(A, schedule="1 1 * * *")),
            None,
            [("job", "shop--a", "update", ("schedule",))],
        ),
        (A, seen(changed(A, paused=True)), None, [("job", "shop--a", "resume", ("paused",))]),
        (A, seen(A, owner="billing"), None, [("job", "shop--a", "conflict", ())]),
        (A, seen(A, owner=None), None, [("job", "shop--a", "conflict", ())]),
        (S, seen(S), None, [("sub", S.name, "unchanged", ())]),
        (
            S,
            seen(changed(S, ack_deadline_seconds=99)),
            None,
            [("sub", S.name, "update", ("ack_deadline_seconds",))],
        ),
        (S, seen(changed(S, filter="x")), None, [("sub", S.name, "recreate_needed", ("filter",))]),
        (S, seen(changed(S, filter="x")), RECREATE, [("sub", S.name, "recreate", ("filter",))]),
        (S, seen(S, push=False), None, [("sub", S.name, "conflict", ())]),
    ],
    ids=[
        "job-matches",
        "job-differs",
        "job-paused-by-someone",
        "job-of-another-owner",
        "job-without-marker",
        "sub-matches",
        "sub-differs",
        "sub-immutable",
        "sub-immutable-recreate",
        "sub-pull",
    ],
)
def test_existing_resources_are_planned_like_listed_ones(
    desired: Resource, found: Observed, policy: policies.Policy | None, expected: list[Expected]
) -> None:
    actions = planner.existing(desired, found, "shop", policy or policies.Policy())
    assert summary(plans.Plan(actions=actions)) == expected
    assert actions == run([reg(desired)], [found], policy or policies.Policy()).actions


def test_existing_needs_the_same_kind() -> None:
    with pytest.raises(TypeError, match="ObservedSubscription does not match SchedulerJob"):
        planner.existing(A, seen(S), "shop")


def test_a_recreate_is_not_counted_as_a_deletion() -> None:
    plan = run([reg(S)], [seen(changed(S, filter="x"))], RECREATE)
    assert summary(plan) == [("sub", S.name, "recreate", ("filter",))] and plan.refused == ""


def test_reasons_explain_what_was_not_done() -> None:
    plan = run([reg(A, S)], [seen(A, owner="billing"), seen(S, push=False)])
    assert [a.reason for a in plan.actions] == [
        "scheduler_job 'shop--a' already exists and is not ours (it belongs to owner 'billing'); "
        "it is left alone",
        f"subscription {S.name!r} already exists and is not ours (it is a pull subscription, "
        "which the controller never touches); it is left alone",
    ]
    assert all(a.actual is None and not a.is_write for a in plan.actions)
    (needed,) = run([reg(S)], [seen(changed(S, filter="x"))]).actions
    assert "immutable filter changed" in needed.reason and not needed.is_write
    (kept,) = run([reg()], [seen(A)]).actions
    assert "allow_mass_deletion" in kept.reason


def test_actions_carry_the_resources_and_owner_an_adapter_needs() -> None:
    old = changed(A, schedule="1 1 * * *")
    plan = run([reg(A, B)], [seen(old), seen(C)], policies.Policy(max_deletion_ratio=1.0))
    update, create, delete = plan.actions
    assert (update.desired, update.actual, update.owner) == (A, old, "shop")
    assert (update.drift[0].desired, update.drift[0].actual) == ("0 3 * * *", "1 1 * * *")
    assert (create.verb, create.desired, create.actual) == (plans.Verb.CREATE, B, None)
    assert (delete.verb, delete.desired, delete.actual, delete.owner) == (
        plans.Verb.DELETE,
        None,
        C,
        "shop",
    )
    assert plan.writes == (update, create, delete)


def test_a_pass_without_drift_makes_no_writes() -> None:
    plan = run([reg(A, job("p", paused=True), S)], [seen(A), seen(job("p", paused=True)), seen(S)])
    assert plan.writes == () and {a.verb for a in plan.actions} == {plans.Verb.UNCHANGED}


def test_conflicting_sources_leave_the_resource_alone_on_both() -> None:
    first = reg(A, B, source="file:a.json")
    second = reg(B, C, source="configmap/shop")
    desired = merging.merge([first, second])
    plan = run(desired.registries, [seen(A), seen(B)], conflicts=desired.conflicts)
    assert summary(plan) == [
        ("job", "shop--a", "unchanged", ()),
        ("job", "shop--b", "conflict", ()),  # exists and is ours, yet neither updated nor deleted
        ("job", "shop--c", "create", ()),
    ]
    assert "configmap/shop and file:a.json" in plan.actions[1].reason
    missing = run(desired.registries, [], conflicts=desired.conflicts)
    assert ("job", "shop--b", "conflict", ()) in summary(missing)  # and not created either


def test_conflicts_from_other_scopes_are_ignored() -> None:
    other = merging.Conflict(
        "scheduler_job", "shop--a", "shop-prod", "us-central1", ("x", "y"), "r"
    )
    plan = run([reg(A)], [seen(A)], conflicts=[other])
    assert summary(plan) == [("job", "shop--a", "unchanged", ())]


def test_unmerged_duplicates_in_one_pass_are_conflicts_not_writes() -> None:
    plan = run(
        [reg(A, source="one"), reg(changed(A, schedule="1 1 * * *"), source="two")], [seen(A)]
    )
    assert summary(plan) == [("job", "shop--a", "conflict", ())]
    assert (
        plan.actions[0].reason
        == "scheduler_job 'shop--a' is claimed by one and two; left untouched"
    )


def test_a_kind_not_covered_by_the_scope_is_not_planned() -> None:
    claimed = merging.Conflict(
        "subscription", S.name, "shop-prod", "", ("x", "file:shop.json"), "r"
    )
    desired = [reg(A, S), reg(changed(S, topic="other"), source="two")]

    jobs_only = planner.plan(desired, [seen(B)], None, conflicts=[claimed])
    subs_only = planner.plan(desired, None, [], conflicts=[claimed])

    assert summary(jobs_only) == [
        ("job", "shop--a", "create", ()),
        ("job", "shop--b", "delete", ()),
    ]
    assert summary(subs_only) == [("sub", S.name, "conflict", ())]


def test_an_owner_with_subscriptions_but_no_jobs_left_is_a_mass_deletion_of_its_jobs() -> None:
    # Planned kind by kind, the owner is still judged on everything it declares.
    plan = planner.plan([reg(S)], [seen(A), seen(B)], None)

    assert [a.verb for a in plan.actions] == [plans.Verb.DELETE, plans.Verb.DELETE]
    assert "2 of 2 scheduler_jobs of owner 'shop'" in plan.refused
