"""The output of planning: what to do to each resource, and why.

Purely data. `Drift.field` is the update-mask path in Google's API (`schedule`,
`http_target.uri`, `push_config`, ...) so adapters can write masks directly; the only
exceptions are `paused` (on PAUSE/RESUME actions) and the immutable `topic` (on RECREATE*).
Actions are ordered by (kind, name); for one resource an UPDATE or CREATE comes before the
PAUSE/RESUME that follows it (a job desired paused is created, then paused).
"""

from __future__ import annotations

import dataclasses
import enum

from controller.registry import model


class Kind(enum.StrEnum):
    SCHEDULER_JOB = "scheduler_job"
    SUBSCRIPTION = "subscription"


class Verb(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"  # only the fields in `drift`
    PAUSE = "pause"
    RESUME = "resume"
    DELETE = "delete"
    RECREATE = "recreate"  # an immutable field differs and recreation is allowed
    RECREATE_NEEDED = "recreate_needed"  # an immutable field differs; recreation not allowed
    UNCHANGED = "unchanged"
    ORPHAN_KEPT = "orphan_kept"  # owned but no longer desired, kept by the orphan policy
    CONFLICT = "conflict"  # desired, but the name is taken by a resource we do not own, or
    # claimed by two sources: never written, `reason` says why


WRITE_VERBS = frozenset(
    {Verb.CREATE, Verb.UPDATE, Verb.PAUSE, Verb.RESUME, Verb.DELETE, Verb.RECREATE}
)
# Differences the controller may not remove on its own: never written, always reported.
BLOCKED_VERBS = frozenset({Verb.RECREATE_NEEDED, Verb.CONFLICT})


@dataclasses.dataclass(frozen=True, slots=True)
class Drift:
    field: str
    desired: object
    actual: object


Resource = model.SchedulerJob | model.Subscription


@dataclasses.dataclass(frozen=True, slots=True)
class Action:
    kind: Kind
    name: str
    verb: Verb
    desired: Resource | None = None
    actual: Resource | None = None
    drift: tuple[Drift, ...] = ()
    reason: str = ""
    owner: str = ""  # the owner whose marker a write must carry (and which owns what it deletes)

    @property
    def is_write(self) -> bool:
        return self.verb in WRITE_VERBS


@dataclasses.dataclass(frozen=True)
class Plan:
    actions: tuple[Action, ...] = ()
    refused: str = ""  # non-empty: the plan must not be applied (e.g. too many deletions)

    @property
    def writes(self) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if a.is_write)
