"""Controller tests may configure logging (the CLI's main() does): put the test's logging back."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import structlog


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    config = structlog.get_config()
    processors = config["processors"]
    saved = processors.copy()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    # In place, like logs.configure(): loggers cached during the test keep this very list.
    processors[:] = saved
    structlog.configure(
        processors=processors,
        wrapper_class=config["wrapper_class"],
        logger_factory=config["logger_factory"],
        context_class=config["context_class"],
        cache_logger_on_first_use=config["cache_logger_on_first_use"],
    )
    root.handlers[:] = handlers
    root.setLevel(level)
