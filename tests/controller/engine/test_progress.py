"""Progress of a pass's writes: rate and time left, logged at a steady interval of the clock."""

from __future__ import annotations

import pytest
import structlog

from controller.engine import progress
from tests.controller.fake_time import FakeTime


@pytest.mark.parametrize(
    ("done", "total", "elapsed", "rate", "eta"),
    [
        (0, 100, 0.0, 0.0, None),
        (0, 100, 5.0, 0.0, None),
        (10, 100, 5.0, 2.0, 45.0),
        (100, 100, 20.0, 5.0, 0.0),
    ],
)
def test_rate_and_time_left(
    done: int, total: int, elapsed: float, rate: float, eta: float | None
) -> None:
    state = progress.Progress(done, total, elapsed)
    assert (state.rate, state.eta) == (rate, eta)


def test_progress_is_logged_every_interval_not_every_write() -> None:
    fake = FakeTime()
    seen: list[progress.Progress] = []
    tracker = progress.Tracker(25, clock=fake.clock, listener=seen.append)

    with structlog.testing.capture_logs() as logs:
        for _ in range(25):
            fake.now += 1.0  # one write a second
            tracker.advance()

    assert [(e["done"], e["total"], e["rate"], e["eta_s"]) for e in logs] == [
        (10, 25, 1.0, 15),
        (20, 25, 1.0, 5),
    ]
    assert {e["event"] for e in logs} == {"reconcile_progress"}
    # The listener (the CLI's bar) hears of every step, from 0 of 25 on.
    assert [(s.done, s.total) for s in seen] == [(done, 25) for done in range(26)]


def test_a_short_pass_logs_no_progress_and_nothing_to_do_tells_nobody() -> None:
    fake = FakeTime()
    seen: list[progress.Progress] = []
    with structlog.testing.capture_logs() as logs:
        tracker = progress.Tracker(3, clock=fake.clock, listener=seen.append)
        for _ in range(3):
            fake.now += 1.0
            tracker.advance()
        progress.Tracker(0, clock=fake.clock, listener=seen.append)

    assert logs == []
    assert len(seen) == 4  # 0, 1, 2 and 3 of 3; none for the tracker with nothing to do


def test_joined_listeners_each_hear_every_step_in_turn() -> None:
    heard: list[tuple[str, int]] = []
    first = progress.joined(lambda p: heard.append(("first", p.done)), None)
    both = progress.joined(first, None, lambda p: heard.append(("second", p.done)))
    assert both is not None and progress.joined(None, None) is None

    both(progress.Progress(3, 5, 1.0))

    assert heard == [("first", 3), ("second", 3)]
