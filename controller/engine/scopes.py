"""What one List reads: a location's scheduler jobs, or a project's subscriptions (project-wide).

A pass lists each scope once, plans it against the registries it covers and applies that plan.
Purely data.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Sequence

from controller.planning import plans
from controller.registry import model

Key = tuple[plans.Kind, str, str]  # (kind, project, location); location "" for subscriptions


@dataclasses.dataclass(frozen=True)
class Scope:
    """One kind in one place, and the registries whose resources of that kind live there."""

    kind: plans.Kind
    project: str
    location: str  # "" for subscriptions
    registries: tuple[model.Registry, ...] = ()

    @property
    def key(self) -> Key:
        return (self.kind, self.project, self.location)

    @property
    def parent(self) -> str:
        """Google's name of what is listed: `projects/p/locations/l` or `projects/p`."""
        if self.kind is plans.Kind.SCHEDULER_JOB:
            return f"projects/{self.project}/locations/{self.location}"
        return f"projects/{self.project}"


def keys(registry: model.Registry, kinds: Collection[plans.Kind]) -> list[Key]:
    """The scopes a registry takes part in: a registry without a location holds no jobs."""
    found: list[Key] = []
    if plans.Kind.SCHEDULER_JOB in kinds and registry.location:
        found.append((plans.Kind.SCHEDULER_JOB, registry.project, registry.location))
    if plans.Kind.SUBSCRIPTION in kinds:
        found.append((plans.Kind.SUBSCRIPTION, registry.project, ""))
    return found


def of(registries: Sequence[model.Registry], kinds: Iterable[plans.Kind]) -> list[Scope]:
    """Every scope of `registries` for `kinds`, sorted by kind, project and location."""
    wanted = frozenset(kinds)
    grouped: dict[Key, list[model.Registry]] = {}
    for registry in registries:
        for key in keys(registry, wanted):
            grouped.setdefault(key, []).append(registry)
    return [Scope(*key, registries=tuple(grouped[key])) for key in sorted(grouped)]
