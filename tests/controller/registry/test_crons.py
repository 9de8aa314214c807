"""Unix-cron syntax as Cloud Scheduler accepts it: a table of accepted and refused schedules."""

from __future__ import annotations

import pytest

from controller.registry import crons


@pytest.mark.parametrize(
    "schedule",
    [
        "* * * * *",
        "*/5 * * * *",
        "0 9 * * 1-5",
        "30 3 * * MON-FRI",
        "0 0 1 jan,jul *",
        "0  3 * * *",
        "5,10-20/2 * * * *",
        "0 0 * * 7",  # 7 is Sunday too
        "0 0 * * mon-7",
        "0 0 5-1 * *",
    ],
)
def test_valid(schedule: str) -> None:
    assert crons.problem(schedule) == ""


@pytest.mark.parametrize(
    ("schedule", "words"),
    [
        ("", "expected 5 fields, got 0"),
        ("* * * * * *", "expected 5 fields, got 6"),
        ("@hourly", "expected 5 fields, got 1"),
        ("every 5 minutes", "expected 5 fields, got 3"),
        ("60 * * * *", "not a unix-cron expression"),
        ("1-2-3 * * * *", "not a unix-cron expression"),
        ("*/5/2 * * * *", "not a unix-cron expression"),
        ("0 0 */0 * *", "not a unix-cron expression"),
        ("0 0 L * *", "bad field 'L'"),
        ("0 0 1W * *", "bad field '1W'"),
        ("0 0 * * 5#2", "bad field '5#2'"),
        ("0 0 ? * *", "bad field '?'"),
        ("0 0 * MON *", "bad field 'MON'"),
        ("0 0 * * MONDAY", "bad field 'MONDAY'"),
        ("H * * * *", "bad field 'H'"),
    ],
)
def test_invalid(schedule: str, words: str) -> None:
    assert words in crons.problem(schedule)
