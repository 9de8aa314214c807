"""Applying one scope's plan: each write goes through the Google adapter, and is logged.

Nothing is written for a refused plan or in a dry run; a failed write is an `Outcome` with its
error, and the rest of the plan still goes ahead.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable

import structlog

from controller.engine import reports
from controller.gcp import errors, scheduler_jobs, subscriptions
from controller.planning import plans
from controller.registry import model

Adapter = scheduler_jobs.SchedulerJobs | subscriptions.Subscriptions
Logger = structlog.typing.FilteringBoundLogger


def apply(
    plan: plans.Plan, adapter: Adapter, log: Logger, *, dry_run: bool
) -> tuple[reports.Outcome, ...]:
    """Every action's outcome; writes only when the plan is not refused and this is no dry run."""
    outcomes = []
    for action in plan.actions:
        if action.verb in (plans.Verb.RECREATE_NEEDED, plans.Verb.CONFLICT):
            log.warning(action.verb.value, **describe(action))
        if not action.is_write or plan.refused or dry_run:
            if action.is_write and dry_run and not plan.refused:
                log.info("action_planned", **describe(action), dry_run=True)
            outcomes.append(reports.Outcome(action))
            continue
        outcomes.append(_apply(action, adapter, log))
    return tuple(outcomes)


def describe(action: plans.Action) -> dict[str, object]:
    """An action as log fields."""
    return {
        "verb": action.verb.value,
        "kind": action.kind.value,
        "name": action.name,
        "fields": [drift.field for drift in action.drift],
        "reason": action.reason,
    }


def _apply(action: plans.Action, adapter: Adapter, log: Logger) -> reports.Outcome:
    try:
        if isinstance(adapter, scheduler_jobs.SchedulerJobs):
            _apply_job(action, adapter)
        else:
            _apply_subscription(action, adapter)
    except errors.ApiError as error:
        log.error(
            "action_failed",
            **{**describe(action), "reason": error.reason},
            error=error.code,
            retryable=error.retryable,
        )
        return reports.Outcome(action, applied=True, error=error)
    log.info("action_applied", **describe(action))
    return reports.Outcome(action, applied=True)


def _apply_job(action: plans.Action, jobs: scheduler_jobs.SchedulerJobs) -> None:
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


def _apply_subscription(action: plans.Action, subs: subscriptions.Subscriptions) -> None:
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
