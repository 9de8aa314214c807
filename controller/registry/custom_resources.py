"""PeriodicTask / SubscriberTask custom resources and registry ConfigMaps as `model.Registry`.

Purely data. A custom resource becomes a one-resource TaskRegistry document checked by
`documents.parse`, so objects applied with kubectl obey exactly the registry's rules; errors
name the object and the path in *its* body (`$.spec.httpTarget.uri`, not the document's).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from controller.registry import documents, errors, model

GROUP = "gcptasks.dev"
VERSION = "v1"
PERIODIC_TASK = "PeriodicTask"
SUBSCRIBER_TASK = "SubscriberTask"
PLURALS = {PERIODIC_TASK: "periodictasks", SUBSCRIBER_TASK: "subscribertasks"}
REGISTRY_LABEL = "gcptasks.dev/registry"
REGISTRY_LABELS = MappingProxyType({REGISTRY_LABEL: "true"})  # a ConfigMap the controller reads
REGISTRY_KEY = "registry.json"  # the ConfigMap data key holding the document
DELETE, ABANDON = "Delete", "Abandon"
DELETION_POLICIES = (DELETE, ABANDON)

_SLUG = re.compile(r"^[A-Za-z0-9_-]{1,200}$")
_OWNER_UNSAFE = re.compile(r"[^a-z0-9-]")
_COMMON_FIELDS = frozenset({"project", "affix", "delimiter", "name", "deletionPolicy"})
_JOB_FIELDS = frozenset(
    {"schedule", "timeZone", "description", "paused", "httpTarget", "retryConfig"}
    | {"attemptDeadline"}
)
_SUBSCRIPTION_FIELDS = frozenset(
    {"topic", "pushEndpoint", "oidcToken", "ackDeadlineSeconds", "enableMessageOrdering"}
    | {"filter", "deadLetterPolicy", "retryPolicy", "messageRetentionDuration", "labels"}
    | {"createTopic"}
)
# Subscriptions are project-wide, so a SubscriberTask's registry has no location (""). The
# document it is checked as still needs one, and its owner marker has always hashed this one in:
# changing it would disown every subscription made so far.
_SUBSCRIPTION_LOCATION = "global"


@dataclasses.dataclass(frozen=True)
class Defaults:
    """The controller's settings for custom resources that leave these fields out."""

    project: str = ""
    location: str = ""


def source(kind: str, namespace: str, name: str) -> str:
    """How an object is named in errors, conflicts and logs: `periodictask/shop/nightly`."""
    return f"{kind.lower()}/{namespace}/{name}"


def owner(kind: str, namespace: str, name: str, scope: str, resource: str) -> str:
    """The ownership marker of one custom resource's cloud resource: a valid label value.

    It covers the cloud identity too, so a renamed or moved resource stops being owned (and is
    left alone) instead of becoming an orphan of the object that now declares another one.
    """
    digest = hashlib.sha256(f"{kind}/{namespace}/{name}/{scope}/{resource}".encode()).hexdigest()
    # "_" never occurs in Kubernetes names, so it separates namespace and name unambiguously.
    readable = "_".join(_OWNER_UNSAFE.sub("-", part) for part in (namespace, name))[:50]
    return f"{readable}_{digest[:12]}"


def deletion_policy(body: Mapping[str, Any]) -> str:
    """`Delete` or `Abandon`; anything else counts as the safe choice, `Abandon`."""
    spec = body.get("spec")
    policy = spec.get("deletionPolicy", DELETE) if isinstance(spec, Mapping) else DELETE
    return policy if policy in DELETION_POLICIES else ABANDON


def scheduler_job_path(project: str, location: str, name: str) -> str:
    return f"projects/{project}/locations/{location}/jobs/{name}"


def subscription_path(project: str, name: str) -> str:
    return f"projects/{project}/subscriptions/{name}"


def cloud_resource_name(registry: model.Registry) -> str:
    """The full Google name of the one resource a custom resource's registry declares."""
    for job in registry.scheduler_jobs:
        return scheduler_job_path(registry.project, registry.location, job.name)
    for subscription in registry.subscriptions:
        return subscription_path(registry.project, subscription.name)
    return ""


def periodic_task(body: Mapping[str, Any], defaults: Defaults = Defaults()) -> model.Registry:
    """The registry of one PeriodicTask (one scheduler job); raises `RegistryError`."""
    return _custom_resource(body, PERIODIC_TASK, defaults)


def subscriber_task(body: Mapping[str, Any], defaults: Defaults = Defaults()) -> model.Registry:
    """The registry of one SubscriberTask (one push subscription); raises `RegistryError`."""
    return _custom_resource(body, SUBSCRIBER_TASK, defaults)


def custom_resource(body: Mapping[str, Any], defaults: Defaults = Defaults()) -> model.Registry:
    """The registry of a PeriodicTask or SubscriberTask, chosen by its `kind`."""
    kind = body.get("kind")
    if kind not in PLURALS:
        where = _where(body, str(kind).lower())
        raise errors.RegistryError(where, "$.kind", f"expected one of {sorted(PLURALS)}")
    return _custom_resource(body, str(kind), defaults)


def registry_configmap(body: Mapping[str, Any]) -> model.Registry:
    """The registry a Django app exported into a ConfigMap under `registry.json`."""
    where = _where(body, "configmap")
    data = body.get("data")
    if not isinstance(data, Mapping) or REGISTRY_KEY not in data:
        raise errors.RegistryError(where, "$.data", f"no {REGISTRY_KEY!r} key with a registry")
    return documents.parse(data[REGISTRY_KEY], where)


def _where(body: Mapping[str, Any], kind: str) -> str:
    metadata = body.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    return source(kind, str(metadata.get("namespace", "")), str(metadata.get("name", "")))


def _custom_resource(body: Mapping[str, Any], kind: str, defaults: Defaults) -> model.Registry:
    where = _where(body, kind)
    metadata = body.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    namespace, name = str(metadata.get("namespace", "")), str(metadata.get("name", ""))
    spec = body.get("spec")
    if not isinstance(spec, Mapping):
        raise errors.RegistryError(where, "$.spec", "a spec object is required")
    is_job = kind == PERIODIC_TASK
    own_fields = _JOB_FIELDS | {"location"} if is_job else _SUBSCRIPTION_FIELDS
    found = [
        errors.RegistryError(where, f"$.spec.{key}", "unknown field")
        for key in sorted(set(spec) - _COMMON_FIELDS - own_fields)
    ]
    project = spec.get("project") or defaults.project
    if not project:
        found.append(_missing(where, "project", "--project"))
    location = (spec.get("location") or defaults.location) if is_job else _SUBSCRIPTION_LOCATION
    if not location:
        found.append(_missing(where, "location", "--location"))
    if spec.get("deletionPolicy", DELETE) not in DELETION_POLICIES:
        message = f"{spec['deletionPolicy']!r} is not one of {list(DELETION_POLICIES)}"
        found.append(errors.RegistryError(where, "$.spec.deletionPolicy", message))
    slug = spec.get("name", name)
    if not isinstance(slug, str) or not _SLUG.fullmatch(slug):
        hint = "" if "name" in spec else " (metadata.name); set spec.name"
        message = f"{slug!r}{hint} must be 1-200 letters, digits, '_' or '-'"
        found.append(errors.RegistryError(where, "$.spec.name", message))
    errors.raise_if_any(found)
    affix = spec.get("affix") or namespace
    delimiter = spec.get("delimiter", "--")
    entry = {key: value for key, value in spec.items() if key in own_fields - {"location"}}
    if is_job:
        resource_id = f"{affix}{delimiter}{slug}"
    else:
        resource_id = f"{affix}{delimiter}{spec.get('topic', '')}{delimiter}{slug}"
    entry["name"] = resource_id
    document = {
        "apiVersion": model.API_VERSION,
        "kind": model.KIND,
        "metadata": {
            "name": f"{namespace}/{name}"[:253],
            "generatedBy": f"{GROUP}/{VERSION} {kind}",
        },
        "spec": {
            "project": project,
            "location": location,
            "affix": affix,
            "delimiter": delimiter,
            "owner": owner(kind, namespace, name, f"{project}/{location}", resource_id),
            "schedulerJobs" if is_job else "subscriptions": [entry],
        },
    }
    try:
        registry = documents.parse(document, where)
    except errors.RegistryError as error:
        collection = "schedulerJobs" if is_job else "subscriptions"
        errors.raise_if_any([_in_body(e, collection, "affix" in spec) for e in error.errors])
        raise  # unreachable: raise_if_any raised
    return registry if is_job else dataclasses.replace(registry, location="")


def _missing(where: str, field: str, flag: str) -> errors.RegistryError:
    message = f"no {field}: set spec.{field} or start the controller with {flag}"
    return errors.RegistryError(where, f"$.spec.{field}", message)


def _in_body(
    error: errors.RegistryError, collection: str, explicit_affix: bool
) -> errors.RegistryError:
    """The same error with its path in the custom resource instead of the generated document."""
    path = error.path.replace(f"$.spec.{collection}[0]", "$.spec", 1)
    message = error.message
    if path == "$.spec.affix" and not explicit_affix:
        message = f"{message} (the namespace is the default affix; set spec.affix)"
    return errors.RegistryError(error.source, path, message)
