"""Registry documents (versioned JSON) to `model.Registry` and back, with every error collected.

`parse` checks the apiVersion and kind, then the JSON Schema (structure), then the rules a schema
cannot express; it raises only after collecting every problem. `render` is canonical: sorted keys,
2-space indent, a trailing newline, resources sorted by name, every field written with its value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from controller.registry import durations, errors, google_defaults, model, rules, schemas

_AFFIX_PATH = schemas.json_path(["spec", "affix"])


def parse(
    document: str | bytes | Mapping[str, Any], source: str, *, affix_required: bool = True
) -> model.Registry:
    """A validated registry from JSON text or an already-decoded mapping; raises `RegistryError`.

    `affix_required=False` lets an empty affix through (django-gcp's `task_manager` works without
    one); every registry the controller reads must have one."""
    if isinstance(document, str | bytes):
        try:
            decoded = json.loads(document)  # JSON's objects and arrays are dicts and lists
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise errors.RegistryError(source, "$", f"not valid JSON: {error}") from None
    else:
        decoded = _plain(document)
    if not isinstance(decoded, dict):
        kind = type(decoded).__name__
        raise errors.RegistryError(source, "$", f"a registry is a JSON object, not {kind}")
    plain: dict[str, Any] = decoded
    errors.raise_if_any(_check_header(plain, source))
    found = schemas.check(plain, source) + rules.check(plain, source)
    spec = plain.get("spec")
    if not affix_required and isinstance(spec, Mapping) and spec.get("affix") == "":
        found = [error for error in found if error.path != _AFFIX_PATH]
    errors.raise_if_any(found)
    return _registry(plain, source)


def to_mapping(registry: model.Registry) -> dict[str, Any]:
    """The JSON-ready document for `registry` (its `source` is not part of it)."""
    metadata: dict[str, Any] = {"name": registry.name}
    if registry.generated_by:
        metadata["generatedBy"] = registry.generated_by
    if registry.annotations:
        metadata["annotations"] = dict(registry.annotations)
    jobs = sorted(registry.scheduler_jobs, key=lambda job: job.name)
    subscriptions = sorted(registry.subscriptions, key=lambda sub: sub.name)
    return {
        "apiVersion": model.API_VERSION,
        "kind": model.KIND,
        "metadata": metadata,
        "spec": {
            "project": registry.project,
            "location": registry.location,
            "affix": registry.affix,
            "delimiter": registry.delimiter,
            "owner": registry.owner,
            "schedulerJobs": [_job_mapping(job) for job in jobs],
            "subscriptions": [_subscription_mapping(sub) for sub in subscriptions],
        },
    }


def render(registry: model.Registry) -> str:
    """Canonical JSON text: the same registry always gives byte-identical output."""
    text = json.dumps(to_mapping(registry), sort_keys=True, indent=2, ensure_ascii=False)
    return text + "\n"


def _plain(value: Any) -> Any:
    """Dicts and lists all the way down: the schema's `object`/`array` mean exactly those."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _check_header(document: Mapping[str, Any], source: str) -> list[errors.RegistryError]:
    # A wrong version or kind makes every other complaint noise, so it is reported alone.
    found = []
    api_version = document.get("apiVersion")
    if api_version != model.API_VERSION:
        found.append(
            errors.RegistryError(
                source,
                "$.apiVersion",
                f"unsupported apiVersion {api_version!r}, expected {model.API_VERSION}",
            )
        )
    kind = document.get("kind")
    if kind != model.KIND:
        found.append(
            errors.RegistryError(
                source, "$.kind", f"unsupported kind {kind!r}, expected {model.KIND}"
            )
        )
    return found


def _oidc_mapping(token: model.OidcToken | None) -> dict[str, Any] | None:
    if token is None:
        return None
    return {"serviceAccountEmail": token.service_account_email, "audience": token.audience}


def _job_mapping(job: model.SchedulerJob) -> dict[str, Any]:
    target: dict[str, Any] = {
        "uri": job.uri,
        "httpMethod": job.http_method,
        "body": job.body,
        "headers": dict(job.headers),
    }
    if job.oidc_token is not None:
        target["oidcToken"] = _oidc_mapping(job.oidc_token)
    return {
        "name": job.name,
        "schedule": job.schedule,
        "timeZone": job.time_zone,
        "description": job.description,
        "paused": job.paused,
        "httpTarget": target,
        "retryConfig": {
            "retryCount": job.retry.retry_count,
            "maxRetryDuration": durations.format(job.retry.max_retry_duration),
            "minBackoffDuration": durations.format(job.retry.min_backoff_duration),
            "maxBackoffDuration": durations.format(job.retry.max_backoff_duration),
            "maxDoublings": job.retry.max_doublings,
        },
        "attemptDeadline": durations.format(job.attempt_deadline),
    }


def _subscription_mapping(sub: model.Subscription) -> dict[str, Any]:
    mapping: dict[str, Any] = {
        "name": sub.name,
        "topic": sub.topic,
        "pushEndpoint": sub.push_endpoint,
        "ackDeadlineSeconds": sub.ack_deadline_seconds,
        "enableMessageOrdering": sub.enable_message_ordering,
        "filter": sub.filter,
        "messageRetentionDuration": durations.format(sub.message_retention_duration),
        "labels": dict(sub.labels),
        "createTopic": sub.create_topic,
    }
    if sub.oidc_token is not None:
        mapping["oidcToken"] = _oidc_mapping(sub.oidc_token)
    if sub.dead_letter_topic:
        mapping["deadLetterPolicy"] = {
            "deadLetterTopic": sub.dead_letter_topic,
            "maxDeliveryAttempts": sub.max_delivery_attempts,
        }
    if sub.retry is not None:
        mapping["retryPolicy"] = {
            "minimumBackoff": durations.format(sub.retry.minimum_backoff),
            "maximumBackoff": durations.format(sub.retry.maximum_backoff),
        }
    return mapping


def _oidc(mapping: Mapping[str, Any] | None) -> model.OidcToken | None:
    if mapping is None:
        return None
    return model.OidcToken(mapping["serviceAccountEmail"], mapping.get("audience", ""))


def _seconds(mapping: Mapping[str, Any], key: str, default: float) -> float:
    return durations.parse(mapping[key]) if key in mapping else default


def _job(mapping: Mapping[str, Any]) -> model.SchedulerJob:
    target = mapping["httpTarget"]
    retry = mapping.get("retryConfig", {})
    return model.SchedulerJob(
        name=mapping["name"],
        schedule=mapping["schedule"],
        uri=target["uri"],
        time_zone=mapping.get("timeZone", google_defaults.TIME_ZONE),
        description=mapping.get("description", ""),
        paused=mapping.get("paused", False),
        http_method=target.get("httpMethod", google_defaults.HTTP_METHOD),
        body=target.get("body", ""),
        headers=target.get("headers", {}),
        oidc_token=_oidc(target.get("oidcToken")),
        retry=model.SchedulerRetry(
            retry_count=int(retry.get("retryCount", google_defaults.RETRY_COUNT)),
            max_retry_duration=_seconds(
                retry, "maxRetryDuration", google_defaults.MAX_RETRY_DURATION
            ),
            min_backoff_duration=_seconds(
                retry, "minBackoffDuration", google_defaults.MIN_BACKOFF_DURATION
            ),
            max_backoff_duration=_seconds(
                retry, "maxBackoffDuration", google_defaults.MAX_BACKOFF_DURATION
            ),
            max_doublings=int(retry.get("maxDoublings", google_defaults.MAX_DOUBLINGS)),
        ),
        attempt_deadline=_seconds(mapping, "attemptDeadline", google_defaults.ATTEMPT_DEADLINE),
    )


def _subscription(mapping: Mapping[str, Any]) -> model.Subscription:
    dead_letter = mapping.get("deadLetterPolicy", {})
    retry = mapping.get("retryPolicy")
    return model.Subscription(
        name=mapping["name"],
        topic=mapping["topic"],
        push_endpoint=mapping["pushEndpoint"],
        oidc_token=_oidc(mapping.get("oidcToken")),
        ack_deadline_seconds=int(
            mapping.get("ackDeadlineSeconds", google_defaults.ACK_DEADLINE_SECONDS)
        ),
        enable_message_ordering=mapping.get("enableMessageOrdering", False),
        filter=mapping.get("filter", ""),
        dead_letter_topic=dead_letter.get("deadLetterTopic", ""),
        max_delivery_attempts=int(
            dead_letter.get("maxDeliveryAttempts", google_defaults.MAX_DELIVERY_ATTEMPTS)
        ),
        retry=None
        if retry is None
        else model.PushRetry(
            minimum_backoff=_seconds(retry, "minimumBackoff", google_defaults.MINIMUM_BACKOFF),
            maximum_backoff=_seconds(retry, "maximumBackoff", google_defaults.MAXIMUM_BACKOFF),
        ),
        message_retention_duration=_seconds(
            mapping, "messageRetentionDuration", google_defaults.MESSAGE_RETENTION_DURATION
        ),
        labels=mapping.get("labels", {}),
        create_topic=mapping.get("createTopic", True),
    )


def _registry(document: Mapping[str, Any], source: str) -> model.Registry:
    metadata, spec = document["metadata"], document["spec"]
    jobs = sorted((_job(job) for job in spec.get("schedulerJobs", [])), key=lambda j: j.name)
    subs = sorted((_subscription(s) for s in spec.get("subscriptions", [])), key=lambda s: s.name)
    return model.Registry(
        source=source,
        project=spec["project"],
        location=spec["location"],
        affix=spec["affix"],
        owner=spec["owner"],
        delimiter=spec.get("delimiter", "--"),
        scheduler_jobs=tuple(jobs),
        subscriptions=tuple(subs),
        name=metadata["name"],
        generated_by=metadata.get("generatedBy", ""),
        annotations=metadata.get("annotations", {}),
    )
