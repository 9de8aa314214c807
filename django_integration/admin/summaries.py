"""Per task, over the last hour, day and week: executions, failure rate, median and max duration,
computed in the database (one grouped query, then two rows per median), never in Python over
every row."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from django_integration import models


@dataclasses.dataclass(frozen=True)
class Window:
    label: str
    length: timedelta


WINDOWS = {
    "hour": Window("hour", timedelta(hours=1)),
    "day": Window("day", timedelta(days=1)),
    "week": Window("week", timedelta(days=7)),
}


@dataclasses.dataclass(frozen=True)
class Stats:
    executions: int
    failed: int
    finished: int
    timed: int  # finished with a duration: a failed enqueue (attempt 0) ran nothing to time
    median: timedelta | None
    longest: timedelta | None

    @property
    def failure_rate(self) -> float | None:
        """Failed among finished executions (running ones are not counted); None: none finished."""
        return self.failed / self.finished if self.finished else None


@dataclasses.dataclass(frozen=True)
class TaskSummary:
    task: str
    windows: dict[str, Stats]


def per_task(executions: QuerySet[models.TaskExecution]) -> list[TaskSummary]:
    """The summary of every task with an execution in the longest window, by task name."""
    now = timezone.now()
    starts = {key: now - window.length for key, window in WINDOWS.items()}
    aggregates = {}
    for key, since in starts.items():
        within = Q(started_at__gte=since)
        finished = within & Q(status__in=[models.Status.SUCCESSFUL, models.Status.FAILED])
        aggregates[f"{key}_executions"] = Count("id", filter=within)
        aggregates[f"{key}_failed"] = Count("id", filter=within & Q(status=models.Status.FAILED))
        aggregates[f"{key}_finished"] = Count("id", filter=finished)
        aggregates[f"{key}_timed"] = Count("id", filter=finished & Q(duration__isnull=False))
        aggregates[f"{key}_longest"] = Max("duration", filter=within)
    recent = executions.filter(started_at__gte=min(starts.values()))
    grouped = recent.order_by().values("task").annotate(**aggregates).order_by("task")
    summaries = []
    for row in grouped:
        windows = {
            key: Stats(
                executions=row[f"{key}_executions"],
                failed=row[f"{key}_failed"],
                finished=row[f"{key}_finished"],
                timed=row[f"{key}_timed"],
                median=_median(recent, row["task"], since, row[f"{key}_timed"]),
                longest=row[f"{key}_longest"],
            )
            for key, since in starts.items()
        }
        summaries.append(TaskSummary(task=row["task"], windows=windows))
    return summaries


def seconds(duration: timedelta | None) -> str:
    """A duration as people read it in a table: 0.042 s, 12.5 s, 3 min 20 s."""
    if duration is None:
        return "-"
    total = duration.total_seconds()
    if total < 10:
        return f"{total:.3f} s"
    if total < 120:
        return f"{total:.1f} s"
    minutes, rest = divmod(round(total), 60)
    return f"{minutes} min {rest} s"


def _median(
    recent: QuerySet[models.TaskExecution], task: str, since: object, count: int
) -> timedelta | None:
    """The median finished duration: the middle one or two rows, sorted by the database."""
    if not count:
        return None
    durations = list(
        recent.filter(
            task=task,
            started_at__gte=since,
            status__in=[models.Status.SUCCESSFUL, models.Status.FAILED],
            duration__isnull=False,
        )
        .order_by("duration")
        .values_list("duration", flat=True)[(count - 1) // 2 : count // 2 + 1]
    )
    return sum(durations, timedelta()) / len(durations)
