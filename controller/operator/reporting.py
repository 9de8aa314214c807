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

Problem = tuple[str, str, str]  # (source, reason, message)
Post = Callable[..., None]  # kopf.event's signature: (ref, *, type, reason, message)
_CORRECTING = frozenset({plans.Verb.UPDATE, plans.Verb.PAUSE, plans.Verb.RESUME})


class Reporter:
    """Posts a pass's Events; remembers what it posted to tell drift from spec changes."""

    def __init__(self, post: Post = kopf.event) -> None:
        self._post = post
        self._registries: dict[str, model.Registry] = {}
        self._problems: set[Problem] = set()

    def post(
        self, declared: Sequence[declarations.Declared], outcome: Sequence[reports.PassReport]
    ) -> None:
        usable = [d for d in declared if d.usable]
        problems: set[Problem] = set()
        for report in outcome:
            for conflict in report.conflicts:
                for item in usable:
                    if item.source in conflict.sources:
                        problems.add((item.source, "Conflict", conflict.reason))
            for scope in report.scopes:
                self._scope(scope, usable, problems)
        by_source = {d.source: d for d in usable}
        for problem in sorted(problems - self._problems):
            self._post(
                by_source[problem[0]].ref, type="Warning", reason=problem[1], message=problem[2]
            )
        self._problems = problems
        self._registries = {d.source: d.registry for d in usable if d.registry is not None}

    def _scope(
        self,
        scope: reports.ScopeReport,
        usable: Sequence[declarations.Declared],
        problems: set[Problem],
    ) -> None:
        in_scope = [d for d in usable if d.in_scope(scope.project, scope.location)]
        if scope.error is not None:
            problems.update(
                (d.source, "SyncFailed", f"listing failed: {scope.error}") for d in in_scope
            )
            return
        refused = scope.plan.refused if scope.plan is not None else ""
        for outcome in scope.outcomes:
            action = outcome.action
            for item in (d for d in in_scope if d.declares(action)):
                if refused:
                    problems.add((item.source, "PlanRefused", refused))
                elif outcome.error is not None:
                    message = f"{action.verb.value} {action.name} failed: {outcome.error}"
                    problems.add((item.source, "SyncFailed", message))
                elif action.verb in (plans.Verb.CONFLICT, plans.Verb.RECREATE_NEEDED):
                    reason = "Conflict" if action.verb is plans.Verb.CONFLICT else "RecreateNeeded"
                    problems.add((item.source, reason, action.reason))
                elif outcome.applied:
                    self._written(item, outcome)

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
