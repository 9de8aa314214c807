"""Cloud Scheduler jobs as Google stores them: names, validation, defaults and update masks.

Data only, no I/O; bad input raises `serving.ApiError(INVALID_ARGUMENT)` with Google's wording
where it is known.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from urllib import parse

import grpc
from google.cloud.scheduler_v1 import types
from google.protobuf import field_mask_pb2

from emulators import serving
from emulators.cloud_scheduler import schedules

NAME_FORMAT = (
    'Job name must be formatted: "projects/<PROJECT_ID>/locations/<LOCATION_ID>/jobs/<JOB_ID>".'
)
PARENT_FORMAT = 'Parent must be formatted: "projects/<PROJECT_ID>/locations/<LOCATION_ID>".'
_PARENT = r"projects/[A-Za-z0-9.:-]+/locations/[a-z0-9-]+"
PARENT = re.compile(rf"^{_PARENT}$")
NAME = re.compile(rf"^({_PARENT})/jobs/([A-Za-z0-9_-]{{1,500}})$")

USER_AGENT = "Google-Cloud-Scheduler"
DEFAULT_CONTENT_TYPE = "application/octet-stream"
DEFAULT_ATTEMPT_DEADLINE = timedelta(minutes=3)
DEADLINE_RANGE = (timedelta(seconds=15), timedelta(minutes=30))
DEFAULT_MIN_BACKOFF = timedelta(seconds=5)
DEFAULT_MAX_BACKOFF = timedelta(hours=1)
DEFAULT_MAX_DOUBLINGS = 5
MAX_RETRY_COUNT = 5
MAX_DESCRIPTION = 500
MAX_URI = 2083
BODY_METHODS = {types.HttpMethod.POST, types.HttpMethod.PUT, types.HttpMethod.PATCH}

# What a caller may set; everything else on a Job is output only.
SETTABLE = (
    "description",
    "pubsub_target",
    "app_engine_http_target",
    "http_target",
    "schedule",
    "time_zone",
    "retry_config",
    "attempt_deadline",
)


def invalid(message: str) -> serving.ApiError:
    return serving.ApiError(grpc.StatusCode.INVALID_ARGUMENT, message)


def check_parent(parent: str) -> str:
    if not PARENT.fullmatch(parent):
        raise invalid(PARENT_FORMAT)
    return parent


def parent_of(name: str) -> str:
    """The `projects/P/locations/L` of a job name, refusing a malformed name."""
    match = NAME.fullmatch(name)
    if match is None:
        raise invalid(NAME_FORMAT)
    return match.group(1)


def job_id(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def validate(job: types.Job) -> None:
    """Refuse a job Cloud Scheduler would refuse (the name is checked separately)."""
    if len(job.description) > MAX_DESCRIPTION:
        raise invalid(f"Description must be at most {MAX_DESCRIPTION} characters.")
    try:
        schedules.validate(job.schedule)
        schedules.time_zone(job.time_zone)
    except schedules.InvalidSchedule as error:
        raise invalid(str(error)) from error
    target = types.Job.pb(job).WhichOneof("target")
    if target is None:
        raise invalid(
            "A job needs a target: one of http_target, pubsub_target, app_engine_http_target."
        )
    if target != "http_target":
        raise serving.ApiError(
            grpc.StatusCode.UNIMPLEMENTED,
            f"The Cloud Scheduler emulator fires only http_target jobs, not {target}.",
        )
    _validate_http_target(job.http_target)
    _validate_retry_config(job.retry_config)
    if job.attempt_deadline:  # zero or unset: the default
        low, high = DEADLINE_RANGE
        if not low <= job.attempt_deadline <= high:
            raise invalid("attempt_deadline must be between 15 seconds and 30 minutes.")


def with_defaults(job: types.Job) -> types.Job:
    """A copy filled in the way Google stores a job (retry config, deadline, method, headers)."""
    stored = types.Job(job)
    retry = stored.retry_config
    if not retry.min_backoff_duration:
        retry.min_backoff_duration = DEFAULT_MIN_BACKOFF
    if not retry.max_backoff_duration:
        retry.max_backoff_duration = DEFAULT_MAX_BACKOFF
    if not retry.max_doublings:
        retry.max_doublings = DEFAULT_MAX_DOUBLINGS
    retry.max_retry_duration = retry.max_retry_duration or timedelta(0)
    stored.retry_config = retry
    if not stored.attempt_deadline:
        stored.attempt_deadline = DEFAULT_ATTEMPT_DEADLINE
    target = stored.http_target
    if target.http_method == types.HttpMethod.HTTP_METHOD_UNSPECIFIED:
        target.http_method = types.HttpMethod.POST
    headers = {key: value for key, value in target.headers.items() if key.lower() != "user-agent"}
    headers["User-Agent"] = USER_AGENT
    if target.body and not any(key.lower() == "content-type" for key in headers):
        headers["Content-Type"] = DEFAULT_CONTENT_TYPE
    target.headers.clear()
    target.headers.update(headers)
    stored.http_target = target
    return stored


def merge(stored: types.Job, patch: types.Job, paths: Sequence[str]) -> types.Job:
    """`stored` with the fields named by `paths` taken from `patch`; no paths = every settable
    field. Unknown or output-only paths are refused."""
    paths = list(paths) or list(SETTABLE)
    mask = field_mask_pb2.FieldMask(paths=paths)
    for path in paths:
        if path.split(".", 1)[0] not in SETTABLE:
            raise invalid(f"Invalid update_mask path: {path!r} is not a settable field of Job.")
    if not mask.IsValidForDescriptor(types.Job.pb().DESCRIPTOR):
        raise invalid(f"Invalid update_mask: {', '.join(paths)}.")
    merged = types.Job.pb(types.Job(stored))
    mask.MergeMessage(
        types.Job.pb(patch), merged, replace_message_field=True, replace_repeated_field=True
    )
    return types.Job.wrap(merged)


def _validate_http_target(target: types.HttpTarget) -> None:
    uri = parse.urlsplit(target.uri)
    if uri.scheme.lower() not in ("http", "https") or not uri.netloc:
        raise invalid('HttpTarget.uri must begin with "http://" or "https://" and name a host.')
    if len(target.uri) > MAX_URI:
        raise invalid(f"HttpTarget.uri must be at most {MAX_URI} characters.")
    method = target.http_method or types.HttpMethod.POST
    if target.body and method not in BODY_METHODS:
        raise invalid("A request body is allowed only if the HTTP method is POST, PUT, or PATCH.")
    authorization = types.HttpTarget.pb(target).WhichOneof("authorization_header")
    if authorization == "oauth_token":
        raise serving.ApiError(
            grpc.StatusCode.UNIMPLEMENTED,
            "The Cloud Scheduler emulator cannot mint OAuth access tokens; use oidc_token.",
        )
    if authorization == "oidc_token" and not target.oidc_token.service_account_email:
        raise invalid("OidcToken.service_account_email is required.")


def _validate_retry_config(retry: types.RetryConfig) -> None:
    if not 0 <= retry.retry_count <= MAX_RETRY_COUNT:
        raise invalid(f"RetryConfig.retry_count must be between 0 and {MAX_RETRY_COUNT}.")
    if retry.max_doublings < 0:
        raise invalid("RetryConfig.max_doublings must not be negative.")
    durations = {
        "max_retry_duration": retry.max_retry_duration,
        "min_backoff_duration": retry.min_backoff_duration,
        "max_backoff_duration": retry.max_backoff_duration,
    }
    for field, value in durations.items():
        if value and value < timedelta(0):
            raise invalid(f"RetryConfig.{field} must not be negative.")
    low = retry.min_backoff_duration or DEFAULT_MIN_BACKOFF
    high = retry.max_backoff_duration or DEFAULT_MAX_BACKOFF
    if low > high:
        raise invalid("RetryConfig.min_backoff_duration must not exceed max_backoff_duration.")
