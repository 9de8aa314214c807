"""Many registries into one desired state; resources claimed by two sources become conflicts.

A contested resource is left out of every claimant's desired state and reported on each of
them, so two sources never take turns overwriting it. Pure data, no I/O.
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Sequence
from typing import Literal

from controller.registry import model

ConflictKind = Literal["scheduler_job", "subscription"]


@dataclasses.dataclass(frozen=True)
class Conflict:
    """A resource claimed by several sources; `kind` matches `plans.Kind` values."""

    kind: ConflictKind
    name: str  # job or subscription id
    project: str
    location: str  # "" for subscriptions, which are project-wide
    sources: tuple[str, ...]  # every claimant, sorted
    reason: str

    def __str__(self) -> str:
        return self.reason


@dataclasses.dataclass(frozen=True)
class Desired:
    """The usable registries (contested resources removed) and the conflicts found."""

    registries: tuple[model.Registry, ...] = ()
    conflicts: tuple[Conflict, ...] = ()


def merge(registries: Sequence[model.Registry]) -> Desired:
    """One desired state from many sources; see the module docstring for what a conflict does."""
    # One registry per source: a source read twice in a pass counts once, its last reading wins.
    registries = list({registry.source: registry for registry in registries}.values())
    conflicts = _resource_conflicts(registries)
    jobs = {(c.project, c.location, c.name) for c in conflicts if c.kind == "scheduler_job"}
    subs = {(c.project, c.name) for c in conflicts if c.kind == "subscription"}
    usable = [
        dataclasses.replace(
            registry,
            scheduler_jobs=tuple(
                job
                for job in registry.scheduler_jobs
                if (registry.project, registry.location, job.name) not in jobs
            ),
            subscriptions=tuple(
                sub for sub in registry.subscriptions if (registry.project, sub.name) not in subs
            ),
        )
        for registry in registries
    ]
    ordered = sorted(conflicts, key=lambda c: (c.kind, c.project, c.location, c.name))
    return Desired(registries=tuple(usable), conflicts=tuple(ordered))


def _resource_conflicts(registries: Sequence[model.Registry]) -> list[Conflict]:
    claims: dict[tuple[ConflictKind, str, str, str], set[str]] = collections.defaultdict(set)
    for registry in registries:
        for job in registry.scheduler_jobs:
            claims[("scheduler_job", registry.project, registry.location, job.name)].add(
                registry.source
            )
        for sub in registry.subscriptions:
            claims[("subscription", registry.project, "", sub.name)].add(registry.source)
    conflicts = []
    for (kind, project, location, name), sources in claims.items():
        if len(sources) < 2:
            continue
        claimants = tuple(sorted(sources))
        label = "scheduler job" if kind == "scheduler_job" else "subscription"
        conflicts.append(
            Conflict(
                kind=kind,
                name=name,
                project=project,
                location=location,
                sources=claimants,
                reason=f"{label} {name!r} in project {project!r} is claimed by "
                f"{' and '.join(claimants)}; left untouched until only one source declares it",
            )
        )
    return conflicts
