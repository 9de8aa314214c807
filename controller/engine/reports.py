"""What a reconcile pass did: the plan of each scope, the outcome of each action, the cost in calls.

Purely data; the engine fills it, the CLI prints it, metrics and the operator's status read it.
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Mapping

from controller.gcp import errors
from controller.planning import plans
from controller.registry import merging, model

# Verbs after which the resource exists (and is ours) whatever the outcome of the write.
_EXISTING = frozenset(
    {
        plans.Verb.UPDATE,
        plans.Verb.PAUSE,
        plans.Verb.RESUME,
        plans.Verb.RECREATE,
        plans.Verb.RECREATE_NEEDED,
        plans.Verb.UNCHANGED,
        plans.Verb.ORPHAN_KEPT,
    }
)
_Action = plans.Action  # the `plans` property below hides the module in annotations


@dataclasses.dataclass(frozen=True)
class Outcome:
    """One planned action and what became of it; `applied` is False in a dry run or refused plan."""

    action: plans.Action
    project: str
    location: str
    applied: bool = False
    error: errors.ApiError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def reason(self) -> str:
        return self.error.reason if self.error is not None else self.action.reason


@dataclasses.dataclass(frozen=True)
class ScopeReport:
    """One (project, location): its plan and outcomes, and the listing error if a List failed
    (that kind was left out of the plan; with both failing there is no plan)."""

    project: str
    location: str
    plan: plans.Plan | None = None  # None when neither kind could be listed
    outcomes: tuple[Outcome, ...] = ()
    error: errors.ApiError | None = None


@dataclasses.dataclass(frozen=True)
class PassReport:
    """The result of `Reconciler.run_pass`."""

    scopes: tuple[ScopeReport, ...] = ()
    conflicts: tuple[merging.Conflict, ...] = ()
    api_calls: int = 0  # every request sent, pages and retries included
    writes: int = 0  # write requests sent, retries included
    retries: int = 0
    api_errors: Mapping[str, int] = dataclasses.field(default_factory=dict)  # by error code
    duration: float = 0.0  # seconds
    dry_run: bool = False

    @property
    def plans(self) -> tuple[plans.Plan, ...]:
        return tuple(scope.plan for scope in self.scopes if scope.plan is not None)

    @property
    def outcomes(self) -> tuple[Outcome, ...]:
        return tuple(outcome for scope in self.scopes for outcome in scope.outcomes)

    @property
    def failures(self) -> tuple[errors.ApiError, ...]:
        """Every API failure: listings that failed and actions that failed."""
        listed = (scope.error for scope in self.scopes if scope.error is not None)
        acted = (outcome.error for outcome in self.outcomes if outcome.error is not None)
        return (*listed, *acted)

    @property
    def failed(self) -> bool:
        return bool(self.failures)

    @property
    def refused(self) -> tuple[ScopeReport, ...]:
        return tuple(s for s in self.scopes if s.plan is not None and s.plan.refused)

    @property
    def pending(self) -> tuple[_Action, ...]:
        """Differences this pass did not remove (dry run, refused plan, recreation not allowed,
        a name taken by a resource that is not ours)."""
        return tuple(
            outcome.action
            for outcome in self.outcomes
            if outcome.ok
            and not outcome.applied
            and (outcome.action.is_write or outcome.action.verb in plans.BLOCKED_VERBS)
        )

    @property
    def converged(self) -> bool:
        """The cloud matches the desired state: nothing failed and nothing is left to do."""
        return not self.failed and not self.pending and not self.conflicts

    def outcomes_for(self, registry: model.Registry) -> tuple[Outcome, ...]:
        """The outcomes concerning one registry (for a status written back to its source)."""
        names = {job.name for job in registry.scheduler_jobs}
        names |= {sub.name for sub in registry.subscriptions}
        return tuple(
            outcome
            for outcome in self.outcomes
            if outcome.project == registry.project
            and outcome.location == registry.location
            and (outcome.action.name in names or outcome.action.owner == registry.owner)
        )

    def conflicts_for(self, source: str) -> tuple[merging.Conflict, ...]:
        return tuple(c for c in self.conflicts if source in c.sources)

    def counts(self) -> dict[str, int]:
        """Actions per verb (every planned action, written or not)."""
        return dict(collections.Counter(o.action.verb.value for o in self.outcomes))

    def owned(self) -> dict[str, int]:
        """Resources we own per kind after the pass (listed scopes only)."""
        existing: set[tuple[str, str, str]] = set()
        for outcome in self.outcomes:
            action = outcome.action
            exists = action.verb in _EXISTING
            if action.verb is plans.Verb.CREATE:
                exists = outcome.applied and outcome.ok
            elif action.verb is plans.Verb.DELETE:
                exists = not (outcome.applied and outcome.ok)
            if exists:
                existing.add((action.kind.value, outcome.project, action.name))
        owned = {kind.value: 0 for kind in plans.Kind}
        for kind, _, _ in existing:
            owned[kind] += 1
        return owned
