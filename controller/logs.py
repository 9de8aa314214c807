"""The one place structlog is configured; entry points call `configure()` once.

JSON lines when stderr is not a terminal, a readable console when it is. Stdlib loggers
(kopf, grpc, Django) go through the same processors, so every line has the same shape; a Django
project gets the same lines from its own LOGGING with `formatter()`.

JSON lines are Cloud Logging structured logs: `severity` (Cloud Logging's names), `message`
(the line Logs Explorer shows) and `time` (RFC 3339 in UTC, with `Z`, whatever the process's
time zone) are the fields its agents read. `event` stays beside `message` with the same text:
it is the name this project's docs, tests and queries (`jq 'select(.event == ...)'`) use.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from collections.abc import Iterator, MutableMapping
from typing import Any

import structlog

HANDLER_NAME = "gcp-tasks-controller"
# structlog's level names -> Cloud Logging's LogSeverity names.
SEVERITIES = {
    "debug": "DEBUG",
    "info": "INFO",
    "warning": "WARNING",
    "warn": "WARNING",
    "error": "ERROR",
    "exception": "ERROR",
    "critical": "CRITICAL",
    "fatal": "CRITICAL",
}
# What kopf attaches to every record of an object: its whole OperatorSettings (about 2 KB of
# repr per line) and a flag for its own Event poster. `k8s_ref` (which object) is kept.
_KOPF_INTERNALS = ("settings", "k8s_skip")
# kopf logs this at INFO for every object at every tick of a timer: routine, so DEBUG.
_KOPF_TIMER_SUCCEEDED = re.compile(r"Timer '[^']*' succeeded\.")

_SHARED_PROCESSORS: list[structlog.typing.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    # utc=True: the stamp never depends on TZ, which Django sets from its TIME_ZONE setting.
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.processors.StackInfoRenderer(),
]


def configure(*, json: bool | None = None, level: str | int = "INFO") -> None:
    """Route structlog and stdlib logging to stderr, as JSON or for humans."""
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
    root = logging.getLogger()
    root.setLevel(level)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(formatter(json=json))
    handler.addFilter(_RoutineKopfRecords(root.level))
    root.handlers[:] = [handler]
    # gRPC and urllib3 are chatty at INFO and say nothing a user acts on.
    for noisy in ("urllib3", "grpc", "google.auth"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def formatter(*, json: bool | None = None) -> logging.Formatter:
    """The lines `configure()` writes, as a formatter a LOGGING dict can name (a Django
    project's: `"formatters": {"lines": {"()": "controller.logs.formatter", "json": True}}`):
    JSON shaped for Cloud Logging with the records' `extra` fields, or for humans. `json=None`
    picks JSON when stderr is not a terminal."""
    if json is None:
        json = not sys.stderr.isatty()
    rendering: list[structlog.typing.Processor] = (
        [for_cloud_logging, structlog.processors.JSONRenderer(sort_keys=False)]
        if json
        else [structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())]
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            *_SHARED_PROCESSORS,
            structlog.stdlib.ExtraAdder(),
            _drop_kopf_internals,
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            *rendering,
        ],
    )


def for_cloud_logging(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Rename the level and time stamp to Cloud Logging's fields, and lead with them."""
    level = str(event_dict.pop("level", method_name))
    return {
        "time": event_dict.pop("timestamp", None),
        "severity": SEVERITIES.get(level.lower(), level.upper()),
        "message": event_dict.get("event"),
        **event_dict,
    }


def _drop_kopf_internals(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in _KOPF_INTERNALS:
        event_dict.pop(key, None)
    return event_dict


class _RoutineKopfRecords(logging.Filter):
    """Lowers kopf's routine timer successes to DEBUG, and applies the configured level to them
    again (the logger's check let them through as INFO); other records passed their logger's."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        if (
            record.levelno == logging.INFO
            and record.name.startswith("kopf")
            and _KOPF_TIMER_SUCCEEDED.fullmatch(record.getMessage())
        ):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return record.levelno >= self.level
        return True  # a logger set to DEBUG on purpose (Django's SQL, say) is heard


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
