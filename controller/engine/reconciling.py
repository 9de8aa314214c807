"""The reconcile engine: registries -> one List per kind per scope -> plan -> writes -> report.

Level-based: every pass reads the actual state and compares; a pass with no drift writes nothing.
The CLI (`reconcile`, `plan`, `run`), the kopf operator and Django's `task_manager` all call
`Reconciler.run_pass`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Collection, Sequence
from typing import TypeVar

import structlog

from controller.engine import progress, reports
from controller.gcp import calling, clients, errors, scheduler_jobs, subscriptions
from controller.planning import planner, plans, policies
from controller.registry import merging, model

log = structlog.get_logger()
T = TypeVar("T")

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
        clock: Callable[[], float] = time.monotonic,
        on_progress: progress.Listener | None = None,
    ) -> None:
        self.clients = clients
        self.policy = policy
        self.kinds = frozenset(kinds)
        # One bucket across passes: a rate lowered by quota errors recovers with time, not per pass.
        self._limiter = calling.TokenBucket(writes_per_second, clock=clock, sleep=sleep)
        self._backoff = backoff
        self._sleep = sleep
        self._clock = clock
        self._on_progress = on_progress

    def run_pass(
        self, registries: Sequence[model.Registry], *, dry_run: bool = False
    ) -> reports.PassReport:
        """One level-based pass over every (project, location) of `registries`; never raises
        for API errors (they are in the report)."""
        started = self._clock()
        calls = calling.Calls(limiter=self._limiter, backoff=self._backoff, sleep=self._sleep)
        desired = merging.merge([self._only_kinds(registry) for registry in registries])
        for conflict in desired.conflicts:
            log.warning(
                "registry_conflict",
                kind=conflict.kind,
                name=conflict.name,
                sources=list(conflict.sources),
                reason=conflict.reason,
            )
        listed_subscriptions: dict[str, list[model.ObservedSubscription] | errors.ApiError] = {}
        scopes = []
        # Every scope is listed and planned before the first write, so progress knows the total.
        for (project, location), group in merging.by_scope(desired.registries).items():
            scope = _Scope(self.clients, calls, project, location, group, self.policy)
            if plans.Kind.SUBSCRIPTION in self.kinds and project not in listed_subscriptions:
                # Subscriptions are project-wide: one List per project, shared by its scopes.
                listed_subscriptions[project] = _listed(scope.subscriptions.list)
            observed_subs = listed_subscriptions.get(project, [])
            scope.plan(self.kinds, observed_subs, desired.conflicts)
            scopes.append(scope)
        writes = 0 if dry_run else sum(len(scope.writes) for scope in scopes)
        tracker = progress.Tracker(writes, clock=self._clock, listener=self._on_progress)
        report = reports.PassReport(
            scopes=tuple(scope.apply(tracker, dry_run=dry_run) for scope in scopes),
            conflicts=desired.conflicts,
            api_calls=calls.counts.total,
            writes=calls.counts.writes,
            retries=calls.counts.retries,
            api_errors=dict(calls.counts.errors),
            duration=self._clock() - started,
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

    def _only_kinds(self, registry: model.Registry) -> model.Registry:
        return dataclasses.replace(
            registry,
            scheduler_jobs=registry.scheduler_jobs
            if plans.Kind.SCHEDULER_JOB in self.kinds
            else (),
            subscriptions=registry.subscriptions if plans.Kind.SUBSCRIPTION in self.kinds else (),
        )


def _listed(list_all: Callable[[], list[T]]) -> list[T] | errors.ApiError:
    try:
        return list_all()
    except errors.ApiError as error:
        return error


class _Scope:
    """One (project, location) within one pass: its registries and adapters."""

    def __init__(
        self,
        clients: clients.Clients,
        calls: calling.Calls,
        project: str,
        location: str,
        registries: Sequence[model.Registry],
        policy: policies.Policy,
    ) -> None:
        self.project = project
        self.location = location
        self.registries = registries
        self.log = log.bind(project=project, location=location)
        self.policy = policy
        self.planned: plans.Plan | None = None  # None until planned, or when no List worked
        self.failure: errors.ApiError | None = None  # a List that failed
        self.jobs = scheduler_jobs.SchedulerJobs(clients.scheduler, calls, project, location)
        self.subscriptions = subscriptions.Subscriptions(
            clients.subscriber, clients.publisher, calls, project
        )

    def plan(
        self,
        kinds: frozenset[plans.Kind],
        observed_subscriptions: list[model.ObservedSubscription] | errors.ApiError,
        conflicts: Sequence[merging.Conflict],
    ) -> None:
        """List the scope's jobs (the caller lists subscriptions, per project), plan, and log
        the drift; nothing is written before `apply`."""
        listed_jobs = _listed(self.jobs.list) if plans.Kind.SCHEDULER_JOB in kinds else []
        registries = list(self.registries)
        failure: errors.ApiError | None = None
        # A kind whose List failed is left out of this pass (never planned against an empty
        # listing, which would look like "create everything"); the other kind still converges.
        observed_jobs: list[model.ObservedJob] = []
        observed_subs: list[model.ObservedSubscription] = []
        if isinstance(listed_jobs, errors.ApiError):
            failure = listed_jobs
            registries = [dataclasses.replace(r, scheduler_jobs=()) for r in registries]
        else:
            observed_jobs = listed_jobs
        if isinstance(observed_subscriptions, errors.ApiError):
            failure = failure or observed_subscriptions
            registries = [dataclasses.replace(r, subscriptions=()) for r in registries]
        else:
            observed_subs = observed_subscriptions
        for listed in (listed_jobs, observed_subscriptions):
            if isinstance(listed, errors.ApiError):
                self.log.error("list_failed", reason=listed.reason, retryable=listed.retryable)
        self.failure = failure
        if all(isinstance(x, errors.ApiError) for x in (listed_jobs, observed_subscriptions)):
            return
        plan = planner.plan(
            registries, observed_jobs, observed_subs, self.policy, conflicts=conflicts
        )
        self.planned = plan
        for action in plan.actions:
            for drift in action.drift:
                self.log.info(
                    "drift_detected",
                    kind=action.kind.value,
                    name=action.name,
                    field=drift.field,
                    desired=drift.desired,
                    actual=drift.actual,
                )
        if plan.refused:
            self.log.error("plan_refused", reason=plan.refused, writes=len(plan.writes))

    @property
    def writes(self) -> tuple[plans.Action, ...]:
        """The writes `apply` will make (none when the plan is refused)."""
        if self.planned is None or self.planned.refused:
            return ()
        return self.planned.writes

    def apply(self, tracker: progress.Tracker, *, dry_run: bool) -> reports.ScopeReport:
        """Make the planned writes (none in a dry run), counting each in `tracker`."""
        plan = self.planned
        if plan is None:
            return reports.ScopeReport(self.project, self.location, error=self.failure)
        outcomes: list[reports.Outcome] = []
        for action in plan.actions:
            if action.verb in plans.BLOCKED_VERBS:
                self.log.warning(action.verb.value, **_describe(action))
            if not action.is_write or plan.refused or dry_run:
                if action.is_write and dry_run and not plan.refused:
                    self.log.info("action_planned", **_describe(action), dry_run=True)
                outcomes.append(reports.Outcome(action, self.project, self.location))
                continue
            outcomes.extend(self._apply(action))
            tracker.advance()
        return reports.ScopeReport(
            self.project, self.location, plan=plan, outcomes=tuple(outcomes), error=self.failure
        )

    def _apply(self, action: plans.Action) -> tuple[reports.Outcome, ...]:
        try:
            if action.kind is plans.Kind.SCHEDULER_JOB:
                self._apply_job(action)
            else:
                self._apply_subscription(action)
        except errors.Conflict as error:
            if action.verb is not plans.Verb.CREATE:
                return (self._failed(action, error),)
            return self._read_back(action)
        except errors.ApiError as error:
            return (self._failed(action, error),)
        self.log.info("action_applied", **_describe(action))
        return (reports.Outcome(action, self.project, self.location, applied=True),)

    def _read_back(self, create: plans.Action) -> tuple[reports.Outcome, ...]:
        """A Create answered ALREADY_EXISTS, most often the retry of one whose answer was lost:
        read the resource and plan it like a listed one (ours and in line: the create is done)."""
        desired = create.desired
        assert desired is not None
        found: model.ObservedJob | model.ObservedSubscription
        try:
            if isinstance(desired, model.SchedulerJob):
                found = self.jobs.get(create.name)
                # As a Create leaves it: enabled. The plan's own PAUSE comes next if desired.
                desired = dataclasses.replace(desired, paused=False)
            else:
                found = self.subscriptions.get(create.name)
        except errors.ApiError as error:
            return (self._failed(create, error),)
        actions = planner.existing(desired, found, create.owner, self.policy)
        self.log.info(
            "already_exists",
            kind=create.kind.value,
            name=create.name,
            verbs=[action.verb.value for action in actions],
        )
        outcomes: list[reports.Outcome] = []
        for action in actions:
            if action.verb is plans.Verb.UNCHANGED:
                self.log.info("action_applied", **_describe(create))
                outcomes.append(reports.Outcome(create, self.project, self.location, applied=True))
            elif action.is_write:
                outcomes.extend(self._apply(action))
            else:  # someone else's resource, or an immutable field we may not change
                self.log.warning(action.verb.value, **_describe(action))
                outcomes.append(reports.Outcome(action, self.project, self.location))
        return tuple(outcomes)

    def _failed(self, action: plans.Action, error: errors.ApiError) -> reports.Outcome:
        self.log.error(
            "action_failed",
            **{**_describe(action), "reason": error.reason},
            error=error.code,
            retryable=error.retryable,
        )
        return reports.Outcome(action, self.project, self.location, applied=True, error=error)

    def _apply_job(self, action: plans.Action) -> None:
        desired = action.desired
        verb = action.verb
        if verb is plans.Verb.CREATE:
            assert isinstance(desired, model.SchedulerJob)
            self.jobs.create(desired, action.owner)
        elif verb is plans.Verb.UPDATE:
            assert isinstance(desired, model.SchedulerJob)
            self.jobs.update(desired, action.owner, [drift.field for drift in action.drift])
        elif verb is plans.Verb.PAUSE:
            self.jobs.pause(action.name)
        elif verb is plans.Verb.RESUME:
            self.jobs.resume(action.name)
        elif verb is plans.Verb.DELETE:
            _ignore_not_found(lambda: self.jobs.delete(action.name))
        elif verb is plans.Verb.RECREATE:
            assert isinstance(desired, model.SchedulerJob)
            _ignore_not_found(lambda: self.jobs.delete(action.name))
            self.jobs.create(desired, action.owner)

    def _apply_subscription(self, action: plans.Action) -> None:
        desired, actual = action.desired, action.actual
        verb = action.verb
        if verb is plans.Verb.CREATE:
            assert isinstance(desired, model.Subscription)
            self.subscriptions.create(desired, action.owner)
        elif verb is plans.Verb.UPDATE:
            assert isinstance(desired, model.Subscription)
            if isinstance(actual, model.Subscription) and actual.labels:
                # Keep labels other tools put on the subscription; ours win on a clash.
                desired = dataclasses.replace(desired, labels={**actual.labels, **desired.labels})
            self.subscriptions.update(desired, action.owner, [d.field for d in action.drift])
        elif verb is plans.Verb.DELETE:
            _ignore_not_found(lambda: self.subscriptions.delete(action.name))
        elif verb is plans.Verb.RECREATE:
            assert isinstance(desired, model.Subscription)
            self.subscriptions.recreate(desired, action.owner)
        else:
            raise errors.InvalidArgument(
                f"Pub/Sub subscriptions cannot be {verb.value}d",
                operation=verb.value,
                resource=action.name,
            )


def _ignore_not_found(delete: Callable[[], None]) -> None:
    """Deleting something already gone is what we wanted."""
    with contextlib.suppress(errors.NotFound):
        delete()


def _describe(action: plans.Action) -> dict[str, object]:
    return {
        "verb": action.verb.value,
        "kind": action.kind.value,
        "name": action.name,
        "fields": [drift.field for drift in action.drift],
        "reason": action.reason,
    }
