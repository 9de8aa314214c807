"""Cloud resource names, built the way django-gcp builds them. Purely data.

Scheduler job `{affix}{delim}{slug}`, subscription `{affix}{delim}{topic_id}{delim}{slug}`,
deduplicated task id `{sha}{delim}{slug}[{delim}{affix}]`: without an affix, no affix part.
"""

from __future__ import annotations

import re

# Cloud Tasks task ids and Cloud Scheduler job ids: letters, digits, hyphens, underscores.
RESOURCE_ID = re.compile(r"^[A-Za-z0-9_-]{1,500}$")
# Pub/Sub topic and subscription ids.
PUBSUB_ID = re.compile(r"^[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$")


def prefixed(value: str, affix: str | None, delimiter: str) -> str:
    return f"{affix}{delimiter}{value}" if affix else value


def suffixed(value: str, affix: str | None, delimiter: str) -> str:
    return f"{value}{delimiter}{affix}" if affix else value


def scheduler_job(slug: str, affix: str | None, delimiter: str) -> str:
    return prefixed(slug, affix, delimiter)


def subscription(topic_id: str, slug: str, affix: str | None, delimiter: str) -> str:
    return prefixed(f"{topic_id}{delimiter}{slug}", affix, delimiter)


def task_id(sha: str, slug: str, affix: str | None, delimiter: str) -> str:
    """The id of a deduplicated task; the hash leads, so ids spread over Cloud Tasks' keyspace."""
    value = suffixed(f"{sha}{delimiter}{slug}", affix, delimiter)
    if not RESOURCE_ID.fullmatch(value):
        raise ValueError(
            f"Task id {value!r} is not valid for Cloud Tasks (only letters, digits, '-' and '_', "
            "at most 500 characters): check GCP_TASKS_RESOURCE_AFFIX and GCP_TASKS_DELIMITER"
        )
    return value
