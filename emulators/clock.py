"""Clocks for the emulators: the wall clock for people, a manual clock that tests advance.

Background loops (task dispatch, cron firing) read time and sleep only through a clock, so a test
moves time forward instead of sleeping.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    def wait_until(self, deadline: datetime | None, wake: threading.Event) -> None: ...


class WallClock:
    """Real time; waits are real sleeps that `wake` interrupts."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def wait_until(self, deadline: datetime | None, wake: threading.Event) -> None:
        if deadline is None:
            wake.wait()
            return
        while not wake.is_set():
            remaining = (deadline - self.now()).total_seconds()
            if remaining <= 0:
                return
            wake.wait(remaining)


class ManualClock:
    """Time stands still until a test calls `advance` or `set`; both wake every waiter at once.

    It starts at `start`, by default the current second, so that tokens it stamps still verify
    against verifiers that run on wall time.
    """

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime.now(UTC).replace(microsecond=0)
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)
        self._changed = threading.Condition()

    def now(self) -> datetime:
        with self._changed:
            return self._now

    def advance(self, by: float | timedelta) -> datetime:
        delta = by if isinstance(by, timedelta) else timedelta(seconds=by)
        if delta < timedelta(0):
            raise ValueError("a clock only moves forward")
        with self._changed:
            return self._move(self._now + delta)

    def set(self, when: datetime) -> datetime:
        if when.tzinfo is None:
            raise ValueError("ManualClock.set needs a timezone-aware datetime")
        with self._changed:
            return self._move(when.astimezone(UTC))

    def wait_until(self, deadline: datetime | None, wake: threading.Event) -> None:
        with self._changed:
            while not wake.is_set() and (deadline is None or self._now < deadline):
                # `wake` is a plain Event that cannot notify our condition, so poll it briefly;
                # clock moves themselves notify at once.
                self._changed.wait(0.02)

    def _move(self, when: datetime) -> datetime:
        self._now = when
        self._changed.notify_all()
        return when
