"""Starting and stopping the local services as one: OIDC issuer, Cloud Tasks, Cloud Scheduler and
Google's Pub/Sub emulator (its pushes signed by `push_signing`). Used by `python -m emulators`,
`manage.py gcp_devserver`, the pytest fixtures, the demo and the benchmarks.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import grpc

from emulators import clock as clocks
from emulators import (
    cloud_scheduler,
    cloud_tasks,
    faults,
    oidc,
    pubsub,
    push_signing,
    recording,
    serving,
)

TASKS_ENV = "CLOUD_TASKS_EMULATOR_HOST"
SCHEDULER_ENV = "CLOUD_SCHEDULER_EMULATOR_HOST"
PUBSUB_ENV = "PUBSUB_EMULATOR_HOST"
CERTS_ENV = "GCP_TASKS_OIDC_CERTS_URL"


@dataclass
class Service:
    """One gRPC emulator on its own port: `host` is what its *_EMULATOR_HOST variable takes."""

    host: str
    requests: recording.RequestLog
    clock: clocks.Clock
    state: Any  # the emulator object: CloudTasksEmulator or CloudSchedulerEmulator
    server: grpc.Server

    @property
    def faults(self) -> faults.Faults:
        """Errors and lost answers to inject into the next calls (see `emulators.faults`)."""
        return self.state.faults  # type: ignore[no-any-return]

    def stop(self) -> None:
        self.server.stop(grace=None).wait()
        self.state.stop()


def start_tasks(
    *,
    clock: clocks.Clock,
    issuer: oidc.Issuer | None,
    host: str = "127.0.0.1",
    port: int = 0,
    tombstone_seconds: float = 3600.0,
    log_capacity: int | None = None,
) -> Service:
    """Cloud Tasks on host:port (0 = a free port), dispatching on `clock`."""
    log = recording.RequestLog(now=clock.now, capacity=log_capacity)
    emulator = cloud_tasks.CloudTasksEmulator(
        clock=clock, issuer=issuer, log=log, tombstone_seconds=tombstone_seconds
    )
    return _serve(emulator, log, clock, host, port)


def start_scheduler(
    *,
    clock: clocks.Clock,
    issuer: oidc.Issuer | None,
    host: str = "127.0.0.1",
    port: int = 0,
    log_capacity: int | None = None,
) -> Service:
    """Cloud Scheduler on host:port (0 = a free port), firing on `clock`."""
    log = recording.RequestLog(now=clock.now, capacity=log_capacity)
    emulator = cloud_scheduler.CloudSchedulerEmulator(clock=clock, issuer=issuer, log=log)
    return _serve(emulator, log, clock, host, port)


@dataclass
class Running:
    """Everything `start_all` started; `stop()` (or leaving the `with` block) ends it all."""

    clock: clocks.Clock
    issuer: oidc.Issuer
    tasks: Service
    scheduler: Service
    pubsub: pubsub.PubSubEmulator | None
    push_signer: push_signing.PushSigner | None
    _stack: ExitStack

    def environment(self) -> dict[str, str]:
        """The variables that point Google's clients and our verifier at these services."""
        env = {TASKS_ENV: self.tasks.host, SCHEDULER_ENV: self.scheduler.host}
        if self.pubsub is not None:
            env[PUBSUB_ENV] = self.pubsub.host
        env[CERTS_ENV] = self.issuer.certs_url
        return env

    def exports(self) -> list[str]:
        """`export NAME=value` lines, one per service, for a shell to eval."""
        return [f"export {name}={value}" for name, value in self.environment().items()]

    def stop(self) -> None:
        self._stack.close()

    def __enter__(self) -> Running:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def start_all(
    *,
    host: str = "127.0.0.1",
    tasks_port: int = 0,
    scheduler_port: int = 0,
    pubsub_port: int = 0,
    oidc_port: int = 0,
    tombstone_seconds: float = 3600.0,
    with_pubsub: bool = True,
    sign_pubsub_pushes: bool = True,
    clock: clocks.Clock | None = None,
    log_capacity: int | None = None,
) -> Running:
    """Start every service (port 0 = a free one); on any failure stop what already started.

    `sign_pubsub_pushes` gives Pub/Sub pushes the OIDC token their subscription asks for, as
    Google does. `log_capacity` bounds each request log to its newest entries (counts stay
    exact); None keeps them all, which tests and benchmarks that read `entries` by offset rely on.
    """
    clock = clock or clocks.WallClock()
    stack = ExitStack()
    try:
        # Tokens are stamped on wall time even with a test clock, so verifiers accept them.
        issuer = oidc.Issuer(host=host, port=oidc_port).start()
        stack.callback(issuer.stop)
        emulator: pubsub.PubSubEmulator | None = None
        signer: push_signing.PushSigner | None = None
        if with_pubsub:
            pubsub_port = pubsub_port or pubsub.free_port(host)
            jvm_options: list[str] = []
            if sign_pubsub_pushes:
                signer = push_signing.PushSigner(issuer, f"{host}:{pubsub_port}", host=host)
                stack.callback(signer.start().stop)
                jvm_options = signer.jvm_options
            emulator = pubsub.PubSubEmulator(host=host, port=pubsub_port, jvm_options=jvm_options)
            stack.callback(emulator.start().stop)
        tasks = start_tasks(
            clock=clock,
            issuer=issuer,
            host=host,
            port=tasks_port,
            tombstone_seconds=tombstone_seconds,
            log_capacity=log_capacity,
        )
        stack.callback(tasks.stop)
        scheduler = start_scheduler(
            clock=clock, issuer=issuer, host=host, port=scheduler_port, log_capacity=log_capacity
        )
        stack.callback(scheduler.stop)
    except BaseException:
        stack.close()
        raise
    return Running(clock, issuer, tasks, scheduler, emulator, signer, stack)


def _serve(
    emulator: Any, log: recording.RequestLog, clock: clocks.Clock, host: str, port: int
) -> Service:
    emulator.start()
    try:
        server, bound = serving.serve([emulator.handler()], host=host, port=port)
    except BaseException:
        emulator.stop()
        raise
    return Service(f"{host}:{bound}", log, clock, emulator, server)
