"""The rules a JSON Schema cannot express: cron syntax, time zones, name affix, duplicates, ranges.

Runs on the raw document after the schema, and skips values of the wrong type (the schema has
already reported those), so one pass reports every problem.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Callable, Mapping
from typing import Any

from controller.registry import crons, durations, errors, google_defaults, ownership, schemas

DESCRIPTION_LIMIT = 500  # Cloud Scheduler's limit, which our marker shares
ATTEMPT_DEADLINE = (15.0, 1800.0)  # HTTP targets
PUSH_BACKOFF = (0.0, 600.0)
RETENTION = (600.0, 604800.0)  # 10 minutes .. 7 days
HEADERS_LIMIT = 80 * 1024
METHODS_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
# Cloud Scheduler ignores or replaces these, so setting them would be drift forever.
_REPLACED_HEADERS = frozenset({"host", "content-length", "user-agent"})
_REPLACED_HEADER_PREFIXES = ("x-google-", "x-appengine-", "x-cloudscheduler")
_NOT_ZONES = frozenset({"localtime", "Factory", "posixrules"})

Report = Callable[[list[str | int], str], None]


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) - _NOT_ZONES


def _valid(field: str, value: object) -> bool:
    pattern = schemas.load()["properties"]["spec"]["properties"][field]["pattern"]
    return isinstance(value, str) and re.fullmatch(pattern, value) is not None


def time_zone_problem(name: str) -> str:
    """Why `name` is not an IANA time zone, or "" when it is one."""
    if name in _time_zones():
        return ""
    return f"{name!r} is not an IANA time zone name such as 'Europe/London' or 'UTC'"


def check(document: Mapping[str, Any], source: str) -> list[errors.RegistryError]:
    """Every semantic problem in a document that may also have structural ones."""
    found: list[errors.RegistryError] = []

    def report(path: list[str | int], message: str) -> None:
        found.append(errors.RegistryError(source, schemas.json_path(path), message))

    spec = document.get("spec")
    if not isinstance(spec, Mapping):
        return found
    affix, delimiter = spec.get("affix"), spec.get("delimiter", "--")
    # An invalid affix is reported once by the schema, not again on every name.
    valid = _valid("affix", affix) and _valid("delimiter", delimiter)
    prefix = f"{affix}{delimiter}" if valid else ""
    owner = spec.get("owner") if isinstance(spec.get("owner"), str) else ""
    for key, check_item in (("schedulerJobs", _check_job), ("subscriptions", _check_subscription)):
        items = spec.get(key)
        if not isinstance(items, list):
            continue
        seen: dict[str, int] = {}
        for index, item in enumerate(items):
            if not isinstance(item, Mapping):
                continue
            path: list[str | int] = ["spec", key, index]
            name = item.get("name")
            if isinstance(name, str):
                if prefix and not name.startswith(prefix):
                    report([*path, "name"], f"{name!r} does not start with the affix {prefix!r}")
                if name in seen:
                    first = schemas.json_path(["spec", key, seen[name]])
                    report([*path, "name"], f"duplicate name {name!r} (also at {first})")
                seen.setdefault(name, index)
            check_item(item, path, str(owner), report)
    return found


def _duration(value: object, default: float | None = None) -> float | None:
    if value is None:
        return default
    if not isinstance(value, str):
        return None
    try:
        return durations.parse(value)
    except ValueError:
        return None  # the schema reported it


def _check_range(
    item: Mapping[str, Any],
    key: str,
    bounds: tuple[float, float],
    path: list[str | int],
    report: Report,
) -> float | None:
    """The duration at `key` when it is within `bounds`, else None (reported if out of range)."""
    seconds = _duration(item.get(key))
    if seconds is not None and not bounds[0] <= seconds <= bounds[1]:
        low, high = (durations.format(bound) for bound in bounds)
        report([*path, key], f"{item[key]!r} is outside {low}..{high}")
        return None
    return seconds


def _check_backoffs(
    low: float | None, high: float | None, path: list[str | int], names: str, report: Report
) -> None:
    if low is not None and high is not None and low > high:
        report(path, f"{names}: the minimum is larger than the maximum")


def _check_job(item: Mapping[str, Any], path: list[str | int], owner: str, report: Report) -> None:
    schedule = item.get("schedule")
    if isinstance(schedule, str) and schedule and (problem := crons.problem(schedule)):
        report([*path, "schedule"], problem)
    zone = item.get("timeZone")
    if isinstance(zone, str) and zone and (problem := time_zone_problem(zone)):
        report([*path, "timeZone"], problem)
    description = item.get("description")
    if isinstance(description, str):
        if ownership.MARKER_PREFIX in description:
            report(
                [*path, "description"],
                f"must not contain the ownership marker {ownership.MARKER_PREFIX!r}",
            )
        room = DESCRIPTION_LIMIT - (len(ownership.describe("x", owner)) - 1)  # what the marker adds
        if len(description) > room:
            report(
                [*path, "description"],
                f"is {len(description)} characters; at most {room} fit beside the ownership marker",
            )
    target = item.get("httpTarget")
    if isinstance(target, Mapping):
        _check_http_target(target, [*path, "httpTarget"], report)
    retry = item.get("retryConfig")
    if isinstance(retry, Mapping):
        retry_path = [*path, "retryConfig"]
        low = _duration(retry.get("minBackoffDuration"), google_defaults.MIN_BACKOFF_DURATION)
        high = _duration(retry.get("maxBackoffDuration"), google_defaults.MAX_BACKOFF_DURATION)
        _check_backoffs(low, high, retry_path, "minBackoffDuration/maxBackoffDuration", report)
    _check_range(item, "attemptDeadline", ATTEMPT_DEADLINE, path, report)


def _check_http_target(target: Mapping[str, Any], path: list[str | int], report: Report) -> None:
    method = target.get("httpMethod", "POST")
    if target.get("body") and isinstance(method, str) and method not in METHODS_WITH_BODY:
        report([*path, "body"], f"a body needs httpMethod POST, PUT or PATCH, not {method}")
    headers = target.get("headers")
    if not isinstance(headers, Mapping):
        return
    for name in headers:
        lowered = name.lower()
        if lowered in _REPLACED_HEADERS or lowered.startswith(_REPLACED_HEADER_PREFIXES):
            report(
                [*path, "headers", name],
                f"{name!r} is set by Cloud Scheduler and cannot be configured",
            )
    size = sum(len(str(k)) + len(str(v)) for k, v in headers.items())
    if size >= HEADERS_LIMIT:
        report([*path, "headers"], f"headers total {size} bytes; Cloud Scheduler allows under 80KB")


def _check_subscription(
    item: Mapping[str, Any], path: list[str | int], owner: str, report: Report
) -> None:
    retry = item.get("retryPolicy")
    if isinstance(retry, Mapping):
        retry_path: list[str | int] = [*path, "retryPolicy"]
        low = _check_range(retry, "minimumBackoff", PUSH_BACKOFF, retry_path, report)
        high = _check_range(retry, "maximumBackoff", PUSH_BACKOFF, retry_path, report)
        if "minimumBackoff" not in retry:
            low = google_defaults.MINIMUM_BACKOFF
        if "maximumBackoff" not in retry:
            high = google_defaults.MAXIMUM_BACKOFF
        _check_backoffs(low, high, retry_path, "minimumBackoff/maximumBackoff", report)
    _check_range(item, "messageRetentionDuration", RETENTION, path, report)
    labels = item.get("labels")
    if isinstance(labels, Mapping):
        for key in sorted(ownership.LABELS & set(labels)):
            report([*path, "labels", key], f"{key!r} is the controller's ownership label")
