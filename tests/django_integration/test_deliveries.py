import base64
import json
from datetime import UTC, datetime

import pytest

from django_integration import deliveries, exceptions


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _envelope(data=None, **message):
    if data is not None:
        message["data"] = _b64(data)
    return {"message": message, "subscription": "projects/p/subscriptions/s"}


def test_task_info_reads_cloud_tasks_headers():
    info = deliveries.task_info(
        {
            "X-CloudTasks-QueueName": "default",
            "X-CloudTasks-TaskName": "0123--send",
            "X-CloudTasks-TaskRetryCount": "2",
            "X-CloudTasks-TaskExecutionCount": "1",
            "X-CloudTasks-TaskETA": "1736944200.5",
            "X-CloudTasks-TaskPreviousResponse": "500",
            "X-CloudTasks-TaskRetryReason": "INTERNAL",
        },
        caller="sa@p.iam.gserviceaccount.com",
    )
    assert info == deliveries.TaskInfo(
        queue_name="default",
        task_name="0123--send",
        retry_count=2,
        execution_count=1,
        eta=datetime(2025, 1, 15, 12, 30, 0, 500000, tzinfo=UTC),
        previous_response=500,
        retry_reason="INTERNAL",
        caller="sa@p.iam.gserviceaccount.com",
    )


def test_task_info_reads_cloud_scheduler_headers():
    info = deliveries.task_info(
        {
            "X-CloudScheduler-JobName": "shop--nightly",
            "X-CloudScheduler-ScheduleTime": "2025-01-15T03:00:00.123456789Z",
        }
    )
    assert info.scheduler_job_name == "shop--nightly"
    assert info.schedule_time == datetime(2025, 1, 15, 3, 0, 0, 123456, tzinfo=UTC)
    assert info.queue_name is None and info.retry_count is None


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-CloudTasks-TaskRetryCount": "many", "X-CloudTasks-TaskETA": "soon"},
        {"X-CloudScheduler-ScheduleTime": "yesterday"},
    ],
)
def test_task_info_tolerates_missing_or_malformed_headers(headers):
    info = deliveries.task_info(headers)
    assert (info.retry_count, info.eta, info.schedule_time) == (None, None, None)


@pytest.mark.parametrize(
    ("raw", "data"),
    [
        (json.dumps({"order": 42}).encode(), {"order": 42}),
        (b"[1, 2]", [1, 2]),
        (b"plain text", "plain text"),
        ("café".encode(), "café"),
        (b"\xff\x00binary", b"\xff\x00binary"),
        (b"", ""),
    ],
)
def test_envelope_data_becomes_json_text_or_bytes(raw, data):
    assert deliveries.decode_envelope(json.dumps(_envelope(raw)).encode())["data"] == data


def test_envelope_fields_become_run_kwargs():
    envelope = _envelope(
        b'{"a": 1}',
        attributes={"kind": "created"},
        messageId="123",
        orderingKey="customer-7",
        publishTime="2025-01-15T12:00:00.5Z",
    )
    envelope["deliveryAttempt"] = 3
    assert deliveries.decode_envelope(json.dumps(envelope).encode()) == {
        "data": {"a": 1},
        "attributes": {"kind": "created"},
        "message_id": "123",
        "ordering_key": "customer-7",
        "publish_time": datetime(2025, 1, 15, 12, 0, 0, 500000, tzinfo=UTC),
        "subscription": "projects/p/subscriptions/s",
        "delivery_attempt": 3,
    }


def test_envelope_snake_case_duplicates_and_missing_optionals():
    envelope = _envelope(None, message_id="9", publish_time="2025-01-15T12:00:00Z")
    decoded = deliveries.decode_envelope(envelope)
    assert decoded["data"] is None and decoded["attributes"] is None
    assert decoded["message_id"] == "9" and decoded["ordering_key"] is None
    assert decoded["publish_time"] == datetime(2025, 1, 15, 12, tzinfo=UTC)
    assert decoded["delivery_attempt"] is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "not JSON"),
        (b"[]", "must be a JSON object"),
        (b'{"subscription": "s"}', "'message' object"),
        (b'{"message": {}}', "'subscription' name"),
        (b'{"message": {"data": "***"}, "subscription": "s"}', "not base64"),
        (b'{"message": {"data": 5}, "subscription": "s"}', "base64 text"),
        (b'{"message": {"attributes": [1]}, "subscription": "s"}', "attributes must be"),
        (b'{"message": {"publishTime": "noon"}, "subscription": "s"}', "RFC 3339"),
        (b'{"message": {"attributes": {"n": 1}}, "subscription": "s"}', "object of strings"),
        (b'{"message": {"messageId": 7}, "subscription": "s"}', "must be strings"),
        (b'{"message": {"orderingKey": ["k"]}, "subscription": "s"}', "must be strings"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, "not JSON", id="deep-envelope"),
        pytest.param(
            json.dumps(_envelope(b"[" * 100_000 + b"]" * 100_000)).encode(),
            "nested too deeply",
            id="deep-data",
        ),
    ],
)
def test_malformed_envelopes_are_refused(body, message):
    with pytest.raises(exceptions.InvalidPubSubMessageError, match=message):
        deliveries.decode_envelope(body)
