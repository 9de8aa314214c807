"""The one structlog configuration: JSON off a terminal, console on one, stdlib logs alike."""

from __future__ import annotations

import datetime
import io
import json
import logging
import logging.config
import re
import sys
import time
from collections.abc import Callable, Iterator
from typing import TextIO

import kopf
import pytest
import structlog
from django.test import override_settings

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
    assert (first["message"], first["job"], first["severity"]) == ("job_created", "nightly", "INFO")
    assert (second["message"], second["severity"]) == ("handler create failed", "WARNING")
    assert second["logger"] == "kopf.objects"
    # Cloud Logging's fields lead every line; `event` keeps the name docs and queries use.
    assert list(first)[:3] == list(second)[:3] == ["time", "severity", "message"]
    assert (first["event"], second["event"]) == (first["message"], second["message"])
    assert not {"level", "timestamp"} & (first.keys() | second.keys())


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

    assert [json.loads(line)["message"] for line in out.getvalue().splitlines()] == ["loud"]


def test_a_logger_set_below_the_level_on_purpose_is_heard(
    stderr: Callable[[TextIO], TextIO],
) -> None:
    out = stderr(io.StringIO())
    logs.configure(json=True, level="INFO")
    queries = logging.getLogger("django.db.backends")
    before = queries.level
    queries.setLevel(logging.DEBUG)
    try:
        queries.debug("(0.001) SELECT 1")
        logging.getLogger("kopf").debug("still quiet")
    finally:
        queries.setLevel(before)

    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(e["message"], e["severity"]) for e in lines] == [("(0.001) SELECT 1", "DEBUG")]


def test_writing_to_puts_the_stream_back(stderr: Callable[[TextIO], TextIO]) -> None:
    out, elsewhere = stderr(io.StringIO()), io.StringIO()
    logs.configure(json=True)

    with logs.writing_to(elsewhere):
        structlog.get_logger().info("inside")
    structlog.get_logger().info("outside")

    assert "inside" in elsewhere.getvalue() and "inside" not in out.getvalue()
    assert "outside" in out.getvalue()


@pytest.mark.parametrize(
    ("method", "severity"),
    [
        ("debug", "DEBUG"),
        ("info", "INFO"),
        ("warning", "WARNING"),
        ("error", "ERROR"),
        ("exception", "ERROR"),
        ("critical", "CRITICAL"),
    ],
)
def test_severity_uses_cloud_loggings_names(
    stderr: Callable[[TextIO], TextIO], method: str, severity: str
) -> None:
    out = stderr(io.StringIO())
    logs.configure(json=True, level="DEBUG")
    getattr(structlog.get_logger(), method)("structlog_event")
    getattr(logging.getLogger("kopf"), method)("stdlib record")

    assert [json.loads(line)["severity"] for line in out.getvalue().splitlines()] == [severity] * 2


def _kopf_logger() -> kopf.ObjectLogger:
    """kopf's own per-object logger, as its handlers get it."""
    body = kopf.Body(
        {
            "apiVersion": "gcptasks.dev/v1",
            "kind": "PeriodicTask",
            "metadata": {"name": "nightly", "namespace": "shop", "uid": "u-1"},
        }
    )
    return kopf.ObjectLogger(body=body, settings=kopf.OperatorSettings())


def test_kopf_records_keep_the_object_and_drop_the_operator_settings(
    stderr: Callable[[TextIO], TextIO],
) -> None:
    out = stderr(io.StringIO())
    logs.configure(json=True)

    _kopf_logger().warning("Handler 'sync' failed temporarily: boom")

    (line,) = out.getvalue().splitlines()
    record = json.loads(line)
    assert "settings" not in record and "k8s_skip" not in record
    assert record["k8s_ref"] == {
        "apiVersion": "gcptasks.dev/v1",
        "kind": "PeriodicTask",
        "name": "nightly",
        "uid": "u-1",
        "namespace": "shop",
    }
    assert len(line) < 400  # the settings' repr alone was about 2 KB


@pytest.mark.parametrize(
    ("level", "shown"),
    [("INFO", []), ("DEBUG", [("Timer 'resync' succeeded.", "DEBUG")])],
)
def test_kopf_timer_successes_are_debug(
    stderr: Callable[[TextIO], TextIO], level: str, shown: list[tuple[str, str]]
) -> None:
    out = stderr(io.StringIO())
    logs.configure(json=True, level=level)

    _kopf_logger().info("Timer 'resync' succeeded.")
    _kopf_logger().info("Handler 'sync' succeeded.")  # not a timer: stays as it was

    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(e["message"], e["severity"]) for e in lines] == [
        *shown,
        ("Handler 'sync' succeeded.", "INFO"),
    ]


@pytest.mark.parametrize("json_logs", [True, False], ids=["json", "console"])
def test_times_are_utc_with_z_whatever_djangos_time_zone(
    stderr: Callable[[TextIO], TextIO], json_logs: bool
) -> None:
    out = stderr(io.StringIO())
    logs.configure(json=json_logs)

    # Django sets TZ from TIME_ZONE and calls time.tzset() (here through its setting_changed).
    with override_settings(TIME_ZONE="America/New_York"):
        assert time.strftime("%z") in {"-0500", "-0400"}
        before = datetime.datetime.now(datetime.UTC)
        structlog.get_logger().info("structlog_event")
        logging.getLogger("kopf").info("stdlib record")
        after = datetime.datetime.now(datetime.UTC)

    stamps = [_time_of(line, json_logs) for line in out.getvalue().splitlines()]
    assert len(stamps) == 2
    for stamp in stamps:
        assert stamp.endswith("Z")
        assert before <= datetime.datetime.fromisoformat(stamp) <= after


def _time_of(line: str, json_logs: bool) -> str:
    if json_logs:
        return str(json.loads(line)["time"])
    return _COLOUR.sub("", line).split(" ", 1)[0]


@pytest.fixture
def project_logging() -> Iterator[Callable[[dict[str, object]], None]]:
    """A Django project's LOGGING applied with dictConfig; the logger it names is reset after."""

    def apply(config: dict[str, object]) -> None:
        logging.config.dictConfig({"version": 1, "disable_existing_loggers": False, **config})

    yield apply
    app = logging.getLogger("django_integration")
    app.handlers[:], app.propagate = [], True
    app.setLevel(logging.NOTSET)


def test_a_projects_logging_gets_the_same_cloud_logging_lines(
    stderr: Callable[[TextIO], TextIO], project_logging: Callable[[dict[str, object]], None]
) -> None:
    out = stderr(io.StringIO())
    project_logging(
        {
            "formatters": {"lines": {"()": "controller.logs.formatter", "json": True}},
            "handlers": {"err": {"class": "logging.StreamHandler", "formatter": "lines"}},
            "loggers": {
                "django_integration": {"handlers": ["err"], "level": "INFO", "propagate": False}
            },
        }
    )
    task_logger = logging.getLogger("django_integration.tasks")
    task_logger.info("Task %s succeeded", "Nightly", extra={"task": "Nightly", "duration_ms": 1.5})
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        task_logger.error("Task %s failed", "Nightly", exc_info=True, extra={"task": "Nightly"})

    succeeded, failed = (json.loads(line) for line in out.getvalue().splitlines())
    assert list(succeeded)[:3] == ["time", "severity", "message"]
    assert (succeeded["message"], succeeded["severity"]) == ("Task Nightly succeeded", "INFO")
    assert (succeeded["task"], succeeded["duration_ms"]) == ("Nightly", 1.5)
    assert succeeded["logger"] == "django_integration.tasks" and succeeded["time"].endswith("Z")
    assert failed["severity"] == "ERROR" and 'raise RuntimeError("boom")' in failed["exception"]
