"""The process's Cloud Scheduler and Pub/Sub clients (the controller adapters' `Clients`): built on
first use and shared by every admin page view, as `enqueueing` shares its Cloud Tasks client.

They follow `CLOUD_SCHEDULER_EMULATOR_HOST` and `PUBSUB_EMULATOR_HOST` as Google's clients do, and
are rebuilt only when those change.
"""

from __future__ import annotations

import os
import threading

from controller.gcp import clients

_lock = threading.Lock()
_shared: tuple[tuple[str | None, str | None], clients.Clients] | None = None


def shared() -> clients.Clients:
    """The clients of this process; raises `controller.gcp.errors.ApiError` when they cannot be
    built (no credentials, for one)."""
    global _shared
    key = (
        os.environ.get(clients.SCHEDULER_EMULATOR_ENV),
        os.environ.get(clients.PUBSUB_EMULATOR_ENV),
    )
    current = _shared
    if current is not None and current[0] == key:
        return current[1]
    with _lock:
        if _shared is None or _shared[0] != key:
            if _shared is not None:
                _shared[1].close()
            _shared = (key, clients.Clients.from_environment())
        return _shared[1]
