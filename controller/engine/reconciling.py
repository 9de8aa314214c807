"""The reconcile pass: registries -> one List per scope -> plan -> writes -> report.

Level-based: every pass reads the actual state and compares; a pass with no drift writes nothing.
A scope is one List (a location's scheduler jobs, a project's subscriptions); a scope whose List
fails is left out of the pass, never planned against an empty listing, and the others go ahead.
The CLI (`reconcile`, `plan`, `run`), the kopf operator and Django's `task_manager` all call
`Reconciler.run_pass`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence

import structlog

from controller.engine import applying, reports, scopes
from controller.gcp import calling, clients, errors, scheduler_jobs, subscriptions
from controller.planning import planner, plans, policies
from controller.registry import merging, model

log = structlog.get_logger()

DEFAULT_WRITES_PER_SECOND = 5.0  # well under Cloud Scheduler's and Pub/Sub's admin write quotas
ALL_KINDS = frozenset(plans.Kind)
DEFAULT_POLICY = policies.Policy()


class Reconciler:
    """Reconciles registries with Cloud Scheduler and Pub/Sub; reuse one across passes."""

    def __init__(
        self,
        clients: clients.Clients,
        policy: policies.Policy = DEFAULT_POLICY,
        *,
        writes_per_second: float = DEFAULT_WRITES_PER_SECOND,
        kinds: Collection[plans.Kind] = ALL_KINDS,
        backoff: calling.Backoff = calling.DEFAULT_BACKOFF,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.clients = clients
        self.policy = policy
        self.kinds = frozenset(kinds)
        self._limiter = calling.TokenBucket(writes_per_second, sleep=sleep)
        self._backoff = backoff
        self._sleep = sleep

    def run_pass(
        self, registries: Sequence[model.Registry], *, dry_run: bool = False
    ) -> reports.PassReport:
        """One level-based pass over every scope of `registries`; never raises for API errors
        (they are in the report)."""
        started = time.monotonic()
        calls = calling.Calls(limiter=self._limiter, backoff=self._backoff, sleep=self._sleep)
        desired = merging.merge(registries)
        conflicts = tuple(c for c in desired.conflicts if plans.Kind(c.kind) in self.kinds)
        for conflict in conflicts:
            log.warning(
                "registry_conflict",
                kind=conflict.kind,
                name=conflict.name,
                sources=list(conflict.sources),
                reason=conflict.reason,
            )
        done = tuple(
            self._reconcile(scope, calls, conflicts, dry_run=dry_run)
            for scope in scopes.of(desired.registries, self.kinds)
        )
        report = reports.PassReport(
            scopes=done,
            conflicts=conflicts,
            results=reports.results(registries, done, conflicts, self.kinds),
            api_calls=calls.counts.total,
            writes=calls.counts.writes,
            retries=calls.counts.retries,
            api_errors=dict(calls.counts.errors),
            duration=time.monotonic() - started,
            dry_run=dry_run,
        )
        log.info(
            "reconcile_pass",
            **report.counts(),
            scopes=len(report.scopes),
            conflicts=len(report.conflicts),
            failures=len(report.failures),
            api_calls=report.api_calls,
            writes=report.writes,
            retries=report.retries,
            duration_ms=round(report.duration * 1000, 1),
            dry_run=dry_run,
            converged=report.converged,
        )
        return report

    def _reconcile(
        self,
        scope: scopes.Scope,
        calls: calling.Calls,
        conflicts: Sequence[merging.Conflict],
        *,
        dry_run: bool,
    ) -> reports.ScopeReport:
        """List, plan and apply one scope."""
        place = {"location": scope.location} if scope.location else {}
        bound = log.bind(project=scope.project, **place)
        adapter = self._adapter(scope, calls)
        contested = [c for c in conflicts if c.kind == scope.kind.value]
        try:
            plan = self._plan(scope, adapter, contested)
        except errors.ApiError as error:
            bound.error(
                "list_failed", kind=scope.kind.value, reason=error.reason, retryable=error.retryable
            )
            return reports.ScopeReport(scope, error=error)
        for action in plan.actions:
            for drift in action.drift:
                bound.info(
                    "drift_detected",
                    kind=action.kind.value,
                    name=action.name,
                    field=drift.field,
                    desired=drift.desired,
                    actual=drift.actual,
                )
        if plan.refused:
            bound.error("plan_refused", reason=plan.refused, writes=len(plan.writes))
        outcomes = applying.apply(plan, adapter, bound, dry_run=dry_run)
        return reports.ScopeReport(scope, plan=plan, outcomes=outcomes)

    def _adapter(self, scope: scopes.Scope, calls: calling.Calls) -> applying.Adapter:
        if scope.kind is plans.Kind.SCHEDULER_JOB:
            return scheduler_jobs.SchedulerJobs(
                self.clients.scheduler, calls, scope.project, scope.location
            )
        return subscriptions.Subscriptions(
            self.clients.subscriber, self.clients.publisher, calls, scope.project
        )

    def _plan(
        self,
        scope: scopes.Scope,
        adapter: applying.Adapter,
        conflicts: Sequence[merging.Conflict],
    ) -> plans.Plan:
        """The scope's plan against one List of it; raises `errors.ApiError` if the List fails."""
        if isinstance(adapter, scheduler_jobs.SchedulerJobs):
            jobs = adapter.list()
            return planner.plan(scope.desired, jobs, (), self.policy, conflicts=conflicts)
        subs = adapter.list()
        return planner.plan(scope.desired, (), subs, self.policy, conflicts=conflicts)
