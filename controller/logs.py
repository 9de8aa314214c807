"""The one place structlog is configured; entry points call `configure()` once.

JSON lines when stderr is not a terminal, a readable console when it is. Stdlib loggers
(kopf, grpc, Django) go through the same processors, so every line has the same shape.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from typing import Any

import structlog

HANDLER_NAME = "gcp-tasks-controller"
_SHARED_PROCESSORS: list[structlog.typing.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.processors.StackInfoRenderer(),
]


def configure(*, json: bool | None = None, level: str | int = "INFO") -> None:
    """Route structlog and stdlib logging to stderr, as JSON or for humans."""
    if json is None:
        json = not sys.stderr.isatty()
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    # Refill the configured list in place: loggers cached on first use hold a reference to it, so
    # a second configure() (or structlog.testing.capture_logs()) still reaches them.
    processors = structlog.get_config()["processors"]
    processors[:] = [*_SHARED_PROCESSORS, structlog.stdlib.ProcessorFormatter.wrap_for_formatter]
    structlog.configure(
        processors=processors,
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_SHARED_PROCESSORS, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # gRPC and urllib3 are chatty at INFO and say nothing a user acts on.
    for noisy in ("urllib3", "grpc", "google.auth"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@contextlib.contextmanager
def writing_to(stream: Any) -> Iterator[None]:
    """Meanwhile, write log lines to `stream` (anything with `write` and `flush`, such as a
    progress bar that keeps itself below them) instead of stderr."""
    ours = [
        handler
        for handler in logging.getLogger().handlers
        if isinstance(handler, logging.StreamHandler) and handler.get_name() == HANDLER_NAME
    ]
    before = [handler.setStream(stream) for handler in ours]
    try:
        yield
    finally:
        for handler, previous in zip(ours, before, strict=True):
            if previous is not None:
                handler.setStream(previous)
