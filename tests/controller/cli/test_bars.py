"""The progress bar: rendered from a Progress, kept below log lines, shown only to people."""

from __future__ import annotations

import io
import logging
import pathlib
import sys

import pytest

from controller.cli import bars, main
from controller.engine import progress
from emulators import running
from tests.controller import resources
from tests.controller.fake_time import FakeTime

from .conftest import WriteRegistry


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("state", "line"),
    [
        (
            progress.Progress(0, 900, 0.0),
            "[------------------------------] 0/900 writes   0%  0.0/s  ETA --",
        ),
        (
            progress.Progress(120, 900, 24.5),
            "[####--------------------------] 120/900 writes  13%  4.9/s  ETA 2m39s",
        ),
        (
            progress.Progress(9, 10, 3.0),
            "[###########################---] 9/10 writes  90%  3.0/s  ETA 0s",
        ),
        (
            progress.Progress(10, 20_000, 2.0),
            "[------------------------------] 10/20000 writes   0%  5.0/s  ETA 1h06m",
        ),
        (
            progress.Progress(5, 5, 1.0),
            "[##############################] 5/5 writes 100%  5.0/s  ETA 0s",
        ),
    ],
)
def test_render(state: progress.Progress, line: str) -> None:
    assert bars.render(state) == line


def test_log_lines_go_above_the_bar() -> None:
    fake, out = FakeTime(), io.StringIO()
    bar = bars.Bar(out, clock=fake.clock)

    bar.write("before any progress\n")
    bar.update(progress.Progress(1, 2, 1.0))
    bar.write("a log line\n")
    fake.now += 0.01
    bar.update(progress.Progress(2, 2, 2.0))  # the last step is drawn however soon it comes
    bar.close()

    first, second = (
        bars.render(progress.Progress(1, 2, 1.0)),
        bars.render(progress.Progress(2, 2, 2.0)),
    )
    assert out.getvalue() == (
        "before any progress\n"
        f"\r\x1b[K{first}"
        f"\r\x1b[Ka log line\n{first}"
        f"\r\x1b[K{second}"
        f"\r\x1b[K{second}\n"
    )


def test_redraws_are_at_most_ten_a_second() -> None:
    fake, out = FakeTime(), io.StringIO()
    bar = bars.Bar(out, clock=fake.clock)
    for done in range(100):
        fake.now += 0.01
        bar.update(progress.Progress(done, 1000, fake.now))
    assert out.getvalue().count("\r") == 10


def _reconcile(path: pathlib.Path, *extra: str) -> int:
    return main.main(["reconcile", "--registry", str(path), "--writes-per-second", "100", *extra])


def test_reconcile_on_a_terminal_shows_a_bar_below_its_logs(
    emulators: running.Service,
    project: str,
    write_registry: WriteRegistry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    jobs = tuple(resources.job(f"j{index}") for index in range(3))
    path = write_registry(resources.registry(project, jobs=jobs))
    out = Terminal()
    monkeypatch.setattr(sys, "stderr", out)

    assert _reconcile(path) == 0

    screen = _screen(out.getvalue())
    assert screen[-1].startswith("[#####") and "3/3 writes 100%" in screen[-1]
    logged = [line for line in screen if "action_applied" in line or "reconcile_pass" in line]
    assert len(logged) == 4
    assert not any("writes" in line and "ETA" in line for line in logged)  # no bar in a log line
    # Afterwards, logs go to stderr itself again.
    assert logging.getLogger().handlers[0].stream is out  # type: ignore[attr-defined]


def _screen(text: str) -> list[str]:
    """What a terminal shows: "\r" + erase-line starts a line over."""
    return [line.rsplit("\r\x1b[K", 1)[-1] for line in text.split("\n") if line]


@pytest.mark.parametrize(
    ("terminal", "options"),
    [(True, ("--log-format", "json")), (False, ()), (False, ("--log-format", "console"))],
    ids=["json-on-a-terminal", "not-a-terminal", "console-not-a-terminal"],
)
def test_no_bar_for_machines(
    emulators: running.Service,
    project: str,
    write_registry: WriteRegistry,
    monkeypatch: pytest.MonkeyPatch,
    terminal: bool,
    options: tuple[str, ...],
) -> None:
    path = write_registry(resources.registry(project, jobs=(resources.job(),)))
    out = Terminal() if terminal else io.StringIO()
    monkeypatch.setattr(sys, "stderr", out)

    assert _reconcile(path, *options) == 0

    assert "writes 100%" not in out.getvalue() and "\r" not in out.getvalue()
