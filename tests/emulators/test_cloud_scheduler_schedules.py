from datetime import UTC, datetime

import pytest

from emulators.cloud_scheduler import schedules


@pytest.mark.parametrize(
    "schedule",
    [
        "* * * * *",
        "*/15 * * * *",
        "0 9 * * 1",
        "45 23 * * 6",
        "0 9 * * 7",  # 7 is Sunday too
        "0 9 * JAN-MAR MON-FRI",
        "0 0-23/2 * * *",
        "0 0 1,15 * *",
        "  0 9 * * *  ",
    ],
)
def test_valid_unix_cron(schedule: str) -> None:
    schedules.validate(schedule)


@pytest.mark.parametrize(
    "schedule",
    [
        "",
        "every 5 minutes",  # legacy App Engine syntax: not emulated
        "* * * *",
        "* * * * * *",  # a seconds field
        "60 * * * *",
        "0 24 * * *",
        "0 0 0 * *",
        "0 0 * 13 *",
        "0 0 * * 8",
        "@daily",
        "0 0 L * *",
        "0 0 * * 1#2",
        "0 9 * * ?",
        "0 9 * MON *",  # a weekday name in the month field
        "a b c d e",
    ],
)
def test_invalid_cron_is_refused_with_googles_sentence(schedule: str) -> None:
    with pytest.raises(schedules.InvalidSchedule, match=r"^Schedule or time zone is invalid\.$"):
        schedules.validate(schedule)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("", "UTC"),
        ("utc", "UTC"),
        ("UTC", "UTC"),
        ("Etc/UTC", "Etc/UTC"),
        ("Europe/Paris", "Europe/Paris"),
        ("America/New_York", "America/New_York"),
    ],
)
def test_time_zones(name: str, key: str) -> None:
    assert schedules.time_zone(name).key == key


@pytest.mark.parametrize("name", ["Mars/Olympus", "Asia/Munbai", "utc+8", "../etc/passwd", "/UTC"])
def test_bad_time_zone(name: str) -> None:
    with pytest.raises(schedules.InvalidSchedule, match="time zone is invalid"):
        schedules.time_zone(name)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("schedule", "zone", "after", "expected"),
    [
        ("* * * * *", "", utc(2025, 1, 15, 12, 0), utc(2025, 1, 15, 12, 1)),
        ("* * * * *", "", utc(2025, 1, 15, 12, 0, 30), utc(2025, 1, 15, 12, 1)),
        ("0 9 * * *", "UTC", utc(2025, 1, 15, 12, 0), utc(2025, 1, 16, 9, 0)),
        # Paris is UTC+1 in winter, UTC+2 in summer.
        ("0 9 * * *", "Europe/Paris", utc(2025, 1, 15, 12, 0), utc(2025, 1, 16, 8, 0)),
        ("0 9 * * *", "Europe/Paris", utc(2025, 7, 15, 12, 0), utc(2025, 7, 16, 7, 0)),
        ("0 9 * * *", "Europe/Paris", utc(2025, 1, 16, 7, 59), utc(2025, 1, 16, 8, 0)),
        ("0 9 * * *", "Europe/Paris", utc(2025, 1, 16, 8, 0), utc(2025, 1, 17, 8, 0)),
        ("30 8 * * 1", "America/New_York", utc(2025, 1, 15), utc(2025, 1, 20, 13, 30)),
        # Spring forward in Paris (2025-03-30 02:00 -> 03:00): 02:30 does not exist that day.
        ("30 2 * * *", "Europe/Paris", utc(2025, 3, 29, 2, 0), utc(2025, 3, 31, 0, 30)),
        # Fall back (2025-10-26 03:00 -> 02:00): 02:30 happens twice and fires once, the first.
        ("30 2 * * *", "Europe/Paris", utc(2025, 10, 25, 12, 0), utc(2025, 10, 26, 0, 30)),
        ("30 2 * * *", "Europe/Paris", utc(2025, 10, 26, 0, 30), utc(2025, 10, 27, 1, 30)),
        ("0 0 29 2 *", "", utc(2025, 1, 1), utc(2028, 2, 29)),
    ],
)
def test_next_fire(schedule: str, zone: str, after: datetime, expected: datetime) -> None:
    assert schedules.next_fire(schedule, zone, after) == expected


@pytest.mark.parametrize(
    ("retry", "expected"),
    [(0, 10), (1, 20), (2, 40), (3, 80), (4, 160), (5, 240), (6, 300), (9, 300)],
)
def test_backoff_doubles_then_grows_linearly_then_caps(retry: int, expected: float) -> None:
    # Google's documented example: min 10s, max 300s, max_doublings 3.
    assert schedules.backoff(retry, min_backoff=10, max_backoff=300, max_doublings=3) == expected


@pytest.mark.parametrize(
    ("retry", "expected"), [(0, 5), (1, 10), (2, 20), (5, 160), (6, 320), (20, 2560), (30, 3600)]
)
def test_backoff_with_googles_defaults(retry: int, expected: float) -> None:
    assert schedules.backoff(retry, min_backoff=5, max_backoff=3600, max_doublings=5) == expected
