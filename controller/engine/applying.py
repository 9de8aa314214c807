"""Applying one scope's plan: each write goes through the Google adapter, and is logged.

Nothing is written for a refused plan or in a dry run; a failed write is an `Outcome` with its
error, and the rest of the plan still goes ahead. A Create answered ALREADY_EXISTS (most often
the retry of one whose answer was lost) is read back and planned like a listed resource; what the
plan meant to do after that Create (the PAUSE of a job desired paused) is then left out, as it is
after a Create that failed.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable

import structlog

from controller.engine import progress, reports
from controller.gcp import errors, scheduler_jobs, subscriptions
from controller.planning import planner, plans, policies
from controller.registry import model

Adapter = scheduler_jobs.SchedulerJobs | subscriptions.Subscriptions
Logger = structlog.typing.FilteringBoundLogger


def describe(action: plans.Action) -> dict[str, object]:
    """An action as log fields."""
    return {
        "verb": action.verb.value,
        "kind": action.kind.value,
        "name": action.name,
        "fields": [drift.field for drift in action.drift],
        "reason": action.reason,
    }


class Writer:
    """Writes one scope's actions through its adapter (jobs of a location, or subscriptions of
    a project), logging each on the scope's logger."""

    def __init__(self, adapter: Adapter, log: Logger, policy: policies.Policy) -> None:
        self.adapter = adapter
        self.log = log
        self.policy = policy

    def apply(
        self, plan: plans.Plan, tracker: progress.Tracker, *, dry_run: bool
    ) -> tuple[reports.Outcome, ...]:
        """Every action's outcome; writes (each counted in `tracker`) only when the plan is not
        refused and this is no dry run. The actions after a Create that was read back or failed
        are settled by it: they have no outcome of their own and are not written."""
        outcomes: list[reports.Outcome] = []
        settled: set[str] = set()
        for action in plan.actions:
            if action.verb in plans.BLOCKED_VERBS:
                self.log.warning(action.verb.value, **describe(action))
            if not action.is_write or plan.refused or dry_run:
                if action.is_write and dry_run and not plan.refused:
                    self.log.info("action_planned", **describe(action), dry_run=True)
                outcomes.append(reports.Outcome(action))
            elif action.name in settled:
                # Planned for a resource this Create would have made; the read-back planned the
                # one that is there (perhaps not ours), and a failed Create left nothing.
                tracker.advance()
            elif action.verb is plans.Verb.CREATE:
                created, as_planned = self._create(action)
                outcomes.extend(created)
                if not as_planned:
                    settled.add(action.name)
                tracker.advance()
            else:
                outcomes.append(self._write(action))
                tracker.advance()
        return tuple(outcomes)

    def _create(self, create: plans.Action) -> tuple[tuple[reports.Outcome, ...], bool]:
        """The Create's outcomes, and whether it made the resource as planned (False when it
        failed, or met an existing resource that was read back instead)."""
        try:
            self._send(create)
        except errors.Conflict:
            return self._read_back(create), False
        except errors.ApiError as error:
            return (self._failed(create, error),), False
        return (self._applied(create),), True

    def _write(self, action: plans.Action) -> reports.Outcome:
        try:
            self._send(action)
        except errors.ApiError as error:
            return self._failed(action, error)
        return self._applied(action)

    def _send(self, action: plans.Action) -> None:
        if isinstance(self.adapter, scheduler_jobs.SchedulerJobs):
            _write_job(action, self.adapter)
        else:
            _write_subscription(action, self.adapter)

    def _read_back(self, create: plans.Action) -> tuple[reports.Outcome, ...]:
        """Read the resource a Create found existing and plan it like a listed one, against
        the whole desired state (ours and in line: the create is done)."""
        desired = create.desired
        assert desired is not None
        found: model.ObservedJob | model.ObservedSubscription
        try:
            found = self.adapter.get(create.name)
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
                outcomes.append(self._applied(create))
            elif action.is_write:
                outcomes.append(self._write(action))
            else:  # someone else's resource, or an immutable field we may not change
                self.log.warning(action.verb.value, **describe(action))
                outcomes.append(reports.Outcome(action))
        return tuple(outcomes)

    def _applied(self, action: plans.Action) -> reports.Outcome:
        self.log.info("action_applied", **describe(action))
        return reports.Outcome(action, applied=True)

    def _failed(self, action: plans.Action, error: errors.ApiError) -> reports.Outcome:
        self.log.error(
            "action_failed",
            **{**describe(action), "reason": error.reason},
            error=error.code,
            retryable=error.retryable,
        )
        return reports.Outcome(action, applied=True, error=error)


def _write_job(action: plans.Action, jobs: scheduler_jobs.SchedulerJobs) -> None:
    desired = action.desired
    verb = action.verb
    if verb is plans.Verb.CREATE:
        assert isinstance(desired, model.SchedulerJob)
        jobs.create(desired, action.owner)
    elif verb is plans.Verb.UPDATE:
        assert isinstance(desired, model.SchedulerJob)
        jobs.update(desired, action.owner, [drift.field for drift in action.drift])
    elif verb is plans.Verb.PAUSE:
        jobs.pause(action.name)
    elif verb is plans.Verb.RESUME:
        jobs.resume(action.name)
    elif verb is plans.Verb.DELETE:
        _ignore_not_found(lambda: jobs.delete(action.name))
    elif verb is plans.Verb.RECREATE:
        assert isinstance(desired, model.SchedulerJob)
        _ignore_not_found(lambda: jobs.delete(action.name))
        jobs.create(desired, action.owner)


def _write_subscription(action: plans.Action, subs: subscriptions.Subscriptions) -> None:
    desired, actual = action.desired, action.actual
    verb = action.verb
    if verb is plans.Verb.CREATE:
        assert isinstance(desired, model.Subscription)
        subs.create(desired, action.owner)
    elif verb is plans.Verb.UPDATE:
        assert isinstance(desired, model.Subscription)
        if isinstance(actual, model.Subscription) and actual.labels:
            # Keep labels other tools put on the subscription; ours win on a clash.
            desired = dataclasses.replace(desired, labels={**actual.labels, **desired.labels})
        subs.update(desired, action.owner, [d.field for d in action.drift])
    elif verb is plans.Verb.DELETE:
        _ignore_not_found(lambda: subs.delete(action.name))
    elif verb is plans.Verb.RECREATE:
        assert isinstance(desired, model.Subscription)
        subs.recreate(desired, action.owner)
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
