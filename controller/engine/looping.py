"""The loop behind `run --registry` and the dev server's controller: poll the sources about every
second (cheap: a stat of the file, a conditional GET of the URL), run a pass as soon as one
changes and at least every `resync_seconds`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import structlog

from controller.engine import progress, reconciling, reports
from controller.sources import watching

log = structlog.get_logger()

POLL_SECONDS = 1.0


class Loop:
    """Reconciles the watched sources until `stop` is set; `on_pass` sees every pass's report
    and `healthy()` says whether the loop still turns."""

    def __init__(
        self,
        watch: watching.Watch,
        reconciler: reconciling.Reconciler,
        *,
        resync_seconds: float,
        poll_seconds: float = POLL_SECONDS,
        on_pass: Callable[[reports.PassReport], None] = lambda report: None,
        on_poll: Callable[[watching.Watch], None] = lambda watch: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.watch = watch
        self.reconciler = reconciler
        self.resync_seconds = resync_seconds
        self.poll_seconds = poll_seconds
        self.passes = 0
        self.last_converged: bool | None = None
        self._on_pass = on_pass
        self._on_poll = on_poll
        self._clock = clock
        self._beat = clock()
        self._last_pass_end: float | None = None

    def run(self, stop: threading.Event) -> None:
        due = 0.0  # the first pass is due at once
        while not stop.is_set():
            self._beat = self._clock()
            changed = self.watch.poll()
            try:
                self._on_poll(self.watch)
            except Exception:  # a bug in a hook must not end the loop, nor stop its passes
                log.exception("poll_crashed")
            if changed or self._clock() >= due:
                try:
                    self.reconcile()
                except Exception:  # a bug must not end the loop: log it, try next time
                    log.exception("reconcile_crashed")
                due = self._clock() + self.resync_seconds
            stop.wait(self.poll_seconds)

    def reconcile(self) -> None:
        registries = self.watch.registries
        if not registries:
            # Nothing valid was ever read: planning nothing could only look like "delete all".
            log.warning(
                "reconcile_skipped", reason="no valid registry yet", sources=self.watch.errors
            )
            return
        report = self.reconciler.run_pass(registries, on_progress=self._progressing)
        self.passes += 1
        self.last_converged = report.converged
        self._last_pass_end = self._clock()
        self._on_pass(report)

    def _progressing(self, current: progress.Progress) -> None:
        """Each write of a pass is a beat: a long pass of rate-limited writes is no stuck loop."""
        self._beat = self._clock()

    def healthy(self) -> tuple[bool, dict[str, Any]]:
        # A pass can take minutes when many writes are rate limited; a loop silent for much
        # longer than that is stuck, and a restart is the cure.
        stale_after = max(300.0, 3 * self.resync_seconds)
        silent = self._clock() - self._beat
        details: dict[str, Any] = {
            "passes": self.passes,
            "last_pass_converged": self.last_converged,
            "invalid_sources": self.watch.errors,
        }
        if self._last_pass_end is not None:
            details["seconds_since_last_pass"] = round(self._clock() - self._last_pass_end, 1)
        return silent < stale_after, details
