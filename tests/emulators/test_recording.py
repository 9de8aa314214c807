import threading
from datetime import UTC, datetime

import pytest

from emulators import clock as clocks
from emulators import recording

START = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("method", "is_write"),
    [
        ("CreateTask", True),
        ("UpdateJob", True),
        ("DeleteQueue", True),
        ("PauseJob", True),
        ("ResumeQueue", True),
        ("RunTask", True),
        ("PurgeQueue", True),
        ("PatchSubscription", True),
        ("GetTask", False),
        ("ListJobs", False),
    ],
)
def test_writes_are_the_mutating_methods(method: str, is_write: bool) -> None:
    log = recording.RequestLog()
    log.record("svc", method, "projects/p")
    assert [entry.method for entry in log.writes()] == ([method] if is_write else [])


def test_record_keeps_resource_mask_and_clock_time() -> None:
    clock = clocks.ManualClock(START)
    log = recording.RequestLog(now=clock.now)
    log.record("google.cloud.scheduler.v1.CloudScheduler", "UpdateJob", "jobs/a", ["schedule"])
    clock.advance(5)
    log.record("google.cloud.scheduler.v1.CloudScheduler", "GetJob", "jobs/a")
    first, second = log.entries
    assert first == recording.Request(
        "google.cloud.scheduler.v1.CloudScheduler", "UpdateJob", "jobs/a", ("schedule",), START
    )
    assert second.update_mask == ()
    assert (second.at - first.at).total_seconds() == 5


def test_count_and_clear() -> None:
    log = recording.RequestLog()
    for method in ("ListJobs", "ListJobs", "CreateJob"):
        log.record("svc", method, "r")
    assert (log.count(), log.count("ListJobs"), log.count("CreateJob"), log.count("X")) == (
        3,
        2,
        1,
        0,
    )
    log.clear()
    assert log.count() == 0
    assert log.entries == []


def test_entries_is_a_snapshot() -> None:
    log = recording.RequestLog()
    log.record("svc", "GetJob", "r")
    snapshot = log.entries
    log.record("svc", "GetJob", "r")
    assert len(snapshot) == 1


def test_concurrent_records_are_all_kept() -> None:
    log = recording.RequestLog()

    def hammer() -> None:
        for _ in range(500):
            log.record("svc", "CreateTask", "r")

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert log.count("CreateTask") == 4000


def test_a_bounded_log_keeps_the_newest_entries_and_exact_counts() -> None:
    log = recording.RequestLog(capacity=3)
    for index in range(5):
        log.record("svc", "CreateTask" if index % 2 else "GetTask", f"r{index}")
    assert [entry.resource for entry in log.entries] == ["r2", "r3", "r4"]
    assert (log.count(), log.count("CreateTask"), log.count("GetTask")) == (5, 2, 3)
