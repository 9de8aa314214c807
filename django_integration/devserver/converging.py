"""Keeping the emulators' Cloud Scheduler jobs and Pub/Sub subscriptions in line with the app's
registry file, in a thread of the dev server: what `gcp-tasks-controller run --registry FILE`
does, through the same engine, without the controller's own dependencies (kopf, Prometheus).

The engine's loop polls the file every second, so a registry re-exported by a reloaded
`runserver` is applied at once; a full pass runs at least every `resync_seconds` as well.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import grpc
import structlog
from google.auth import credentials as auth_credentials
from google.cloud import pubsub_v1, scheduler_v1
from google.cloud.scheduler_v1.services.cloud_scheduler import transports

from controller.engine import looping, reconciling, reports
from controller.gcp import clients
from controller.planning import plans, policies
from controller.sources import watching

log = structlog.get_logger()

# The emulators start empty and die with the command: nothing in them is worth the guards that
# protect a real project (mass deletions refused, immutable fields never recreated).
POLICY = policies.Policy(allow_mass_deletion=True, allow_recreate=True)
_KIND_NAMES = {plans.Kind.SCHEDULER_JOB: "scheduler job", plans.Kind.SUBSCRIPTION: "subscription"}


class Controller:
    """Reconciles `registry_file` with the emulators until `stop()`; `say` gets one line per
    change it makes or fails to make."""

    def __init__(
        self,
        registry_file: str,
        *,
        scheduler_host: str,
        pubsub: bool,
        resync_seconds: float,
        say: Callable[[str], None],
        poll_seconds: float = looping.POLL_SECONDS,
    ) -> None:
        self._say = say
        self._clients = _connect(scheduler_host, pubsub=pubsub)
        kinds = set(plans.Kind) if pubsub else {plans.Kind.SCHEDULER_JOB}
        self._loop = looping.Loop(
            watching.Watch([registry_file]),
            reconciling.Reconciler(self._clients, POLICY, kinds=kinds),
            resync_seconds=resync_seconds,
            poll_seconds=poll_seconds,
            on_pass=self._tell,
        )
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._loop.run, args=(self._stopping,), name="gcp-devserver-controller"
        )

    @property
    def passes(self) -> int:
        """Passes completed (and told)."""
        return self._loop.passes

    def start(self) -> Controller:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()
        self._loop.watch.close()
        self._clients.close()

    def _tell(self, report: reports.PassReport) -> None:
        for scope in report.scopes:
            if scope.error is not None:
                self._say(f"controller: could not list {scope.project}: {scope.error.reason}")
        for scope in report.refused:
            self._say(f"controller: plan refused in {scope.project}: {scope.plan.refused}")
        for outcome in report.outcomes:
            action = outcome.action
            if not (action.is_write or action.verb is plans.Verb.CONFLICT):
                continue
            what = f"{action.verb.value} {_KIND_NAMES[action.kind]} {action.name}"
            fields = ", ".join(drift.field for drift in action.drift)
            if fields and action.verb is plans.Verb.UPDATE:
                what += f" ({fields})"
            if not outcome.ok or action.verb is plans.Verb.CONFLICT:
                self._say(f"controller: could not {what}: {outcome.reason}")
            elif outcome.applied:
                self._say(f"controller: {what}")


def _connect(scheduler_host: str, *, pubsub: bool) -> clients.Clients:
    """Google's clients on the emulators only: the dev loop never reaches a real project."""
    if pubsub:  # every host is in the environment the command set
        return clients.Clients.from_environment()
    channel = grpc.insecure_channel(scheduler_host)
    # Without Pub/Sub only scheduler jobs are reconciled: these two clients are never called,
    # and anonymous credentials make sure they could not act on a real project if they were.
    anonymous = auth_credentials.AnonymousCredentials()
    return clients.Clients(
        scheduler=scheduler_v1.CloudSchedulerClient(
            transport=transports.CloudSchedulerGrpcTransport(channel=channel)
        ),
        subscriber=pubsub_v1.SubscriberClient(credentials=anonymous),
        publisher=pubsub_v1.PublisherClient(credentials=anonymous),
    )
