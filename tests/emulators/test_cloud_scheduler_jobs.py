from datetime import timedelta

import grpc
import pytest
from google.cloud.scheduler_v1 import types

from emulators import serving
from emulators.cloud_scheduler import jobs

NAME = "projects/my-project/locations/europe-west1/jobs/nightly"


def job(**changes: object) -> types.Job:
    fields: dict[str, object] = {
        "name": NAME,
        "schedule": "0 9 * * *",
        "time_zone": "Europe/Paris",
        "http_target": types.HttpTarget(uri="https://app.example/tasks/nightly"),
    }
    fields.update(changes)
    return types.Job(**fields)


@pytest.mark.parametrize(
    ("name", "parent"),
    [
        (NAME, "projects/my-project/locations/europe-west1"),
        ("projects/p:q.r/locations/us-central1/jobs/A_b-9", "projects/p:q.r/locations/us-central1"),
        ("projects/p/locations/l/jobs/" + "j" * 500, "projects/p/locations/l"),
    ],
)
def test_parent_of_valid_names(name: str, parent: str) -> None:
    assert jobs.parent_of(name) == parent


@pytest.mark.parametrize(
    "name",
    [
        "",
        "nightly",
        "projects/p/locations/l/jobs/",
        "projects/p/locations/l/jobs/has.dot",
        "projects/p/locations/l/jobs/has space",
        "projects/p/locations/l/jobs/" + "j" * 501,
        "projects/p/locations/l/queues/q",
        "projects/p/jobs/j",
        "projects/p/locations/l/jobs/j/extra",
        "projects/p/locations/l/jobs/j\n",
    ],
)
def test_malformed_names_get_googles_message(name: str) -> None:
    with pytest.raises(serving.ApiError) as raised:
        jobs.parent_of(name)
    assert raised.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert raised.value.message == jobs.NAME_FORMAT


@pytest.mark.parametrize(
    ("changes", "code", "fragment"),
    [
        ({"schedule": "not cron"}, "INVALID_ARGUMENT", "Schedule or time zone is invalid."),
        ({"schedule": ""}, "INVALID_ARGUMENT", "Schedule or time zone is invalid."),
        ({"time_zone": "Europe/Pariss"}, "INVALID_ARGUMENT", "Schedule or time zone is invalid."),
        ({"description": "x" * 501}, "INVALID_ARGUMENT", "Description"),
        ({"http_target": None}, "INVALID_ARGUMENT", "needs a target"),
        (
            {"http_target": None, "pubsub_target": types.PubsubTarget(topic_name="t")},
            "UNIMPLEMENTED",
            "pubsub_target",
        ),
        ({"http_target": types.HttpTarget(uri="ftp://x/y")}, "INVALID_ARGUMENT", "http://"),
        ({"http_target": types.HttpTarget(uri="no-scheme")}, "INVALID_ARGUMENT", "http://"),
        (
            {
                "http_target": types.HttpTarget(
                    uri="http://x", http_method=types.HttpMethod.GET, body=b"b"
                )
            },
            "INVALID_ARGUMENT",
            "POST, PUT, or PATCH",
        ),
        (
            {"http_target": types.HttpTarget(uri="http://x", oidc_token=types.OidcToken())},
            "INVALID_ARGUMENT",
            "service_account_email",
        ),
        (
            {
                "http_target": types.HttpTarget(
                    uri="http://x", oauth_token=types.OAuthToken(service_account_email="a@b")
                )
            },
            "UNIMPLEMENTED",
            "OAuth",
        ),
        ({"retry_config": types.RetryConfig(retry_count=6)}, "INVALID_ARGUMENT", "retry_count"),
        ({"retry_config": types.RetryConfig(retry_count=-1)}, "INVALID_ARGUMENT", "retry_count"),
        (
            {
                "retry_config": types.RetryConfig(
                    min_backoff_duration=timedelta(minutes=5),
                    max_backoff_duration=timedelta(minutes=1),
                )
            },
            "INVALID_ARGUMENT",
            "min_backoff_duration",
        ),
        ({"attempt_deadline": timedelta(seconds=5)}, "INVALID_ARGUMENT", "attempt_deadline"),
        ({"attempt_deadline": timedelta(hours=1)}, "INVALID_ARGUMENT", "attempt_deadline"),
    ],
)
def test_validate_refuses(changes: dict[str, object], code: str, fragment: str) -> None:
    with pytest.raises(serving.ApiError) as raised:
        jobs.validate(job(**changes))
    assert raised.value.code == getattr(grpc.StatusCode, code)
    assert fragment in raised.value.message


def test_validate_accepts_a_complete_job() -> None:
    jobs.validate(
        job(
            description="nightly report",
            retry_config=types.RetryConfig(retry_count=5),
            attempt_deadline=timedelta(seconds=15),
            http_target=types.HttpTarget(
                uri="http://localhost:8000/x",
                http_method=types.HttpMethod.PUT,
                body=b"{}",
                oidc_token=types.OidcToken(service_account_email="sa@p.iam.gserviceaccount.com"),
            ),
        )
    )


def test_defaults_are_googles() -> None:
    stored = jobs.with_defaults(job())
    assert stored.attempt_deadline == timedelta(minutes=3)
    assert stored.retry_config.retry_count == 0
    assert stored.retry_config.max_retry_duration == timedelta(0)
    assert stored.retry_config.min_backoff_duration == timedelta(seconds=5)
    assert stored.retry_config.max_backoff_duration == timedelta(hours=1)
    assert stored.retry_config.max_doublings == 5
    assert stored.http_target.http_method == types.HttpMethod.POST
    assert dict(stored.http_target.headers) == {"User-Agent": "Google-Cloud-Scheduler"}


@pytest.mark.parametrize(
    ("body", "headers", "expected"),
    [
        (b"", {}, {"User-Agent": "Google-Cloud-Scheduler"}),
        (
            b"{}",
            {},
            {"User-Agent": "Google-Cloud-Scheduler", "Content-Type": "application/octet-stream"},
        ),
        (
            b"{}",
            {"content-type": "application/json"},
            {"User-Agent": "Google-Cloud-Scheduler", "content-type": "application/json"},
        ),
        (
            b"",
            {"user-agent": "mine", "X-Trace": "1"},
            {"User-Agent": "Google-Cloud-Scheduler", "X-Trace": "1"},
        ),
    ],
)
def test_default_headers(body: bytes, headers: dict[str, str], expected: dict[str, str]) -> None:
    given = job(http_target=types.HttpTarget(uri="http://x", body=body, headers=headers))
    assert dict(jobs.with_defaults(given).http_target.headers) == expected


def test_explicit_settings_survive_defaults() -> None:
    given = job(
        retry_config=types.RetryConfig(
            retry_count=3, min_backoff_duration=timedelta(seconds=1), max_doublings=2
        ),
        attempt_deadline=timedelta(seconds=30),
    )
    stored = jobs.with_defaults(given)
    assert stored.retry_config.retry_count == 3
    assert stored.retry_config.min_backoff_duration == timedelta(seconds=1)
    assert stored.retry_config.max_doublings == 2
    assert stored.attempt_deadline == timedelta(seconds=30)


STORED = job(
    description="old",
    http_target=types.HttpTarget(uri="http://old/", headers={"A": "1"}, body=b"old"),
    retry_config=types.RetryConfig(retry_count=1, max_doublings=4),
    state=types.Job.State.PAUSED,
)
PATCH = job(
    description="new",
    schedule="*/5 * * * *",
    time_zone="",
    http_target=types.HttpTarget(uri="http://new/", headers={"B": "2"}),
    retry_config=types.RetryConfig(retry_count=2),
)


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        (["description"], {"description": "new"}),
        (["schedule", "time_zone"], {"schedule": "*/5 * * * *", "time_zone": ""}),
        (["http_target.uri"], {"uri": "http://new/"}),
        (["http_target.headers"], {"headers": {"B": "2"}}),
        (["http_target.body"], {"body": b""}),
        (["http_target"], {"uri": "http://new/", "headers": {"B": "2"}, "body": b""}),
        (["retry_config.retry_count"], {"retry_count": 2}),
        (["retry_config"], {"retry_count": 2, "max_doublings": 0}),
    ],
)
def test_merge_changes_only_the_named_fields(paths: list[str], expected: dict[str, object]) -> None:
    merged = jobs.merge(STORED, PATCH, paths)
    actual = {
        "description": merged.description,
        "schedule": merged.schedule,
        "time_zone": merged.time_zone,
        "uri": merged.http_target.uri,
        "headers": dict(merged.http_target.headers),
        "body": merged.http_target.body,
        "retry_count": merged.retry_config.retry_count,
        "max_doublings": merged.retry_config.max_doublings,
    }
    unchanged = {
        "description": "old",
        "schedule": "0 9 * * *",
        "time_zone": "Europe/Paris",
        "uri": "http://old/",
        "headers": {"A": "1"},
        "body": b"old",
        "retry_count": 1,
        "max_doublings": 4,
    }
    assert actual == {**unchanged, **expected}
    assert merged.state == types.Job.State.PAUSED  # output fields are never taken from a patch
    assert merged.name == NAME


def test_merge_without_paths_replaces_every_settable_field() -> None:
    merged = jobs.merge(STORED, PATCH, [])
    assert merged.description == "new"
    assert merged.schedule == "*/5 * * * *"
    assert dict(merged.http_target.headers) == {"B": "2"}
    assert merged.retry_config.max_doublings == 0
    assert merged.state == types.Job.State.PAUSED


@pytest.mark.parametrize(
    "path", ["bogus", "http_target.bogus", "state", "schedule_time", "name", "status"]
)
def test_merge_refuses_unknown_and_output_only_paths(path: str) -> None:
    with pytest.raises(serving.ApiError) as raised:
        jobs.merge(STORED, PATCH, [path])
    assert raised.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert path in raised.value.message
