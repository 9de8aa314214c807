"""`plan(desired, observed) -> Plan` for one scope (the engine plans one kind per List). Pure.

Ownership: an observed resource is ours only when its owner marker equals the owner of a
registry in this pass and its name starts with that registry's `{affix}{delimiter}`; pull
subscriptions never are. Resources that are not ours never appear in the plan, except as the
reason a desired name cannot be used (`Verb.CONFLICT`). Deletions are bounded: an owner whose
registries are all empty keeps its resources, and a plan deleting all, or more than
`policy.max_deletion_ratio`, of one owner's resources of one kind is refused, unless mass
deletion is allowed.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

from controller.planning import diffs, plans, policies
from controller.registry import merging, model

DEFAULT_POLICY = policies.Policy()
_KIND_ORDER = {kind: index for index, kind in enumerate(plans.Kind)}
_FOLLOW_UPS = frozenset({plans.Verb.PAUSE, plans.Verb.RESUME})
_Resources = Callable[[model.Registry], Iterable[plans.Resource]]


class _Pass:
    """The owners, prefixes and claims of the registries planned together."""

    def __init__(self, desired: Sequence[model.Registry]) -> None:
        self.sources = {registry.source for registry in desired}
        self.prefixes: dict[str, set[str]] = collections.defaultdict(set)
        self.nonempty_owners: set[str] = set()
        for registry in desired:
            self.prefixes[registry.owner].add(registry.prefix)
            if not registry.is_empty:
                self.nonempty_owners.add(registry.owner)

    def owns(self, owner: str | None, name: str) -> bool:
        return owner is not None and any(name.startswith(p) for p in self.prefixes.get(owner, ()))


def plan(
    desired: Sequence[model.Registry],
    observed_jobs: Sequence[model.ObservedJob] | None,
    observed_subscriptions: Sequence[model.ObservedSubscription] | None,
    policy: policies.Policy = DEFAULT_POLICY,
    *,
    conflicts: Sequence[merging.Conflict] = (),
) -> plans.Plan:
    """What to do in one scope; pass `merging.merge(...).conflicts` so contested names stay put,
    and None for a kind the scope does not cover (the engine lists and plans each kind apart)."""
    scope = _Pass(desired)
    planned = {
        kind
        for kind, observed in (
            (plans.Kind.SCHEDULER_JOB, observed_jobs),
            (plans.Kind.SUBSCRIPTION, observed_subscriptions),
        )
        if observed is not None
    }
    contested, actions = _contested(desired, conflicts, scope, planned)
    jobs = {o.job.name: o for o in observed_jobs or ()}
    subs = {o.subscription.name: o for o in observed_subscriptions or ()}
    if observed_jobs is not None:
        contested_jobs = contested[plans.Kind.SCHEDULER_JOB]
        actions.extend(_plan_jobs(desired, jobs, scope, policy, contested_jobs))
    if observed_subscriptions is not None:
        contested_subs = contested[plans.Kind.SUBSCRIPTION]
        actions.extend(_plan_subscriptions(desired, subs, scope, policy, contested_subs))
    actions.sort(key=lambda a: (_KIND_ORDER[a.kind], a.name, a.verb in _FOLLOW_UPS))
    owned = collections.Counter(
        (plans.Kind.SCHEDULER_JOB, o.owner) for name, o in jobs.items() if scope.owns(o.owner, name)
    )
    owned.update(
        (plans.Kind.SUBSCRIPTION, o.owner)
        for name, o in subs.items()
        if o.push and scope.owns(o.owner, name)
    )
    return plans.Plan(actions=tuple(actions), refused=_refusal(actions, owned, policy))


def _contested(
    desired: Sequence[model.Registry],
    conflicts: Sequence[merging.Conflict],
    scope: _Pass,
    planned: Collection[plans.Kind],
) -> tuple[dict[plans.Kind, dict[str, str]], list[plans.Action]]:
    """Names nobody may write in this scope (with the reason), and the conflict actions to show,
    for the kinds `planned`."""
    projects = {registry.project for registry in desired}
    locations = {registry.location for registry in desired}
    contested: dict[plans.Kind, dict[str, str]] = {kind: {} for kind in plans.Kind}
    actions: list[plans.Action] = []
    for conflict in conflicts:
        kind = plans.Kind(conflict.kind)
        if kind not in planned or conflict.project not in projects:
            continue
        if kind is plans.Kind.SCHEDULER_JOB and conflict.location not in locations:
            continue
        contested[kind][conflict.name] = conflict.reason
        # Shown in the passes of the claimants, so each claimant's report carries it.
        if scope.sources & set(conflict.sources):
            actions.append(_conflict(kind, conflict.name, None, conflict.reason))
    for kind, claims in (
        (plans.Kind.SCHEDULER_JOB, _claims(desired, lambda r: r.scheduler_jobs)),
        (plans.Kind.SUBSCRIPTION, _claims(desired, lambda r: r.subscriptions)),
    ):
        if kind not in planned:
            continue
        for name, registries in claims.items():
            if len(registries) > 1 and name not in contested[kind]:
                # The caller did not merge: the same rule, applied here instead.
                sources = " and ".join(sorted(r.source for r in registries))
                reason = f"{kind.value} {name!r} is claimed by {sources}; left untouched"
                contested[kind][name] = reason
                actions.append(_conflict(kind, name, None, reason))
    return contested, actions


def _claims(
    desired: Sequence[model.Registry], resources: _Resources
) -> dict[str, list[model.Registry]]:
    claims: dict[str, list[model.Registry]] = collections.defaultdict(list)
    for registry in desired:
        for resource in resources(registry):
            claims[resource.name].append(registry)
    return claims


def _conflict(
    kind: plans.Kind, name: str, desired: plans.Resource | None, reason: str
) -> plans.Action:
    return plans.Action(
        kind=kind, name=name, verb=plans.Verb.CONFLICT, desired=desired, reason=reason
    )


def _not_ours(kind: plans.Kind, name: str, owner: str | None, wanted_by: str, pull: bool) -> str:
    if pull:
        why = "it is a pull subscription, which the controller never touches"
    elif owner is None:
        why = "it has no ownership marker"
    elif owner != wanted_by:
        why = f"it belongs to owner {owner!r}"
    else:
        why = "its name does not match the owner's affix"
    return f"{kind.value} {name!r} already exists and is not ours ({why}); it is left alone"


def _plan_jobs(
    desired: Sequence[model.Registry],
    observed: Mapping[str, model.ObservedJob],
    scope: _Pass,
    policy: policies.Policy,
    contested: Mapping[str, str],
) -> Iterable[plans.Action]:
    kind = plans.Kind.SCHEDULER_JOB
    wanted: set[str] = set()
    for registry in desired:
        for job in registry.scheduler_jobs:
            wanted.add(job.name)
            if job.name in contested:
                continue  # reported once, from the conflict itself
            found = observed.get(job.name)
            owner = registry.owner
            if found is None:
                yield plans.Action(kind, job.name, plans.Verb.CREATE, desired=job, owner=owner)
                if job.paused:  # Cloud Scheduler creates jobs enabled
                    pause = (plans.Drift("paused", True, False),)
                    yield plans.Action(
                        kind, job.name, plans.Verb.PAUSE, job, None, pause, owner=owner
                    )
                continue
            yield from _existing_job(job, found, owner)
    for name, found in observed.items():
        if name in wanted or name in contested or not scope.owns(found.owner, name):
            continue
        yield _orphan(kind, name, found.job, found.owner or "", found.job.paused, scope, policy)


def _plan_subscriptions(
    desired: Sequence[model.Registry],
    observed: Mapping[str, model.ObservedSubscription],
    scope: _Pass,
    policy: policies.Policy,
    contested: Mapping[str, str],
) -> Iterable[plans.Action]:
    kind = plans.Kind.SUBSCRIPTION
    wanted: set[str] = set()
    for registry in desired:
        for sub in registry.subscriptions:
            wanted.add(sub.name)
            if sub.name in contested:
                continue
            found = observed.get(sub.name)
            owner = registry.owner
            if found is None:
                yield plans.Action(kind, sub.name, plans.Verb.CREATE, desired=sub, owner=owner)
                continue
            yield from _existing_subscription(sub, found, owner, policy)
    for name, found in observed.items():
        if (
            name in wanted
            or name in contested
            or not found.push
            or not scope.owns(found.owner, name)
        ):
            continue
        yield _orphan(kind, name, found.subscription, found.owner or "", False, scope, policy)


def existing(
    desired: plans.Resource,
    found: model.ObservedJob | model.ObservedSubscription,
    owner: str,
    policy: policies.Policy = DEFAULT_POLICY,
) -> tuple[plans.Action, ...]:
    """What to do to a desired resource found to exist after all (its Create answered
    ALREADY_EXISTS): the rules `plan` applies to a listed one."""
    if isinstance(desired, model.SchedulerJob) and isinstance(found, model.ObservedJob):
        return tuple(_existing_job(desired, found, owner))
    if isinstance(desired, model.Subscription) and isinstance(found, model.ObservedSubscription):
        return tuple(_existing_subscription(desired, found, owner, policy))
    raise TypeError(f"{type(found).__name__} does not match {type(desired).__name__}")


def _existing_job(
    job: model.SchedulerJob, found: model.ObservedJob, owner: str
) -> Iterable[plans.Action]:
    kind = plans.Kind.SCHEDULER_JOB
    if found.owner != owner:
        yield _conflict(kind, job.name, job, _not_ours(kind, job.name, found.owner, owner, False))
        return
    drift = diffs.compare_jobs(job, found.job)
    paused = diffs.compare_paused(job, found.job)
    if drift:
        yield plans.Action(kind, job.name, plans.Verb.UPDATE, job, found.job, drift, owner=owner)
    if paused is not None:
        verb = plans.Verb.PAUSE if job.paused else plans.Verb.RESUME
        yield plans.Action(kind, job.name, verb, job, found.job, (paused,), owner=owner)
    if not drift and paused is None:
        yield plans.Action(kind, job.name, plans.Verb.UNCHANGED, job, found.job, owner=owner)


def _existing_subscription(
    sub: model.Subscription,
    found: model.ObservedSubscription,
    owner: str,
    policy: policies.Policy,
) -> Iterable[plans.Action]:
    kind = plans.Kind.SUBSCRIPTION
    if found.owner != owner or not found.push:
        reason = _not_ours(kind, sub.name, found.owner, owner, not found.push)
        yield _conflict(kind, sub.name, sub, reason)
        return
    drift = diffs.compare_subscriptions(sub, found.subscription)
    immutable = [d.field for d in drift if d.field in diffs.IMMUTABLE_SUBSCRIPTION_FIELDS]
    if immutable:
        fields = ", ".join(immutable)
        if policy.allow_recreate:
            verb = plans.Verb.RECREATE
            reason = f"immutable {fields} changed: deleting and creating it again"
        else:
            verb = plans.Verb.RECREATE_NEEDED
            reason = (
                f"immutable {fields} changed and Pub/Sub cannot update it; allow "
                "recreation to delete and create it (undelivered messages are lost)"
            )
        yield plans.Action(kind, sub.name, verb, sub, found.subscription, drift, reason, owner)
    elif drift:
        yield plans.Action(
            kind, sub.name, plans.Verb.UPDATE, sub, found.subscription, drift, owner=owner
        )
    else:
        yield plans.Action(
            kind, sub.name, plans.Verb.UNCHANGED, sub, found.subscription, owner=owner
        )


def _orphan(
    kind: plans.Kind,
    name: str,
    actual: plans.Resource,
    owner: str,
    paused: bool,
    scope: _Pass,
    policy: policies.Policy,
) -> plans.Action:
    def keep(reason: str) -> plans.Action:
        return plans.Action(
            kind, name, plans.Verb.ORPHAN_KEPT, actual=actual, reason=reason, owner=owner
        )

    if owner not in scope.nonempty_owners and not policy.allow_mass_deletion:
        return keep(
            f"owner {owner!r} declares no resources at all, which looks like a broken export; "
            "nothing is deleted or paused without allow_mass_deletion"
        )
    if policy.orphans is policies.OrphanPolicy.DELETE:
        return plans.Action(
            kind,
            name,
            plans.Verb.DELETE,
            actual=actual,
            reason="no registry declares it",
            owner=owner,
        )
    if policy.orphans is policies.OrphanPolicy.KEEP:
        return keep("no registry declares it; kept by the orphan policy")
    if kind is plans.Kind.SUBSCRIPTION:
        return keep("no registry declares it; subscriptions cannot be paused, so it is kept")
    if paused:
        return keep("no registry declares it; already paused")
    drift = (plans.Drift("paused", True, False),)
    return plans.Action(
        kind,
        name,
        plans.Verb.PAUSE,
        actual=actual,
        drift=drift,
        reason="no registry declares it; paused by the orphan policy",
        owner=owner,
    )


def _refusal(
    actions: Sequence[plans.Action],
    owned: Mapping[tuple[plans.Kind, str | None], int],
    policy: policies.Policy,
) -> str:
    """Why the plan may not be applied: the deletions of each kind and owner, judged apart, so
    one kind lost from an export is not hidden by the other kind's count."""
    deletions = collections.Counter(
        (action.kind, action.owner) for action in actions if action.verb is plans.Verb.DELETE
    )
    refused = []
    for (kind, owner), count in sorted(deletions.items()):
        of = owned[kind, owner]
        if policy.allows_deleting(count, of):
            continue
        why = (
            "all of them"
            if count >= of
            else f"more than max_deletion_ratio {policy.max_deletion_ratio:.0%}"
        )
        refused.append(f"{count} of {of} {kind.value}s of owner {owner!r} ({why})")
    if not refused:
        return ""
    return f"refusing to delete {' and '.join(refused)}; allow mass deletion to apply this plan"
