import os
import time
from datetime import timedelta

import pytest
import requests

from emulators import clock, oidc, running, testing


def test_eventually_returns_the_first_truthy_result() -> None:
    calls = []

    def third_time_lucky() -> list[int]:
        calls.append(1)
        return [len(calls)] if len(calls) >= 3 else []

    assert testing.eventually(third_time_lucky, interval=0) == [3]


def test_eventually_fails_with_the_last_result() -> None:
    started = time.monotonic()
    with pytest.raises(AssertionError, match=r"within 0.1s: last result \[\]"):
        testing.eventually(lambda: [], timeout=0.1, interval=0.01)
    assert time.monotonic() - started < 1


def test_emulator_clock_starts_fixed_and_moves_only_when_told(
    emulator_clock: clock.ManualClock,
) -> None:
    assert emulator_clock.now() == testing.FIXED_START
    time.sleep(0.01)
    assert emulator_clock.now() == testing.FIXED_START
    emulator_clock.advance(timedelta(minutes=1))
    assert emulator_clock.now() == testing.FIXED_START + timedelta(minutes=1)


def test_emulator_fixtures_share_the_clock_and_set_the_environment(
    cloud_tasks_emulator: running.Service,
    cloud_scheduler_emulator: running.Service,
    emulator_clock: clock.ManualClock,
    oidc_issuer: oidc.Issuer,
) -> None:
    assert os.environ["CLOUD_TASKS_EMULATOR_HOST"] == cloud_tasks_emulator.host
    assert os.environ["CLOUD_SCHEDULER_EMULATOR_HOST"] == cloud_scheduler_emulator.host
    assert cloud_tasks_emulator.host != cloud_scheduler_emulator.host
    assert cloud_tasks_emulator.clock is emulator_clock is cloud_scheduler_emulator.clock
    assert cloud_scheduler_emulator.state.issuer is oidc_issuer
    assert cloud_tasks_emulator.requests is not cloud_scheduler_emulator.requests


def test_push_target_records_requests_and_answers_as_told(
    push_target: testing.PushTarget,
) -> None:
    push_target.answer(503)
    first = requests.post(push_target.url_for("/a"), data=b"one", headers={"X-Id": "1"})
    second = requests.put(push_target.url_for("b"), data=b"two")
    assert (first.status_code, second.status_code) == (503, 200)
    assert [(r.method, r.path, r.body) for r in push_target.received] == [
        ("POST", "/a", b"one"),
        ("PUT", "/b", b"two"),
    ]
    assert push_target.received[0].headers["x-id"] == "1"


def test_unique_projects_differ() -> None:
    assert testing.unique_project() != testing.unique_project()
