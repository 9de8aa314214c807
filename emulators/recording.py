"""The request log: every API call an emulator serves, so tests and benchmarks can count calls."""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

WRITE_PREFIXES = ("Create", "Update", "Delete", "Pause", "Resume", "Run", "Purge", "Patch")


@dataclass(frozen=True)
class Request:
    service: str
    method: str
    resource: str
    update_mask: tuple[str, ...]
    at: datetime

    @property
    def is_write(self) -> bool:
        return self.method.startswith(WRITE_PREFIXES)


class RequestLog:
    """Thread-safe record of received requests, refused ones included; `now` stamps them.

    With a `capacity`, only the newest entries are kept (a long-running emulator would
    otherwise grow without end), while `count()` stays exact: counts are kept apart.
    """

    def __init__(
        self, now: Callable[[], datetime] | None = None, *, capacity: int | None = None
    ) -> None:
        self._now = now or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._entries: deque[Request] = deque(maxlen=capacity)
        self._counts: Counter[str] = Counter()

    def record(
        self, service: str, method: str, resource: str, update_mask: Sequence[str] = ()
    ) -> Request:
        request = Request(service, method, resource, tuple(update_mask), self._now())
        with self._lock:
            self._entries.append(request)
            self._counts[method] += 1
        return request

    @property
    def entries(self) -> list[Request]:
        with self._lock:
            return list(self._entries)

    def count(self, method: str | None = None) -> int:
        with self._lock:
            return self._counts.total() if method is None else self._counts[method]

    def writes(self) -> list[Request]:
        return [entry for entry in self.entries if entry.is_write]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._counts.clear()
