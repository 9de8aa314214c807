"""Kubernetes Events for what a pass found, posted on the object that declares each resource.

Drift (a resource changed or deleted behind the controller's back) is posted every time it is
found; standing problems (conflicts, failures, refusals) only when they first appear, so a
resync every few minutes does not bury `kubectl describe` in copies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import kopf

from controller.engine import reports
from controller.operator import declarations
from controller.planning import plans
from controller.registry import model

Standing = tuple[str, str, str]  # (source, reason, message) of a standing problem's Event
Post = Callable[..., None]  # kopf.event's signature: (ref, *, type, reason, message)
_CORRECTING = frozenset({plans.Verb.UPDATE, plans.Verb.PAUSE, plans.Verb.RESUME})
_REASONS = {
    reports.Cause.CONFLICT: "Conflict",
    reports.Cause.LIST_FAILED: "SyncFailed",
    reports.Cause.WRITE_FAILED: "SyncFailed",
    reports.Cause.REFUSED: "PlanRefused",
    reports.Cause.RECREATE_NEEDED: "RecreateNeeded",
}


class Reporter:
    """Posts a pass's Events; remembers what it posted to tell drift from spec changes."""

    def __init__(self, post: Post = kopf.event) -> None:
        self._post = post
        self._registries: dict[str, model.Registry] = {}
        self._problems: set[Standing] = set()

    def post(
        self, declared: Sequence[declarations.Declared], report: reports.PassReport | None
    ) -> None:
        """The Events of one pass (None: nothing was declared) for every usable object."""
        usable = [d for d in declared if d.usable]
        problems: set[Standing] = set()
        for item in usable:
            result = report.for_source(item.source) if report is not None else None
            if result is None:
                continue
            problems.update((item.source, _REASONS[p.cause], p.message) for p in result.problems)
            for outcome in result.written:
                if outcome.action.desired is not None:  # orphans are no spec of this object
                    self._written(item, outcome)
        by_source = {d.source: d for d in usable}
        for problem in sorted(problems - self._problems):
            self._post(
                by_source[problem[0]].ref, type="Warning", reason=problem[1], message=problem[2]
            )
        self._problems = problems
        self._registries = {d.source: d.registry for d in usable if d.registry is not None}

    def _written(self, item: declarations.Declared, outcome: reports.Outcome) -> None:
        action = outcome.action
        unchanged_spec = self._registries.get(item.source) == item.registry
        if action.verb is plans.Verb.CREATE:
            if unchanged_spec:
                message = f"{action.kind.value} {action.name} was missing; created it again"
                self._post(item.ref, type="Warning", reason="DriftDetected", message=message)
            else:
                self._post(
                    item.ref, type="Normal", reason="Created", message=f"created {action.name}"
                )
        elif action.verb in _CORRECTING and action.actual is not None:
            changes = _describe(action.drift)
            if unchanged_spec:
                message = f"{action.name} changed outside the controller: {changes}; corrected"
                self._post(item.ref, type="Warning", reason="DriftDetected", message=message)
            else:
                message = f"applied the spec to {action.name}: {changes}"
                self._post(item.ref, type="Normal", reason="Updated", message=message)
        elif action.verb is plans.Verb.RECREATE:
            message = f"recreated {action.name}: {_describe(action.drift)}"
            self._post(item.ref, type="Normal", reason="Recreated", message=message)


def _describe(drift: Iterable[plans.Drift]) -> str:
    return "; ".join(f"{d.field} was {d.actual!r}, wanted {d.desired!r}" for d in drift)
