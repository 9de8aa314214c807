"""Pushing due tasks to their HTTP targets: one scheduling thread, a small pool of senders.

The scheduling thread reads time and sleeps only through the clock, so a test's ManualClock
decides when tasks are due. Senders are daemon threads: a hung target cannot block shutdown.
"""

from __future__ import annotations

import queue
import threading
import time

import structlog

from emulators import clock as clocks
from emulators import dispatching, oidc
from emulators.cloud_tasks import state as states

logger = structlog.get_logger()

# Headers Cloud Tasks computes or reserves; a task's own values for them are not sent.
_RESERVED = {"host", "content-length", "user-agent"}
_RESERVED_PREFIXES = ("x-google-", "x-appengine-", "x-cloudtasks-")


class Dispatcher:
    def __init__(
        self,
        state: states.State,
        clock: clocks.Clock,
        issuer: oidc.Issuer | None,
        *,
        senders: int = 8,
    ) -> None:
        self._state = state
        self._clock = clock
        self._issuer = issuer
        self._senders = senders
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._work: queue.SimpleQueue[states.Push | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        if self._threads:
            return
        self._stopping.clear()
        self._threads = [
            threading.Thread(target=self._schedule, name="tasks-dispatch", daemon=True)
        ]
        self._threads += [
            threading.Thread(target=self._send, name=f"tasks-sender-{n}", daemon=True)
            for n in range(self._senders)
        ]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._wake.set()
        for _ in range(self._senders):
            self._work.put(None)
        # One deadline for all: senders stuck on a hung target are daemons and are left behind.
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads = []

    def wake(self) -> None:
        self._wake.set()

    def submit(self, push: states.Push) -> None:
        self._work.put(push)

    def _schedule(self) -> None:
        while not self._stopping.is_set():
            # Cleared before reading the state: a change after this point wakes the wait below.
            self._wake.clear()
            pushes, next_due = self._state.take_due()
            for push in pushes:
                self._work.put(push)
            self._clock.wait_until(next_due, self._wake)

    def _send(self) -> None:
        while (push := self._work.get()) is not None:
            try:
                delivery = dispatching.deliver(
                    push.url,
                    method=push.method,
                    body=push.body,
                    headers=headers(push),
                    oidc=push.oidc,
                    issuer=self._issuer,
                    timeout=push.timeout,
                )
            except Exception as error:  # a sender must survive anything one task does
                delivery = dispatching.Delivery(None, f"{type(error).__name__}: {error}", 0.0)
            logger.debug(
                "cloud_tasks.attempt",
                task=push.task_name,
                status=delivery.status,
                error=delivery.error,
                duration=round(delivery.duration, 3),
            )
            if self._stopping.is_set():
                continue
            self._state.finish(push, delivery)


def headers(push: states.Push) -> dict[str, str]:
    """The headers of one attempt: the task's own plus those Cloud Tasks adds."""
    sent = {
        key: value
        for key, value in push.headers.items()
        if key.lower() not in _RESERVED and not key.lower().startswith(_RESERVED_PREFIXES)
    }
    if push.body and not any(key.lower() == "content-type" for key in sent):
        sent["Content-Type"] = "application/octet-stream"
    sent["User-Agent"] = "Google-Cloud-Tasks"
    sent["X-CloudTasks-QueueName"] = push.queue_id
    sent["X-CloudTasks-TaskName"] = push.task_id
    sent["X-CloudTasks-TaskRetryCount"] = str(push.retry_count)
    sent["X-CloudTasks-TaskExecutionCount"] = str(push.execution_count)
    sent["X-CloudTasks-TaskETA"] = f"{push.eta.timestamp():.6f}"
    if push.previous_response is not None:
        sent["X-CloudTasks-TaskPreviousResponse"] = str(push.previous_response)
    return sent
