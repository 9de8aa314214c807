"""The status of a PeriodicTask / SubscriberTask after a pass: conditions, names, times.

Purely data. `Ready` says whether the cloud resource matches the spec; `Synced` whether the
controller could compare them at all. A condition's `lastTransitionTime` moves only when its
status does, as Kubernetes conventions (and `kubectl wait`) expect.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from controller.engine import reports
from controller.operator import declarations
from controller.planning import plans

READY, SYNCED = "Ready", "Synced"
TRUE, FALSE, UNKNOWN = "True", "False", "Unknown"
_WRITTEN = {
    plans.Verb.CREATE: "Created",
    plans.Verb.UPDATE: "Updated",
    plans.Verb.PAUSE: "Updated",
    plans.Verb.RESUME: "Updated",
    plans.Verb.RECREATE: "Recreated",
}


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The two conditions' status, reason and message for one object."""

    ready: str
    reason: str
    message: str
    synced: str
    synced_reason: str
    synced_message: str


def timestamp(moment: datetime.datetime) -> str:
    """RFC 3339 in UTC with a `Z`, to the second, as Kubernetes writes times."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def verdict(declared: declarations.Declared, outcome: Sequence[reports.PassReport]) -> Verdict:
    """What the last pass means for this object's resource."""
    if declared.error is not None:
        message = "; ".join(f"{e.path}: {e.message}" for e in declared.error.errors)
        return Verdict(FALSE, "InvalidSpec", message, FALSE, "InvalidSpec", message)
    name = declared.cloud_resource_name
    in_sync = (TRUE, "Synced", f"compared {name} with the spec")
    for report in outcome:
        for conflict in report.conflicts:
            if declared.source in conflict.sources:
                return Verdict(FALSE, "Conflict", conflict.reason, *in_sync)
    scopes = [
        scope
        for report in outcome
        for scope in report.scopes
        if declared.in_scope(scope.project, scope.location)
    ]
    for scope in scopes:
        if scope.error is not None:
            message = f"listing failed: {scope.error}"
            return Verdict(FALSE, "ApiError", message, FALSE, "ApiError", message)
    mine = [o for scope in scopes for o in scope.outcomes if declared.declares(o.action)]
    for found in mine:
        if found.error is not None:
            message = f"{found.action.verb.value} failed: {found.error}"
            return Verdict(FALSE, "ApiError", message, FALSE, "ApiError", message)
    for scope in scopes:
        if scope.plan is not None and scope.plan.refused and mine:
            return Verdict(FALSE, "PlanRefused", scope.plan.refused, *in_sync)
    for found in mine:
        if found.action.verb is plans.Verb.CONFLICT:
            return Verdict(FALSE, "Conflict", found.action.reason, *in_sync)
        if found.action.verb is plans.Verb.RECREATE_NEEDED:
            return Verdict(FALSE, "RecreateNeeded", found.action.reason, *in_sync)
    written = [o for o in mine if o.applied and o.action.verb in _WRITTEN]
    if written:
        fields = sorted({d.field for o in written for d in o.action.drift})
        what = f" ({', '.join(fields)})" if fields else ""
        message = f"{written[0].action.verb.value}d {name}{what}"
        return Verdict(TRUE, _WRITTEN[written[0].action.verb], message, *in_sync)
    if any(o.action.verb is plans.Verb.UNCHANGED for o in mine):
        return Verdict(TRUE, "UpToDate", f"{name} matches the spec", *in_sync)
    message = "waiting for the first reconcile pass"
    return Verdict(UNKNOWN, "Pending", message, UNKNOWN, "Pending", message)


def conditions(
    previous: Iterable[Mapping[str, Any]],
    result: Verdict,
    generation: int | None,
    now: datetime.datetime,
) -> list[dict[str, Any]]:
    """Ready and Synced, keeping `lastTransitionTime` when a status did not change."""
    before = {c.get("type"): c for c in previous if isinstance(c, Mapping)}
    wanted = (
        (READY, result.ready, result.reason, result.message),
        (SYNCED, result.synced, result.synced_reason, result.synced_message),
    )
    updated = []
    for kind, status, reason, message in wanted:
        old = before.get(kind, {})
        changed = old.get("status") != status or "lastTransitionTime" not in old
        condition: dict[str, Any] = {
            "type": kind,
            "status": status,
            "reason": reason,
            "message": message,
            "lastTransitionTime": timestamp(now) if changed else old["lastTransitionTime"],
        }
        if generation is not None:
            condition["observedGeneration"] = generation
        updated.append(condition)
    return updated


def status(
    declared: declarations.Declared,
    previous: Mapping[str, Any] | None,
    outcome: Sequence[reports.PassReport],
    now: datetime.datetime,
) -> dict[str, Any]:
    """The whole `status` to patch: conditions, observedGeneration, names and sync time."""
    previous = previous or {}
    result = verdict(declared, outcome)
    patch: dict[str, Any] = {
        "conditions": conditions(
            previous.get("conditions") or (), result, declared.generation, now
        ),
        "cloudResourceName": declared.cloud_resource_name or previous.get("cloudResourceName"),
    }
    if declared.generation is not None:
        patch["observedGeneration"] = declared.generation
    if result.synced == TRUE:
        patch["lastSyncTime"] = timestamp(now)
    return patch
