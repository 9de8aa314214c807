"""Unix-cron schedules as Cloud Scheduler accepts them: five fields, no croniter extensions.

The one check of a schedule's syntax: registry rules, Django's system checks and the Cloud
Scheduler emulator (which answers with Google's own wording) all call `problem`.
"""

from __future__ import annotations

import functools
import re

from croniter import croniter

_MONTHS = "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC"
_DAYS = "SUN MON TUE WED THU FRI SAT"
# Names allowed in each of the 5 fields: unix-cron has no L, W, # or ? (croniter does).
_NAMES: tuple[frozenset[str], ...] = (
    *(frozenset[str]() for _ in range(3)),
    frozenset(_MONTHS.split(" ")),
    frozenset(_DAYS.split(" ")),
)
_FIELD = re.compile(r"^[0-9A-Za-z*,/-]+$")


# Registries repeat a few schedules many times, and croniter takes ~0.1 ms to check one.
@functools.lru_cache(maxsize=4096)
def problem(schedule: str) -> str:
    """Why `schedule` is not a unix-cron expression of 5 fields, or "" when it is one."""
    fields = schedule.split()
    if len(fields) != 5:
        return f"{schedule!r} is not a unix-cron expression: expected 5 fields, got {len(fields)}"
    for index, field in enumerate(fields):
        names = {word.upper() for word in re.findall(r"[A-Za-z]+", field)}
        if not _FIELD.match(field) or not names <= _NAMES[index]:
            return f"{schedule!r} is not a unix-cron expression: bad field {field!r}"
    if not croniter.is_valid(schedule):
        return f"{schedule!r} is not a unix-cron expression"
    return ""
