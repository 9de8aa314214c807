"""Every Google API call goes through a `Calls`: counted, rate-limited (writes), retried when the
error is retryable (capped exponential backoff with full jitter) and translated into our errors.

A quota error on a write also slows every later write: Google's admin quotas are per minute, so
retrying one call is not enough. The write rate halves and climbs back over the next minute
(additive increase, multiplicative decrease, as TCP does).
"""

from __future__ import annotations

import dataclasses
import random
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import structlog

from controller.gcp import errors

T = TypeVar("T")

log = structlog.get_logger()

# Our retries are the only ones: Google's per-method defaults would retry invisibly and uncounted.
NO_RETRY = None
TIMEOUT_SECONDS = 30.0


@dataclasses.dataclass(frozen=True)
class Backoff:
    """Capped exponential backoff with full jitter (AWS architecture blog's "full jitter")."""

    attempts: int = 5
    base: float = 0.2
    cap: float = 10.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0.0, min(self.cap, self.base * 2**attempt))


DEFAULT_BACKOFF = Backoff()


SLOW_DOWN_FACTOR = 0.5  # each quota error halves the write rate...
SLOWEST_FRACTION = 0.05  # ...down to a twentieth of the normal rate at worst
RECOVERY_SECONDS = 60.0  # time to climb from zero back to the normal rate: one quota window


class TokenBucket:
    """Allows `rate` acquisitions per second on average, with bursts of up to `burst`; after
    `slow_down()` the rate climbs back to `normal_rate` by `normal_rate / recovery_seconds` a
    second."""

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        recovery_seconds: float = RECOVERY_SECONDS,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.normal_rate = self.rate = rate
        self.burst = max(1.0, burst if burst is not None else rate)
        self._clock = clock
        self._sleep = sleep
        self._recovery_seconds = recovery_seconds
        self._tokens = self.burst
        self._updated = clock()
        self._slowed_at: float | None = None
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, sleeping until one is available; returns the time slept."""
        with self._lock:
            restored = self._refill()
            self._tokens -= 1.0
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if restored is not None:
            log.info("write_rate_restored", rate=self.rate, slowed_for_s=round(restored, 1))
        if wait > 0:
            self._sleep(wait)
        return wait

    def slow_down(self, **context: object) -> None:
        """A quota error: lower the rate and spend the tokens saved up, so the next write waits."""
        with self._lock:
            self._refill()
            previous = self.rate
            self.rate = max(self.normal_rate * SLOWEST_FRACTION, self.rate * SLOW_DOWN_FACTOR)
            self._tokens = min(self._tokens, 0.0)
            if self._slowed_at is None:
                self._slowed_at = self._updated
        log.warning(
            "write_rate_lowered",
            rate=round(self.rate, 3),
            previous_rate=round(previous, 3),
            normal_rate=self.normal_rate,
            **context,
        )

    def _refill(self) -> float | None:
        """Add the tokens and rate earned since the last update (under the lock); returns how
        long the rate was lowered when this brought it back to normal."""
        now = self._clock()
        elapsed = max(0.0, now - self._updated)
        self._updated = now
        self._tokens = min(max(1.0, min(self.burst, self.rate)), self._tokens + elapsed * self.rate)
        if self._slowed_at is None:
            return None
        self.rate = min(
            self.normal_rate, self.rate + elapsed * self.normal_rate / self._recovery_seconds
        )
        if self.rate < self.normal_rate:
            return None
        slowed_for, self._slowed_at = now - self._slowed_at, None
        return slowed_for


@dataclasses.dataclass
class Counts:
    """What one pass cost: API requests sent (reads, writes, retries included) and failures."""

    reads: int = 0
    writes: int = 0
    retries: int = 0
    errors: dict[str, int] = dataclasses.field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.reads + self.writes


class Calls:
    """Runs API calls for one pass and counts them; share the `limiter` across passes."""

    def __init__(
        self,
        *,
        limiter: TokenBucket | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.counts = Counts()
        self._limiter = limiter
        self._backoff = backoff
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._lock = threading.Lock()

    def read(self, operation: str, resource: str, method: Callable[..., T], **request: Any) -> T:
        """`method(**request)` on a Google client, counted, retried by us, bounded in time."""
        return self._call(operation, resource, lambda: _bounded(method, request), write=False)

    def write(self, operation: str, resource: str, method: Callable[..., T], **request: Any) -> T:
        """Like `read`, and waits for the write rate limiter first."""
        return self._call(operation, resource, lambda: _bounded(method, request), write=True)

    def _call(self, operation: str, resource: str, function: Callable[[], T], *, write: bool) -> T:
        attempt = 0
        while True:
            if write and self._limiter is not None:
                self._limiter.acquire()
            with self._lock:
                if write:
                    self.counts.writes += 1
                else:
                    self.counts.reads += 1
            try:
                return function()
            except Exception as error:  # translated below, then re-raised as ours
                ours = errors.classify(error, operation=operation, resource=resource)
                with self._lock:
                    self.counts.errors[ours.code] = self.counts.errors.get(ours.code, 0) + 1
                if write and self._limiter is not None and isinstance(ours, errors.QuotaExceeded):
                    self._limiter.slow_down(operation=operation, resource=resource)
                attempt += 1
                if not ours.retryable or attempt >= self._backoff.attempts:
                    raise ours from error
                delay = self._backoff.delay(attempt, self._rng)
                with self._lock:
                    self.counts.retries += 1
                log.warning(
                    "api_retry",
                    operation=operation,
                    resource=resource,
                    code=ours.code,
                    attempt=attempt,
                    delay_s=round(delay, 3),
                )
                self._sleep(delay)


def _bounded(method: Callable[..., T], request: dict[str, Any]) -> T:
    return method(**request, retry=NO_RETRY, timeout=TIMEOUT_SECONDS)
