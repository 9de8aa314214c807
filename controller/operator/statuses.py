"""The status of a PeriodicTask / SubscriberTask after a pass: conditions, names, times.

Purely data. `Ready` says whether the cloud resource matches the spec; `Synced` whether the
controller could compare them at all. A condition's `lastTransitionTime` moves only when its
status does, as Kubernetes conventions (and `kubectl wait`) expect.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable, Mapping
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
_NOT_READY = {
    reports.Cause.CONFLICT: "Conflict",
    reports.Cause.LIST_FAILED: "ApiError",
    reports.Cause.WRITE_FAILED: "ApiError",
    reports.Cause.REFUSED: "PlanRefused",
    reports.Cause.RECREATE_NEEDED: "RecreateNeeded",
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


def verdict(declared: declarations.Declared, result: reports.SourceResult | None) -> Verdict:
    """What the last pass's result for this object means for its resource."""
    if declared.error is not None:
        message = "; ".join(f"{e.path}: {e.message}" for e in declared.error.errors)
        return Verdict(FALSE, "InvalidSpec", message, FALSE, "InvalidSpec", message)
    name = declared.cloud_resource_name
    in_sync = (TRUE, "Synced", f"compared {name} with the spec")
    if result is not None and result.problems:
        problem = result.problems[0]
        reason = _NOT_READY[problem.cause]
        if problem.api_failure:
            return Verdict(FALSE, reason, problem.message, FALSE, reason, problem.message)
        return Verdict(FALSE, reason, problem.message, *in_sync)
    outcomes = result.outcomes if result is not None else ()
    written = [o for o in outcomes if o.applied and o.action.verb in _WRITTEN]
    if written:
        fields = sorted({d.field for o in written for d in o.action.drift})
        what = f" ({', '.join(fields)})" if fields else ""
        message = f"{written[0].action.verb.value}d {name}{what}"
        return Verdict(TRUE, _WRITTEN[written[0].action.verb], message, *in_sync)
    if any(o.action.verb is plans.Verb.UNCHANGED for o in outcomes):
        return Verdict(TRUE, "UpToDate", f"{name} matches the spec", *in_sync)
    message = "waiting for the first reconcile pass"
    return Verdict(UNKNOWN, "Pending", message, UNKNOWN, "Pending", message)


def conditions(
    previous: Iterable[Mapping[str, Any]],
    found: Verdict,
    generation: int | None,
    now: datetime.datetime,
) -> list[dict[str, Any]]:
    """Ready and Synced, keeping `lastTransitionTime` when a status did not change."""
    before = {c.get("type"): c for c in previous if isinstance(c, Mapping)}
    wanted = (
        (READY, found.ready, found.reason, found.message),
        (SYNCED, found.synced, found.synced_reason, found.synced_message),
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
    result: reports.SourceResult | None,
    now: datetime.datetime,
) -> dict[str, Any]:
    """The whole `status` to patch: conditions, observedGeneration, names and sync time."""
    previous = previous or {}
    found = verdict(declared, result)
    patch: dict[str, Any] = {
        "conditions": conditions(previous.get("conditions") or (), found, declared.generation, now),
        "cloudResourceName": declared.cloud_resource_name or previous.get("cloudResourceName"),
    }
    if declared.generation is not None:
        patch["observedGeneration"] = declared.generation
    if found.synced == TRUE:
        patch["lastSyncTime"] = timestamp(now)
    return patch
