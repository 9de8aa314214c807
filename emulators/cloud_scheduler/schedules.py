"""Cron schedules and time zones as Cloud Scheduler reads them, and retry backoff; pure, no I/O.

Schedules are unix-cron with five fields (minute hour day-of-month month day-of-week; names like
JAN/MON and 7 for Sunday allowed), evaluated on wall-clock time in the job's time zone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from controller.registry import crons

# Google answers every bad schedule and every bad time zone with this one sentence.
INVALID = "Schedule or time zone is invalid."

# No schedule has a gap longer than this between firings ("0 0 29 2 *" fires every 4-8 years).
_SEARCH_LIMIT = 20_000


class InvalidSchedule(ValueError):
    """A cron expression or time zone Cloud Scheduler would refuse."""


def time_zone(name: str) -> ZoneInfo:
    """The zone for a job's `time_zone`: an IANA name; empty or "utc" (any case) means UTC."""
    if not name or name.lower() == "utc":
        return ZoneInfo("UTC")
    # ZoneInfo also accepts file paths ("../zoneinfo/UTC"); IANA names never start with . or /.
    if name.startswith((".", "/")) or "//" in name:
        raise InvalidSchedule(INVALID)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise InvalidSchedule(INVALID) from error


def validate(schedule: str) -> None:
    """Raise InvalidSchedule unless `schedule` is a five-field unix-cron expression."""
    # The grammar is Google's, declared once beside the registry's rules that check it early.
    if crons.problem(schedule):
        raise InvalidSchedule(INVALID)


def next_fire(schedule: str, zone_name: str, after: datetime) -> datetime:
    """The first firing strictly after `after` (aware), in UTC.

    Local times skipped by a daylight-saving jump do not fire; a local time that occurs twice
    fires once, at its first occurrence.
    """
    validate(schedule)
    zone = time_zone(zone_name)
    after = after.astimezone(UTC)
    # Start a little before `after` in local time so a repeated hour is not jumped over.
    start = (after.astimezone(zone) - timedelta(hours=2)).replace(tzinfo=None)
    candidates = croniter(schedule, start)
    for _ in range(_SEARCH_LIMIT):
        local: datetime = candidates.get_next(datetime)
        aware = local.replace(tzinfo=zone, fold=0)
        instant = aware.astimezone(UTC)
        if instant.astimezone(zone).replace(tzinfo=None) != local:
            continue  # in a spring-forward gap: this wall time does not exist today
        if instant > after:
            return instant
    raise InvalidSchedule(INVALID)


def backoff(retry: int, *, min_backoff: float, max_backoff: float, max_doublings: int) -> float:
    """Seconds to wait before retry number `retry` (0 = the first retry).

    The interval doubles `max_doublings` times, then grows linearly by the last doubled step,
    capped at `max_backoff`: 10s/300s/3 gives 10, 20, 40, 80, 160, 240, 300, 300, ...
    """
    if retry < 0:
        raise ValueError("retry numbers start at 0")
    doublings = min(retry, max_doublings)
    step = min_backoff * 2**doublings
    interval = step + (retry - doublings) * step if retry > max_doublings else step
    return min(interval, max_backoff) if max_backoff > 0 else interval
