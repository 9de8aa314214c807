"""Cron expressions and time zones, the two rules with the most edge cases."""

from __future__ import annotations

import pytest

from controller.registry import rules


@pytest.mark.parametrize(
    "schedule",
    [
        "* * * * *",
        "*/5 * * * *",
        "0 9 * * 1-5",
        "30 3 * * MON-FRI",
        "0 0 1 jan,jul *",
        "0  3 * * *",
    ],
)
def test_valid_cron(schedule: str) -> None:
    assert rules.cron_problem(schedule) == ""


@pytest.mark.parametrize(
    ("schedule", "words"),
    [
        ("", "expected 5 fields, got 0"),
        ("* * * * * *", "expected 5 fields, got 6"),
        ("@hourly", "expected 5 fields, got 1"),
        ("every 5 minutes", "expected 5 fields, got 3"),
        ("60 * * * *", "not a unix-cron expression"),
        ("0 0 L * *", "bad field 'L'"),
        ("0 0 * * 5#2", "bad field '5#2'"),
        ("0 0 ? * *", "bad field '?'"),
        ("0 0 * MON *", "bad field 'MON'"),
        ("H * * * *", "bad field 'H'"),
    ],
)
def test_invalid_cron(schedule: str, words: str) -> None:
    assert words in rules.cron_problem(schedule)


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("UTC", True),
        ("Etc/UTC", True),
        ("Europe/London", True),
        ("America/Argentina/Buenos_Aires", True),
        ("europe/london", False),
        ("GMT+1", False),
        ("localtime", False),
        ("Mars/Olympus_Mons", False),
    ],
)
def test_time_zones(name: str, valid: bool) -> None:
    assert (rules.time_zone_problem(name) == "") is valid
