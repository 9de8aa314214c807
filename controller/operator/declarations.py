"""What each watched object declares: a registry, or the error that keeps it from changing one.

These are the values of kopf's in-memory indices (one per watched kind), so a pass always sees
every object the operator knows about. Only live ones reach the reconcile engine, each with its
registry, or while it is invalid, its last valid one (as `run` keeps a file's last good state).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from typing import Any

from controller.registry import custom_resources, errors, model

# kopf passes each index to handlers as a keyword argument named after the index's id.
CONFIGMAP_INDEX = "registry_configmaps"
CUSTOM_RESOURCE_INDICES = {
    custom_resources.PERIODIC_TASK: "periodic_tasks",
    custom_resources.SUBSCRIBER_TASK: "subscriber_tasks",
}
INDICES = (CONFIGMAP_INDEX, *CUSTOM_RESOURCE_INDICES.values())


@dataclasses.dataclass(frozen=True)
class Declared:
    """One watched object: what it declares and enough of it to post Events on it."""

    source: str  # e.g. "periodictask/shop/nightly-report", as in registry errors and conflicts
    ref: Mapping[str, Any]  # apiVersion, kind, metadata (name, namespace, uid) for kopf.event
    registry: model.Registry | None = None  # with `error`: the last valid one, still in use
    error: errors.RegistryError | None = None
    deleting: bool = False  # deletionTimestamp set: excluded from passes (deleted or abandoned)
    deletion_policy: str = custom_resources.DELETE
    generation: int | None = None

    @property
    def kind(self) -> str:
        return str(self.ref["kind"])

    @property
    def is_custom_resource(self) -> bool:
        return self.kind in custom_resources.PLURALS

    @property
    def usable(self) -> bool:
        """Has a registry (valid now, or valid before) and is not being deleted: it takes part
        in passes."""
        return self.registry is not None and not self.deleting

    @property
    def cloud_resource_name(self) -> str:
        if self.registry is None or not self.is_custom_resource:
            return ""
        return custom_resources.cloud_resource_name(self.registry)


def _ref(body: Mapping[str, Any]) -> dict[str, Any]:
    metadata = body.get("metadata", {})
    return {
        "apiVersion": body.get("apiVersion", "v1"),
        "kind": body.get("kind", "ConfigMap"),
        "metadata": {key: metadata[key] for key in ("name", "namespace", "uid") if key in metadata},
    }


def from_configmap(body: Mapping[str, Any]) -> Declared:
    """A registry ConfigMap exported by an app (`registry.json`)."""
    ref = _ref({**body, "apiVersion": "v1", "kind": "ConfigMap"})
    metadata = ref["metadata"]
    source = custom_resources.source("configmap", metadata["namespace"], metadata["name"])
    deleting = bool(body.get("metadata", {}).get("deletionTimestamp"))
    try:
        registry = custom_resources.registry_configmap(body)
    except errors.RegistryError as error:
        return Declared(source, ref, error=error, deleting=deleting)
    return Declared(source, ref, registry=registry, deleting=deleting)


def from_custom_resource(body: Mapping[str, Any], defaults: custom_resources.Defaults) -> Declared:
    """A PeriodicTask or SubscriberTask, with the controller's defaults filled in."""
    ref = _ref(body)
    metadata = body.get("metadata", {})
    source = custom_resources.source(ref["kind"], metadata["namespace"], metadata["name"])
    common = {
        "deleting": bool(metadata.get("deletionTimestamp")),
        "deletion_policy": custom_resources.deletion_policy(body),
        "generation": metadata.get("generation"),
    }
    try:
        registry = custom_resources.custom_resource(body, defaults)
    except errors.RegistryError as error:
        return Declared(source, ref, error=error, **common)
    return Declared(source, ref, registry=registry, **common)


def keeping_last_good(
    declared: Declared, last_good: MutableMapping[str, model.Registry]
) -> Declared:
    """`declared`, or while it is invalid its last valid registry with the error: an invalid
    object never shrinks the desired state. `last_good` is keyed by uid, so an object deleted
    and created again starts afresh."""
    key = str(declared.ref["metadata"].get("uid") or declared.source)
    if declared.registry is not None:
        last_good[key] = declared.registry
        return declared
    kept = last_good.get(key)
    if declared.error is None or kept is None:
        return declared
    return dataclasses.replace(declared, registry=kept)


Collect = Callable[[], Sequence[Declared]]  # what a pass calls to read the indices when it starts


def collect(indices: Mapping[str, Any]) -> tuple[Declared, ...]:
    """Every declaration in kopf's indices (handler kwargs), ordered by source."""
    found: dict[str, Declared] = {}
    for name in INDICES:
        index = indices.get(name)
        if index is None:
            continue
        for store in index.values():
            for declared in store:
                found[declared.source] = declared
    return tuple(found[source] for source in sorted(found))


def registries(declared: Iterable[Declared]) -> list[model.Registry]:
    """The registries of usable declarations: what a pass reconciles."""
    return [d.registry for d in declared if d.usable and d.registry is not None]
