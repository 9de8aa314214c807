import threading
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from emulators import clock as clocks

START = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)


def waiter(
    clock: clocks.Clock, deadline: datetime | None, wake: threading.Event
) -> threading.Thread:
    thread = threading.Thread(target=clock.wait_until, args=(deadline, wake), daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        (0, START),
        (1.5, START + timedelta(seconds=1.5)),
        (timedelta(hours=2), START + timedelta(hours=2)),
    ],
)
def test_manual_clock_advances_only_when_told(by: float | timedelta, expected: datetime) -> None:
    clock = clocks.ManualClock(START)
    assert clock.now() == START
    assert clock.advance(by) == expected
    assert clock.now() == expected


def test_manual_clock_set_converts_to_utc() -> None:
    clock = clocks.ManualClock(START)
    clock.set(datetime(2025, 6, 1, 9, 0, tzinfo=ZoneInfo("Europe/Paris")))
    assert clock.now() == datetime(2025, 6, 1, 7, 0, tzinfo=UTC)
    assert clock.now().tzinfo == UTC


@pytest.mark.parametrize(
    "bad",
    [
        lambda clock: clock.advance(-1),
        lambda clock: clock.set(datetime(2025, 1, 1)),
        lambda clock: clocks.ManualClock(datetime(2025, 1, 1)),
    ],
    ids=["backwards", "naive-set", "naive-start"],
)
def test_manual_clock_refuses_bad_input(bad) -> None:
    clock = clocks.ManualClock(START)
    with pytest.raises(ValueError):
        bad(clock)
    assert clock.now() == START


def test_manual_clock_default_start_is_now_in_utc() -> None:
    now = clocks.ManualClock().now()
    assert now.tzinfo == UTC
    assert abs((now - datetime.now(UTC)).total_seconds()) < 5


def test_wait_until_a_past_deadline_returns_at_once() -> None:
    clock = clocks.ManualClock(START)
    started = time.monotonic()
    clock.wait_until(START, threading.Event())
    clock.wait_until(START - timedelta(days=1), threading.Event())
    assert time.monotonic() - started < 0.5


def test_wait_until_blocks_until_the_clock_reaches_the_deadline() -> None:
    clock = clocks.ManualClock(START)
    thread = waiter(clock, START + timedelta(seconds=10), threading.Event())
    clock.advance(9.999)
    thread.join(0.2)
    assert thread.is_alive(), "woke before the deadline"
    clock.advance(0.001)
    thread.join(2)
    assert not thread.is_alive()


def test_set_wakes_waiters_past_their_deadline() -> None:
    clock = clocks.ManualClock(START)
    thread = waiter(clock, START + timedelta(days=3), threading.Event())
    clock.set(START + timedelta(days=4))
    thread.join(2)
    assert not thread.is_alive()


@pytest.mark.parametrize("clock", [clocks.ManualClock(START), clocks.WallClock()], ids=type)
@pytest.mark.parametrize("deadline", [None, "far"])
def test_wake_interrupts_a_wait(clock: clocks.Clock, deadline: str | None) -> None:
    wake = threading.Event()
    until = clock.now() + timedelta(hours=1) if deadline else None
    thread = waiter(clock, until, wake)
    thread.join(0.1)
    assert thread.is_alive()
    wake.set()
    thread.join(2)
    assert not thread.is_alive()


def test_wall_clock_is_utc_and_waits_real_time() -> None:
    clock = clocks.WallClock()
    now = clock.now()
    assert now.tzinfo == UTC
    assert abs((now - datetime.now(UTC)).total_seconds()) < 1
    started = time.monotonic()
    clock.wait_until(now + timedelta(seconds=0.1), threading.Event())
    assert 0.09 <= time.monotonic() - started < 1
