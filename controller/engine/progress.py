"""How far a pass's writes have got: done of total, the rate so far and the time left.

A first pass over thousands of resources at a few writes a second takes minutes. The engine logs
`reconcile_progress` every `LOG_INTERVAL_SECONDS` of such a pass, and hands every step to an
optional listener (the CLI's progress bar); both read the same `Progress`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import structlog

log = structlog.get_logger()

LOG_INTERVAL_SECONDS = 10.0


@dataclasses.dataclass(frozen=True)
class Progress:
    done: int
    total: int
    elapsed: float  # seconds since the pass's writes began

    @property
    def rate(self) -> float:
        """Writes per second so far."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left at the rate so far; None while there is no rate yet."""
        if self.done >= self.total:
            return 0.0
        return (self.total - self.done) / self.rate if self.rate > 0 else None


Listener = Callable[[Progress], None]


def joined(*listeners: Listener | None) -> Listener | None:
    """One listener that calls each of `listeners` given (not None) in turn; None for none."""
    given = [listener for listener in listeners if listener is not None]
    if len(given) <= 1:
        return given[0] if given else None

    def each(current: Progress) -> None:
        for listener in given:
            listener(current)

    return each


class Tracker:
    """Counts a pass's writes as they are made; logs progress at a steady interval."""

    def __init__(
        self,
        total: int,
        *,
        clock: Callable[[], float],
        listener: Listener | None = None,
        interval: float = LOG_INTERVAL_SECONDS,
    ) -> None:
        self.total = total
        self.done = 0
        self._clock = clock
        self._listener = listener
        self._interval = interval
        self._started = self._logged = clock()
        if listener is not None and total:
            listener(Progress(0, total, 0.0))

    def advance(self) -> None:
        """One planned write is done (whether it succeeded or not)."""
        self.done += 1
        now = self._clock()
        current = Progress(self.done, self.total, now - self._started)
        if self._listener is not None:
            self._listener(current)
        if now - self._logged >= self._interval and self.done < self.total:
            self._logged = now
            eta = current.eta
            log.info(
                "reconcile_progress",
                done=current.done,
                total=current.total,
                rate=round(current.rate, 2),
                eta_s=None if eta is None else round(eta),
            )
