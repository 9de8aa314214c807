"""The progress bar of `reconcile` on a terminal: one line kept below the log lines.

Only when stderr is a terminal and logs are for people: JSON logs go to machines, which read the
`reconcile_progress` events instead.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Callable, Iterator
from typing import TextIO

from controller import logs
from controller.cli import options
from controller.engine import progress

WIDTH = 30
REDRAW_SECONDS = 0.1  # a terminal need not be redrawn a thousand times a second
_CLEAR_LINE = "\r\x1b[K"


def render(state: progress.Progress) -> str:
    """`[#####---------] 120/900 writes  13%  4.9/s  ETA 2m39s`"""
    share = state.done / state.total if state.total else 1.0
    filled = round(WIDTH * share)
    eta = "--" if state.eta is None else _duration(state.eta)
    return (
        f"[{'#' * filled}{'-' * (WIDTH - filled)}] {state.done}/{state.total} writes "
        f"{share:4.0%}  {state.rate:.1f}/s  ETA {eta}"
    )


class Bar:
    """Draws `render(...)` on `stream`; log lines written through `write` go above it."""

    def __init__(self, stream: TextIO, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._stream = stream
        self._clock = clock
        self._line = ""
        self._drawn_at: float | None = None

    def update(self, state: progress.Progress) -> None:
        self._line = render(state)
        now = self._clock()
        finished = state.done >= state.total
        if finished or self._drawn_at is None or now - self._drawn_at >= REDRAW_SECONDS:
            self._drawn_at = now
            self._draw()

    def write(self, text: str) -> int:
        """A log line: clear the bar, write the line, draw the bar again below it."""
        if self._line:
            self._stream.write(_CLEAR_LINE)
        written = self._stream.write(text)
        if self._line and text.endswith("\n"):
            self._stream.write(self._line)
        return written

    def flush(self) -> None:
        self._stream.flush()

    def close(self) -> None:
        """Leave the last state on its own line."""
        if self._line:
            self._draw()
            self._stream.write("\n")
            self._stream.flush()
            self._line = ""

    def _draw(self) -> None:
        self._stream.write(_CLEAR_LINE + self._line)
        self._stream.flush()


@contextlib.contextmanager
def shown(args: argparse.Namespace) -> Iterator[progress.Listener | None]:
    """A bar on stderr while the block runs, fed by the listener it yields; None (no bar) when
    stderr is not a terminal or the logs are JSON."""
    if not sys.stderr.isatty() or options.json_logs(args) is True:
        yield None
        return
    bar = Bar(sys.stderr)
    with logs.writing_to(bar):
        try:
            yield bar.update
        finally:
            bar.close()


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes:02}m"
    return f"{minutes}m{seconds:02}s" if minutes else f"{seconds}s"
