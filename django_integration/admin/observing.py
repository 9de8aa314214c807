"""What the task pages show: each declared task's desired state beside the cloud's, read with one
List per page view through the controller's adapters, compared by the controller's own planner.

Nothing here raises for a cloud, database or settings problem: it becomes one of the listing's
`errors`, shown on the page, and the declared tasks are still listed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from django.core.exceptions import ImproperlyConfigured

from controller.gcp import calling, errors, scheduler_jobs, subscriptions
from controller.planning import planner, plans
from controller.registry import model
from django_integration import clients, models, pausing, registry

T = TypeVar("T")
# A person is waiting: one quick second try for a flaky answer, never the controller's backoff.
PAGE_BACKOFF = calling.Backoff(attempts=2, base=0.1, cap=0.5)


@dataclasses.dataclass(frozen=True)
class Listing(Generic[T]):
    rows: tuple[T, ...] = ()
    errors: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class PeriodicRow:
    """One declared periodic task: its job as desired (admin pause included) and as listed."""

    task: str  # the class name or django.tasks module path its executions are filed under
    job: model.SchedulerJob
    paused_in_code: bool
    pause: models.JobPause | None
    live: scheduler_jobs.LiveJob | None  # None: not in the cloud, or the cloud was not read
    actions: tuple[plans.Action, ...] | None  # the planner's verdict; None: cloud not read

    @property
    def in_line(self) -> bool | None:
        """The cloud matches the desired state; None when the cloud was not read."""
        return _in_line(self.actions)

    @property
    def notes(self) -> tuple[str, ...]:
        """Where the cloud differs, in words (a pause or resume not applied yet included)."""
        return _notes(self.actions)


@dataclasses.dataclass(frozen=True)
class SubscriberRow:
    """One declared subscriber task: its subscription as desired and as listed."""

    task: str
    subscription: model.Subscription
    observed: model.Subscription | None
    actions: tuple[plans.Action, ...] | None

    @property
    def in_line(self) -> bool | None:
        """The cloud matches the desired state; None when the cloud was not read."""
        return _in_line(self.actions)

    @property
    def notes(self) -> tuple[str, ...]:
        """Where the cloud differs, in words (a pause or resume not applied yet included)."""
        return _notes(self.actions)


def scheduler(calls: calling.Calls, desired: model.Registry) -> scheduler_jobs.SchedulerJobs:
    """The Cloud Scheduler adapter for the app's location, over the process's one client."""
    shared = clients.shared()
    return scheduler_jobs.SchedulerJobs(shared.scheduler, calls, desired.project, desired.location)


def periodic_tasks() -> Listing[PeriodicRow]:
    problems: list[str] = []
    try:
        declared = registry.periodic_jobs()
        desired = registry.build()
    except ImproperlyConfigured as error:
        return Listing(errors=(str(error),))
    try:
        pauses = pausing.stored()
    except pausing.PausesUnreadable as error:
        problems.append(f"Admin pauses unknown: {error}")
        pauses = {}
    desired = pausing.overlay(desired, pauses)
    calls = calling.Calls(backoff=PAGE_BACKOFF)
    listed = _read(lambda: scheduler(calls, desired).list_live(), "Cloud Scheduler", problems)
    actions: dict[str, list[plans.Action]] = {}
    if listed is not None:
        plan = planner.plan([desired], [live.observed for live in listed], None)
        actions = _by_name(plan.actions)
    live = {job.observed.job.name: job for job in listed or ()}
    jobs = {job.name: job for job in desired.scheduler_jobs}
    rows = tuple(
        PeriodicRow(
            task=task,
            job=jobs[job.name],
            paused_in_code=job.paused,
            pause=pauses.get(job.name),
            live=live.get(job.name),
            actions=None if listed is None else tuple(actions.get(job.name, ())),
        )
        for task, job in declared
    )
    return Listing(rows, tuple(problems))


def subscriber_tasks() -> Listing[SubscriberRow]:
    problems: list[str] = []
    try:
        declared = registry.subscriber_subscriptions()
        desired = registry.build()
    except ImproperlyConfigured as error:
        return Listing(errors=(str(error),))
    calls = calling.Calls(backoff=PAGE_BACKOFF)

    def list_subscriptions() -> list[model.ObservedSubscription]:
        shared = clients.shared()
        project = desired.project
        return subscriptions.Subscriptions(
            shared.subscriber, shared.publisher, calls, project
        ).list()

    listed = _read(list_subscriptions, "Pub/Sub", problems)
    actions: dict[str, list[plans.Action]] = {}
    if listed is not None:
        actions = _by_name(planner.plan([desired], None, listed).actions)
    observed = {sub.subscription.name: sub.subscription for sub in listed or ()}
    rows = tuple(
        SubscriberRow(
            task=task,
            subscription=subscription,
            observed=observed.get(subscription.name),
            actions=None if listed is None else tuple(actions.get(subscription.name, ())),
        )
        for task, subscription in declared
    )
    return Listing(rows, tuple(problems))


def _read(list_all: Callable[[], list[T]], service: str, problems: list[str]) -> list[T] | None:
    try:
        return list_all()
    except errors.ApiError as error:
        problems.append(f"{service} could not be read: {error.reason}")
        return None


def _by_name(actions: Sequence[plans.Action]) -> dict[str, list[plans.Action]]:
    found: dict[str, list[plans.Action]] = {}
    for action in actions:
        found.setdefault(action.name, []).append(action)
    return found


_WAITING = {
    plans.Verb.CREATE: "not in the cloud yet: the controller creates it",
    plans.Verb.PAUSE: "paused here, still enabled in the cloud: the controller pauses it",
    plans.Verb.RESUME: "paused in the cloud, not here: the controller resumes it",
}


def _in_line(actions: tuple[plans.Action, ...] | None) -> bool | None:
    if actions is None:
        return None
    return all(action.verb is plans.Verb.UNCHANGED for action in actions)


def _notes(actions: tuple[plans.Action, ...] | None) -> tuple[str, ...]:
    notes: list[str] = []
    for action in actions or ():
        if action.verb in _WAITING:
            notes.append(_WAITING[action.verb])
        elif action.verb is plans.Verb.UPDATE:
            fields = ", ".join(drift.field for drift in action.drift)
            notes.append(f"differs ({fields}): the controller updates it")
        elif action.verb is not plans.Verb.UNCHANGED:
            notes.append(action.reason or action.verb.value)
    return tuple(notes)
