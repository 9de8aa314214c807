"""What a reconcile pass did: each scope's plan and outcomes, each source's result, the cost.

Purely data. The engine fills a `PassReport` once per pass, per-source results included; the
CLI's exit codes and output, metrics, the operator's statuses and Events and Django's
`task_manager` all read it, and none of them classifies an outcome again.
"""

from __future__ import annotations

import collections
import dataclasses
import enum
from collections.abc import Iterable, Mapping, Sequence

from controller.engine import scopes
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


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    """One planned action and what became of it; `applied` is False in a dry run or refused plan."""

    action: plans.Action
    applied: bool = False
    error: errors.ApiError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def pending(self) -> bool:
        """A difference left in place: not written (dry run, refused plan) or blocked."""
        blocked = self.action.verb in plans.BLOCKED_VERBS
        return self.ok and not self.applied and (self.action.is_write or blocked)

    @property
    def exists(self) -> bool:
        """Whether the resource is there after the pass."""
        if self.action.verb is plans.Verb.CREATE:
            return self.applied and self.ok
        if self.action.verb is plans.Verb.DELETE:
            return not (self.applied and self.ok)
        return self.action.verb in _EXISTING


@dataclasses.dataclass(frozen=True)
class ScopeReport:
    """One scope's plan and outcomes, or the error of its List (then nothing was planned)."""

    scope: scopes.Scope
    plan: plans.Plan | None = None
    outcomes: tuple[Outcome, ...] = ()
    error: errors.ApiError | None = None


class Cause(enum.Enum):
    """Why a source is not in line, most serious first."""

    CONFLICT = enum.auto()  # claimed by two sources, or the name is taken by someone else's
    LIST_FAILED = enum.auto()
    WRITE_FAILED = enum.auto()
    REFUSED = enum.auto()  # the plan of its scope was refused (e.g. too many deletions)
    RECREATE_NEEDED = enum.auto()  # an immutable field changed and recreation is not allowed


@dataclasses.dataclass(frozen=True)
class Problem:
    cause: Cause
    message: str

    @property
    def api_failure(self) -> bool:
        """Google's API failed: the controller could not compare or write."""
        return self.cause in (Cause.LIST_FAILED, Cause.WRITE_FAILED)


@dataclasses.dataclass(frozen=True)
class SourceResult:
    """What a pass did for one source: the outcomes of its resources (orphans of its owner
    included) and its problems, the most serious first."""

    source: str
    outcomes: tuple[Outcome, ...] = ()
    problems: tuple[Problem, ...] = ()

    @property
    def written(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.applied and o.ok)

    @property
    def pending(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.pending)

    @property
    def converged(self) -> bool:
        return not self.problems and not self.pending


@dataclasses.dataclass(frozen=True)
class PassReport:
    """The result of `Reconciler.run_pass`."""

    scopes: tuple[ScopeReport, ...] = ()
    conflicts: tuple[merging.Conflict, ...] = ()
    results: Mapping[str, SourceResult] = dataclasses.field(default_factory=dict)  # by source
    api_calls: int = 0  # every request sent, pages and retries included
    writes: int = 0  # write requests sent, retries included
    retries: int = 0
    api_errors: Mapping[str, int] = dataclasses.field(default_factory=dict)  # by error code
    duration: float = 0.0  # seconds
    dry_run: bool = False

    def for_source(self, source: str) -> SourceResult | None:
        """What this pass did for `source`; None when the source was not part of it."""
        return self.results.get(source)

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
    def pending(self) -> tuple[plans.Action, ...]:
        """Differences this pass did not remove (dry run, refused plan, recreation not allowed,
        a name taken by a resource that is not ours)."""
        return tuple(outcome.action for outcome in self.outcomes if outcome.pending)

    @property
    def problems(self) -> tuple[Problem, ...]:
        """Every source's problems, each once."""
        found = (p for result in self.results.values() for p in result.problems)
        return tuple(dict.fromkeys(found))

    @property
    def converged(self) -> bool:
        """The cloud matches the desired state: every source's result is in line."""
        return not self.failed and all(r.converged for r in self.results.values())

    def counts(self) -> dict[str, int]:
        """Actions per verb (every planned action, written or not)."""
        return dict(collections.Counter(o.action.verb.value for o in self.outcomes))

    def owned(self) -> dict[str, int]:
        """Resources we own per kind after the pass (listed scopes only)."""
        owned = {kind.value: 0 for kind in plans.Kind}
        for report in self.scopes:
            names = {o.action.name for o in report.outcomes if o.exists}
            owned[report.scope.kind.value] += len(names)
        return owned


def results(
    registries: Iterable[model.Registry],
    scope_reports: Sequence[ScopeReport],
    conflicts: Sequence[merging.Conflict],
    kinds: Iterable[plans.Kind],
) -> dict[str, SourceResult]:
    """Each source's result: called by the engine once per pass, with the registries as read."""
    # Indexed once: the operator passes one registry per custom resource, thousands per scope.
    by_key = {report.scope.key: _Index(report) for report in scope_reports}
    claimed: dict[str, list[merging.Conflict]] = collections.defaultdict(list)
    for conflict in conflicts:
        for source in conflict.sources:
            claimed[source].append(conflict)
    wanted = frozenset(kinds)
    found: dict[str, SourceResult] = {}
    for registry in registries:
        problems = [Problem(Cause.CONFLICT, c.reason) for c in claimed.get(registry.source, ())]
        outcomes: list[Outcome] = []
        for key in scopes.keys(registry, wanted):
            index = by_key.get(key)
            if index is None:
                continue
            report = index.report
            if report.error is not None:
                problems.append(Problem(Cause.LIST_FAILED, f"listing failed: {report.error}"))
                continue
            mine = index.concerning(registry, key[0])
            if mine and report.plan is not None and report.plan.refused:
                problems.append(Problem(Cause.REFUSED, report.plan.refused))
            outcomes.extend(mine)
        problems.extend(_outcome_problems(outcomes))
        ordered = sorted(dict.fromkeys(problems), key=lambda p: p.cause.value)
        found[registry.source] = SourceResult(registry.source, tuple(outcomes), tuple(ordered))
    return found


class _Index:
    """A scope's outcomes by resource name, and those without a desired resource (orphans) by
    owner, as positions in the scope's order."""

    def __init__(self, report: ScopeReport) -> None:
        self.report = report
        self.by_name: dict[str, list[int]] = collections.defaultdict(list)
        self.orphans: dict[str, list[int]] = collections.defaultdict(list)
        for position, outcome in enumerate(report.outcomes):
            action = outcome.action
            self.by_name[action.name].append(position)
            if action.desired is None:
                self.orphans[action.owner].append(position)

    def concerning(self, registry: model.Registry, kind: plans.Kind) -> list[Outcome]:
        """The outcomes about a resource of `kind` that `registry` declares, or about an orphan
        of its owner, in the scope's order."""
        positions = set(self.orphans.get(registry.owner, ()))
        jobs = kind is plans.Kind.SCHEDULER_JOB
        declared: Iterable[plans.Resource] = (
            registry.scheduler_jobs if jobs else registry.subscriptions
        )
        for resource in declared:
            positions.update(self.by_name.get(resource.name, ()))
        outcomes = self.report.outcomes
        return [outcomes[position] for position in sorted(positions)]


def _outcome_problems(outcomes: Iterable[Outcome]) -> list[Problem]:
    found = []
    for outcome in outcomes:
        action = outcome.action
        if outcome.error is not None:
            message = f"{action.verb.value} {action.name} failed: {outcome.error}"
            found.append(Problem(Cause.WRITE_FAILED, message))
        elif action.verb is plans.Verb.CONFLICT:
            found.append(Problem(Cause.CONFLICT, action.reason))
        elif action.verb is plans.Verb.RECREATE_NEEDED:
            found.append(Problem(Cause.RECREATE_NEEDED, action.reason))
    return found
