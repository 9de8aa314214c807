"""The kopf handlers: thin. They read what an object declares, ask for a pass, write status once.

State lives in kopf's `memo` (a `Syncer`, the defaults, the resync interval, each object's last
valid registry) and in kopf's indices (what every watched object declares), so handlers hold
nothing themselves.
"""

from __future__ import annotations

import datetime
from typing import Any

import kopf
import structlog

from controller.operator import declarations, statuses
from controller.planning import plans
from controller.registry import custom_resources

log = structlog.get_logger()
GROUP, VERSION = custom_resources.GROUP, custom_resources.VERSION
RESYNC_LABEL = "gcptasks.dev/resync"  # on the controller's own heartbeat ConfigMap


def register(
    registry: kopf.OperatorRegistry,
    *,
    resync_seconds: float,
    resync_configmap: tuple[str, str] | None = None,
) -> None:
    """Attach every handler to `registry` (a fresh one per operator, never kopf's global one)."""
    # kopf's rudimentary logins: in a pod its service account, elsewhere $KUBECONFIG.
    kopf.on.login(id="service-account", registry=registry)(kopf.login_with_service_account)
    kopf.on.login(id="kubeconfig", registry=registry)(kopf.login_with_kubeconfig)
    registry_labels = dict(custom_resources.REGISTRY_LABELS)
    kopf.index(
        "configmaps", labels=registry_labels, id=declarations.CONFIGMAP_INDEX, registry=registry
    )(index_configmap)
    kopf.on.event("configmaps", labels=registry_labels, registry=registry)(
        registry_configmap_changed
    )
    for kind, plural in custom_resources.PLURALS.items():
        index_id = declarations.CUSTOM_RESOURCE_INDICES[kind]
        kopf.index(GROUP, VERSION, plural, id=index_id, registry=registry)(index_custom_resource)
        kopf.on.resume(GROUP, VERSION, plural, id="sync", registry=registry)(apply_spec)
        kopf.on.create(GROUP, VERSION, plural, id="sync", registry=registry)(apply_spec)
        kopf.on.update(GROUP, VERSION, plural, id="sync", registry=registry)(apply_changed_spec)
        kopf.on.delete(GROUP, VERSION, plural, id="cleanup", registry=registry)(delete_resource)
        # Creation and resumption sync at once; the timer takes over one interval later.
        kopf.timer(
            GROUP,
            VERSION,
            plural,
            id="resync",
            interval=resync_seconds,
            initial_delay=resync_seconds,
            registry=registry,
        )(resync_resource)
    if resync_configmap is not None:
        namespace, name = resync_configmap
        kopf.timer(
            "configmaps",
            id="resync",
            labels={RESYNC_LABEL: "true"},
            when=lambda body, **_: (
                (body.metadata.namespace, body.metadata.name) == (namespace, name)
            ),
            interval=resync_seconds,
            registry=registry,
        )(resync_everything)
    kopf.on.probe(id="reconcile", registry=registry)(last_pass)


def _collect(kwargs: dict[str, Any]) -> declarations.Collect:
    indices = {name: kwargs[name] for name in declarations.INDICES if name in kwargs}
    return lambda: declarations.collect(indices)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


async def index_configmap(
    body: kopf.Body, memo: kopf.Memo, **_: Any
) -> dict[str, declarations.Declared]:
    declared = declarations.keeping_last_good(declarations.from_configmap(body), memo.last_good)
    return {declared.source: declared}


async def index_custom_resource(
    body: kopf.Body, memo: kopf.Memo, **_: Any
) -> dict[str, declarations.Declared]:
    declared = declarations.from_custom_resource(body, memo.defaults)
    declared = declarations.keeping_last_good(declared, memo.last_good)
    return {declared.source: declared}


async def registry_configmap_changed(
    type: str | None, body: kopf.Body, memo: kopf.Memo, **kwargs: Any
) -> None:
    """A registry ConfigMap appeared or changed: reconcile now. Deleting one changes nothing."""
    if type == "DELETED":
        memo.last_good.pop(body.metadata.uid, None)
        return
    declared = declarations.from_configmap(body)
    if declared.error is not None:
        kept = body.metadata.uid in memo.last_good
        log.warning(
            "invalid_registry",
            source=declared.source,
            error=str(declared.error),
            kept_last_good=kept,
        )
        message = str(declared.error) + ("; its last valid registry stays in use" if kept else "")
        kopf.event(body, type="Warning", reason="InvalidRegistry", message=message)
        return
    await memo.syncer.fresh(_collect(kwargs))


async def apply_spec(body: kopf.Body, memo: kopf.Memo, patch: kopf.Patch, **kwargs: Any) -> None:
    """A PeriodicTask / SubscriberTask was created, or the operator (re)started."""
    declared = declarations.from_custom_resource(body, memo.defaults)
    await _sync(declared, body, memo, patch, kwargs, max_age=0.0)


async def apply_changed_spec(
    body: kopf.Body, old: Any, memo: kopf.Memo, patch: kopf.Patch, **kwargs: Any
) -> None:
    """The spec changed; a resource that now has another name is deleted (or abandoned)."""
    declared = declarations.from_custom_resource(body, memo.defaults)
    await _sync(declared, body, memo, patch, kwargs, max_age=0.0)
    before = declarations.from_custom_resource(
        {**body, "spec": (old or {}).get("spec")}, memo.defaults
    )
    # Only a valid new spec naming another resource moves it; an invalid one changes nothing.
    moved = (
        before.registry is not None
        and declared.registry is not None
        and before.cloud_resource_name != declared.cloud_resource_name
    )
    if moved and declared.deletion_policy == custom_resources.DELETE:
        await _delete(before, body, memo)


async def resync_resource(
    body: kopf.Body, memo: kopf.Memo, patch: kopf.Patch, **kwargs: Any
) -> None:
    """The timer: find drift made in the cloud even when nothing happens in Kubernetes."""
    declared = declarations.from_custom_resource(body, memo.defaults)
    if declared.deleting:
        return
    await _sync(declared, body, memo, patch, kwargs, max_age=memo.resync_seconds / 2)


async def resync_everything(memo: kopf.Memo, **kwargs: Any) -> None:
    """The heartbeat ConfigMap's timer: resync registry ConfigMaps when no custom resource does."""
    await memo.syncer.fresh(_collect(kwargs), max_age=memo.resync_seconds / 2)


async def delete_resource(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    """The finalizer's work: delete the cloud resource, or leave it with `Abandon`."""
    memo.last_good.pop(body.metadata.uid, None)
    declared = declarations.from_custom_resource(body, memo.defaults)
    if declared.deletion_policy == custom_resources.ABANDON:
        name = declared.cloud_resource_name or "the cloud resource"
        kopf.event(body, type="Normal", reason="Abandoned", message=f"left {name} in place")
        return
    if declared.registry is None:
        message = "the spec is invalid, so its cloud resource is unknown: nothing was deleted"
        kopf.event(body, type="Warning", reason="NotDeleted", message=message)
        return
    await _delete(declared, body, memo)


async def last_pass(memo: kopf.Memo, **_: Any) -> dict[str, Any] | None:
    """Liveness details: when the last pass finished and whether it converged."""
    latest = memo.syncer.latest
    if latest is None:
        return None
    return {"finished": statuses.timestamp(latest.finished_at), "converged": latest.converged}


async def _sync(
    declared: declarations.Declared,
    body: kopf.Body,
    memo: kopf.Memo,
    patch: kopf.Patch,
    kwargs: dict[str, Any],
    *,
    max_age: float,
) -> None:
    if declared.error is not None:
        # Left out of every pass: its cloud resource stays exactly as it is.
        log.warning("invalid_custom_resource", source=declared.source, error=str(declared.error))
        status = statuses.status(declared, body.get("status"), None, _now())
        if status["conditions"] != body.get("status", {}).get("conditions"):
            kopf.event(body, type="Warning", reason="InvalidSpec", message=str(declared.error))
        patch.status.update(status)
        return
    sync = await memo.syncer.fresh(_collect(kwargs), max_age=max_age)
    result = sync.result(declared.source)
    patch.status.update(statuses.status(declared, body.get("status"), result, sync.finished_at))


async def _delete(declared: declarations.Declared, body: kopf.Body, memo: kopf.Memo) -> None:
    report = await memo.syncer.delete(declared)
    if report.failures:
        reasons = "; ".join(str(failure) for failure in report.failures)
        kopf.event(body, type="Warning", reason="DeleteFailed", message=reasons)
        raise kopf.TemporaryError(
            f"deleting {declared.cloud_resource_name} failed: {reasons}", delay=30
        )
    deleted = any(o.applied and o.action.verb is plans.Verb.DELETE for o in report.outcomes)
    message = (
        f"deleted {declared.cloud_resource_name}"
        if deleted
        else (f"{declared.cloud_resource_name} was already gone (or not ours)")
    )
    kopf.event(body, type="Normal", reason="Deleted", message=message)
