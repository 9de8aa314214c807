"""Reconcile passes for the operator: one at a time, shared by the handlers that ask, off-loop.

A handler asks for a pass at least as fresh as it needs (`max_age`); handlers asking while a
pass runs share the next one, so a burst of events or timers costs one or two passes, not one
each. Passes are level-based, so the newest index contents are all a pass needs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime

import kopf

from controller import metrics
from controller.engine import reconciling, reports
from controller.gcp import calling, clients
from controller.operator import declarations, reporting
from controller.planning import plans, policies
from controller.registry import custom_resources

_KIND_OF = {
    custom_resources.PERIODIC_TASK: plans.Kind.SCHEDULER_JOB,
    custom_resources.SUBSCRIBER_TASK: plans.Kind.SUBSCRIPTION,
}


@dataclasses.dataclass(frozen=True)
class Sync:
    """One pass over everything declared: its inputs and report (None: nothing was declared)."""

    started: float  # event-loop time, to compare freshness
    finished_at: datetime.datetime  # UTC wall time, for status
    declared: tuple[declarations.Declared, ...]
    report: reports.PassReport | None

    @property
    def converged(self) -> bool:
        return self.report is None or self.report.converged

    def result(self, source: str) -> reports.SourceResult | None:
        """What the pass did for one declared object."""
        return self.report.for_source(source) if self.report is not None else None


class Syncer:
    """Runs the engine for the operator; one per operator, shared through kopf's memo."""

    def __init__(
        self,
        gcp: clients.Clients,
        policy: policies.Policy,
        *,
        writes_per_second: float = reconciling.DEFAULT_WRITES_PER_SECOND,
        post: reporting.Post = kopf.event,
    ) -> None:
        # One write limiter for every engine: Google's admin quotas are per project and minute,
        # so a rate lowered by a quota error in one engine's pass must hold for the others.
        limiter = calling.TokenBucket(writes_per_second)

        def engine(
            policy: policies.Policy, kinds: frozenset[plans.Kind] = reconciling.ALL_KINDS
        ) -> reconciling.Reconciler:
            return reconciling.Reconciler(gcp, policy, kinds=kinds, limiter=limiter)

        self._engine = engine(policy)
        # Deleting one custom resource's cloud resource: its registry, emptied, with deletions
        # allowed. Its owner marker is unique to that object, so nothing else can be touched.
        deleting = dataclasses.replace(
            policy, orphans=policies.OrphanPolicy.DELETE, allow_mass_deletion=True
        )
        self._deleters = {
            kind: engine(deleting, frozenset({engine_kind}))
            for kind, engine_kind in _KIND_OF.items()
        }
        self._lock = asyncio.Lock()
        self._running: asyncio.Task[Sync] | None = None
        self._reporter = reporting.Reporter(post)
        self.latest: Sync | None = None

    async def fresh(self, collect: declarations.Collect, *, max_age: float = 0.0) -> Sync:
        """A pass that started no more than `max_age` seconds ago (0: after this call)."""
        since = asyncio.get_running_loop().time() - max_age
        while True:
            if self.latest is not None and self.latest.started >= since:
                return self.latest
            if self._running is None or self._running.done():
                self._running = asyncio.create_task(self._pass(collect), name="reconcile pass")
            running = self._running
            # Shielded: a handler cancelled while waiting must not cancel everyone's pass.
            sync = await asyncio.shield(running)
            if sync.started >= since:
                return sync

    async def delete(self, declared: declarations.Declared) -> reports.PassReport:
        """Delete the cloud resource of one custom resource (only if it carries its marker)."""
        assert declared.registry is not None
        emptied = dataclasses.replace(declared.registry, scheduler_jobs=(), subscriptions=())
        async with self._lock:
            deleter = self._deleters[declared.kind]
            return await asyncio.to_thread(deleter.run_pass, [emptied])

    async def _pass(self, collect: declarations.Collect) -> Sync:
        async with self._lock:
            started = asyncio.get_running_loop().time()
            declared = tuple(collect())
            registries = declarations.registries(declared)
            report = None
            if registries:
                # The engine is synchronous (gRPC); keep kopf's event loop free meanwhile.
                report = await asyncio.to_thread(self._engine.run_pass, registries)
                metrics.record_pass(report)
            sync = Sync(started, datetime.datetime.now(datetime.UTC), declared, report)
            self._reporter.post(sync.declared, sync.report)
            self.latest = sync
            return sync
