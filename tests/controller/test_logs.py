"""The one structlog configuration: JSON off a terminal, console on one, stdlib logs alike."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from collections.abc import Callable
from typing import TextIO

import pytest
import structlog

from controller import logs

_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def stderr(monkeypatch: pytest.MonkeyPatch) -> Callable[[TextIO], TextIO]:
    def use(stream: TextIO) -> TextIO:
        monkeypatch.setattr(sys, "stderr", stream)
        return stream

    return use


def test_off_a_terminal_structlog_and_stdlib_lines_are_the_same_json(
    stderr: Callable[[TextIO], TextIO],
) -> None:
    out = stderr(io.StringIO())
    logs.configure()
    structlog.get_logger("controller.test").info("job_created", job="nightly")
    # kopf logs through stdlib loggers such as this one.
    logging.getLogger("kopf.objects").warning("handler %s failed", "create")

    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert (first["event"], first["job"], first["level"]) == ("job_created", "nightly", "info")
    assert (second["event"], second["level"]) == ("handler create failed", "warning")
    assert second["logger"] == "kopf.objects"
    assert {"timestamp", "logger", "level"} <= first.keys() & second.keys()


def test_on_a_terminal_lines_are_for_people(stderr: Callable[[TextIO], TextIO]) -> None:
    out = stderr(Terminal())
    logs.configure()
    structlog.get_logger().info("job_created", job="nightly")

    [line] = _COLOUR.sub("", out.getvalue()).splitlines()
    assert "job_created" in line and "job=nightly" in line
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_the_level_filters_both_kinds_of_logger(stderr: Callable[[TextIO], TextIO]) -> None:
    out = stderr(io.StringIO())
    logs.configure(json=True, level="WARNING")
    structlog.get_logger().info("quiet")
    logging.getLogger("kopf").info("quiet too")
    structlog.get_logger().warning("loud")

    assert [json.loads(line)["event"] for line in out.getvalue().splitlines()] == ["loud"]


def test_writing_to_puts_the_stream_back(stderr: Callable[[TextIO], TextIO]) -> None:
    out, elsewhere = stderr(io.StringIO()), io.StringIO()
    logs.configure(json=True)

    with logs.writing_to(elsewhere):
        structlog.get_logger().info("inside")
    structlog.get_logger().info("outside")

    assert "inside" in elsewhere.getvalue() and "inside" not in out.getvalue()
    assert "outside" in out.getvalue()
