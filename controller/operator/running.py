"""Run the kopf operator: `gcp-tasks-controller run` in a cluster (no `--registry` given).

`run_operator` blocks until SIGINT/SIGTERM; `operate` is the same as a coroutine, which tests
run as a task and stop by cancelling it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections.abc import Sequence

import kopf

from controller.engine import reconciling
from controller.gcp import clients as gcp_clients
from controller.operator import handlers, syncing
from controller.planning import policies
from controller.registry import custom_resources

DEFAULT_RESYNC_SECONDS = 300.0
PROJECT_ENV = "GOOGLE_CLOUD_PROJECT"  # the default project when `project` is not given
PREFIX = "gcptasks.dev"  # of kopf's annotations and finalizer on our custom resources


def settings() -> kopf.OperatorSettings:
    """kopf's settings: our own finalizer and annotations, and no Events for routine logs."""
    configured = kopf.OperatorSettings()
    configured.persistence.finalizer = f"{PREFIX}/finalizer"
    # Annotations, not status.kopf: the CRDs' status schema holds only what we document.
    configured.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=PREFIX)
    configured.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=PREFIX, key="last-handled-configuration"
    )
    # Handler successes would be an Event per object per resync; our own Events say more.
    configured.posting.level = logging.WARNING
    return configured


async def operate(
    *,
    namespaces: Sequence[str] = (),
    resync_seconds: float = DEFAULT_RESYNC_SECONDS,
    liveness_endpoint: str | None = None,
    peering_name: str | None = None,
    priority: int | None = None,
    policy: policies.Policy = reconciling.DEFAULT_POLICY,
    writes_per_second: float = reconciling.DEFAULT_WRITES_PER_SECOND,
    project: str = "",
    location: str = "",
    resync_configmap: str | None = None,
    clients: gcp_clients.Clients | None = None,
    identity: str | None = None,
    ready_flag: asyncio.Event | None = None,
    stop_flag: asyncio.Event | None = None,
) -> None:
    """Run the operator until cancelled or `stop_flag` is set (see `run_operator`).

    `identity` names this replica among its peers (default: kopf's, from host and process).
    """
    anchor = namespace_and_name(resync_configmap) if resync_configmap else None
    watched = sorted(set(namespaces) | ({anchor[0]} if anchor and namespaces else set()))
    registry = kopf.OperatorRegistry()
    handlers.register(registry, resync_seconds=resync_seconds, resync_configmap=anchor)
    gcp = clients if clients is not None else gcp_clients.Clients.from_environment()
    memo = kopf.Memo(
        syncer=syncing.Syncer(gcp, policy, writes_per_second=writes_per_second),
        defaults=custom_resources.Defaults(
            project=project or os.environ.get(PROJECT_ENV, ""), location=location
        ),
        resync_seconds=resync_seconds,
        last_good={},  # uid -> the last valid registry of an object (see declarations)
    )
    try:
        await kopf.operator(
            registry=registry,
            settings=settings(),
            memo=memo,
            clusterwide=not watched,
            namespaces=watched,
            standalone=peering_name is None,
            peering_name=peering_name,
            # Same-priority peers all pause; distinct random ones let exactly one act.
            priority=priority if priority is not None else random.randint(1, 2**31 - 1),
            liveness_endpoint=liveness_endpoint,
            identity=identity,  # type: ignore[arg-type]  # kopf's NewType of str
            ready_flag=ready_flag,
            stop_flag=stop_flag,
        )
    finally:
        if clients is None:
            gcp.close()


def run_operator(
    *,
    namespaces: Sequence[str] = (),
    resync_seconds: float = DEFAULT_RESYNC_SECONDS,
    liveness_endpoint: str | None = None,
    peering_name: str | None = None,
    priority: int | None = None,
    policy: policies.Policy = reconciling.DEFAULT_POLICY,
    writes_per_second: float = reconciling.DEFAULT_WRITES_PER_SECOND,
    project: str = "",
    location: str = "",
    resync_configmap: str | None = None,
) -> None:
    """Watch registry ConfigMaps and PeriodicTask / SubscriberTask objects until SIGINT/SIGTERM.

    `namespaces` empty means cluster-wide. `peering_name` None runs standalone (every replica
    acts); with a name, replicas meet in that (Cluster)KopfPeering and only one acts.
    `project` (else $GOOGLE_CLOUD_PROJECT) / `location` are defaults for custom resources
    that leave them out.
    `resync_configmap` ("namespace/name") carries the resync timer for registry ConfigMaps.
    """
    asyncio.run(
        operate(
            namespaces=namespaces,
            resync_seconds=resync_seconds,
            liveness_endpoint=liveness_endpoint,
            peering_name=peering_name,
            priority=priority,
            policy=policy,
            writes_per_second=writes_per_second,
            project=project,
            location=location,
            resync_configmap=resync_configmap,
        )
    )


def namespace_and_name(reference: str) -> tuple[str, str]:
    """`"ns/name"` as a pair; `ValueError` naming the expected form otherwise."""
    namespace, _, name = reference.partition("/")
    if not namespace or not name:
        raise ValueError(f"expected NAMESPACE/NAME for the resync ConfigMap, got {reference!r}")
    return namespace, name
