"""Parsing and rendering registry documents: round trips, canonical output, collected errors."""

from __future__ import annotations

import copy
import json
import types
from typing import Any

import pytest

from controller.registry import documents, errors, model, ownership, schemas

SOURCE = "configmap/shop/gcp-tasks"


def minimal() -> dict[str, Any]:
    return {
        "apiVersion": "gcptasks.dev/v1",
        "kind": "TaskRegistry",
        "metadata": {"name": "shop"},
        "spec": {
            "project": "shop-prod",
            "location": "europe-west1",
            "affix": "shop",
            "owner": "shop",
            "schedulerJobs": [
                {
                    "name": "shop--nightly-report",
                    "schedule": "0 3 * * *",
                    "httpTarget": {"uri": "https://shop.example/gcp-tasks/nightly-report"},
                }
            ],
            "subscriptions": [
                {
                    "name": "shop--orders--order-created",
                    "topic": "orders",
                    "pushEndpoint": "https://shop.example/gcp-subscriber-tasks/order-created",
                }
            ],
        },
    }


def full() -> dict[str, Any]:
    """Every field set to a non-default value."""
    return {
        "apiVersion": "gcptasks.dev/v1",
        "kind": "TaskRegistry",
        "metadata": {
            "name": "shop",
            "generatedBy": "django_integration 0.1.0",
            "annotations": {"git-sha": "abc123"},
        },
        "spec": {
            "project": "shop-prod",
            "location": "europe-west1",
            "affix": "shop",
            "delimiter": "__",
            "owner": "shop-prod_1",
            "schedulerJobs": [
                {
                    "name": "shop__nightly-report",
                    "schedule": "30 3 * * MON-FRI",
                    "timeZone": "Europe/London",
                    "description": "Sends the nightly report",
                    "paused": True,
                    "httpTarget": {
                        "uri": "https://shop.example/gcp-tasks/nightly-report",
                        "httpMethod": "PUT",
                        "body": '{"full": true}',
                        "headers": {"Content-Type": "application/json", "X-Tenant": "eu"},
                        "oidcToken": {
                            "serviceAccountEmail": "tasks@shop-prod.iam.gserviceaccount.com",
                            "audience": "https://shop.example",
                        },
                    },
                    "retryConfig": {
                        "retryCount": 3,
                        "maxRetryDuration": "600s",
                        "minBackoffDuration": "0.5s",
                        "maxBackoffDuration": "60s",
                        "maxDoublings": 2,
                    },
                    "attemptDeadline": "320s",
                }
            ],
            "subscriptions": [
                {
                    "name": "shop__orders__order-created",
                    "topic": "orders",
                    "pushEndpoint": "https://shop.example/gcp-subscriber-tasks/order-created",
                    "oidcToken": {"serviceAccountEmail": "push@shop-prod.iam.gserviceaccount.com"},
                    "ackDeadlineSeconds": 60,
                    "enableMessageOrdering": True,
                    "filter": 'attributes.region = "eu"',
                    "deadLetterPolicy": {
                        "deadLetterTopic": "orders-dead",
                        "maxDeliveryAttempts": 7,
                    },
                    "retryPolicy": {"minimumBackoff": "1.25s", "maximumBackoff": "300s"},
                    "messageRetentionDuration": "3600s",
                    "labels": {"team": "checkout", "tier": ""},
                    "createTopic": False,
                }
            ],
        },
    }


def mutated(path: str, value: Any, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """`minimal()` with the value at a dotted path (list indexes as numbers) set, or deleted."""
    document = copy.deepcopy(base if base is not None else minimal())
    *parents, last = path.split(".")
    node: Any = document
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    key: Any = int(last) if last.isdigit() else last
    if value is DELETE:
        del node[key]
    else:
        node[key] = value
    return document


DELETE = object()


def test_parse_fills_every_default() -> None:
    registry = documents.parse(minimal(), SOURCE)
    assert registry == model.Registry(
        source=SOURCE,
        project="shop-prod",
        location="europe-west1",
        affix="shop",
        owner="shop",
        delimiter="--",
        name="shop",
        scheduler_jobs=(
            model.SchedulerJob(
                name="shop--nightly-report",
                schedule="0 3 * * *",
                uri="https://shop.example/gcp-tasks/nightly-report",
            ),
        ),
        subscriptions=(
            model.Subscription(
                name="shop--orders--order-created",
                topic="orders",
                push_endpoint="https://shop.example/gcp-subscriber-tasks/order-created",
            ),
        ),
    )


def test_parse_reads_every_field() -> None:
    registry = documents.parse(full(), SOURCE)
    (job,) = registry.scheduler_jobs
    (sub,) = registry.subscriptions
    assert (registry.delimiter, registry.owner, registry.generated_by) == (
        "__",
        "shop-prod_1",
        "django_integration 0.1.0",
    )
    assert dict(registry.annotations) == {"git-sha": "abc123"}
    assert job == model.SchedulerJob(
        name="shop__nightly-report",
        schedule="30 3 * * MON-FRI",
        uri="https://shop.example/gcp-tasks/nightly-report",
        time_zone="Europe/London",
        description="Sends the nightly report",
        paused=True,
        http_method="PUT",
        body='{"full": true}',
        headers={"Content-Type": "application/json", "X-Tenant": "eu"},
        oidc_token=model.OidcToken(
            "tasks@shop-prod.iam.gserviceaccount.com", "https://shop.example"
        ),
        retry=model.SchedulerRetry(3, 600.0, 0.5, 60.0, 2),
        attempt_deadline=320.0,
    )
    assert sub == model.Subscription(
        name="shop__orders__order-created",
        topic="orders",
        push_endpoint="https://shop.example/gcp-subscriber-tasks/order-created",
        oidc_token=model.OidcToken("push@shop-prod.iam.gserviceaccount.com", ""),
        ack_deadline_seconds=60,
        enable_message_ordering=True,
        filter='attributes.region = "eu"',
        dead_letter_topic="orders-dead",
        max_delivery_attempts=7,
        retry=model.PushRetry(1.25, 300.0),
        message_retention_duration=3600.0,
        labels={"team": "checkout", "tier": ""},
        create_topic=False,
    )


@pytest.mark.parametrize("document", [minimal(), full()], ids=["minimal", "full"])
def test_render_then_parse_gives_the_same_registry(document: dict[str, Any]) -> None:
    registry = documents.parse(document, SOURCE)
    assert documents.parse(documents.render(registry), SOURCE) == registry
    assert documents.parse(documents.to_mapping(registry), SOURCE) == registry


def frozen(value: Any) -> Any:
    """Read-only mappings and tuples, as some clients hand documents over."""
    if isinstance(value, dict):
        return types.MappingProxyType({k: frozen(v) for k, v in value.items()})
    return tuple(frozen(v) for v in value) if isinstance(value, list) else value


@pytest.mark.parametrize("as_input", [json.dumps, lambda d: json.dumps(d).encode(), dict, frozen])
def test_text_bytes_and_mappings_parse_alike(as_input: Any) -> None:
    assert documents.parse(as_input(full()), SOURCE) == documents.parse(full(), SOURCE)


def test_render_is_canonical_and_byte_identical() -> None:
    document = full()
    document["spec"]["schedulerJobs"].append(
        {"name": "shop__a-first", "schedule": "* * * * *", "httpTarget": {"uri": "http://x.test/"}}
    )
    shuffled = json.loads(json.dumps(document, sort_keys=True))
    shuffled["spec"]["schedulerJobs"].reverse()
    shuffled["spec"] = dict(reversed(list(shuffled["spec"].items())))
    text = documents.render(documents.parse(document, "a"))
    assert text == documents.render(documents.parse(shuffled, "b"))  # source is not written
    assert text == documents.render(documents.parse(text, "c"))
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    names = [job["name"] for job in json.loads(text)["spec"]["schedulerJobs"]]
    assert names == ["shop__a-first", "shop__nightly-report"]
    assert SOURCE not in text and '"source"' not in text


def test_to_mapping_writes_durations_in_google_form() -> None:
    mapping = documents.to_mapping(documents.parse(full(), SOURCE))
    job = mapping["spec"]["schedulerJobs"][0]
    assert job["attemptDeadline"] == "320s"
    assert job["retryConfig"]["minBackoffDuration"] == "0.5s"
    assert mapping["spec"]["subscriptions"][0]["retryPolicy"] == {
        "minimumBackoff": "1.25s",
        "maximumBackoff": "300s",
    }


def test_an_empty_registry_parses() -> None:
    document = mutated("spec.schedulerJobs", DELETE, mutated("spec.subscriptions", []))
    registry = documents.parse(document, SOURCE)
    assert registry.is_empty
    assert registry.scheduler_jobs == () and registry.subscriptions == ()


def _without_affix() -> dict[str, Any]:
    document = minimal()
    document["spec"]["affix"] = ""
    document["spec"]["schedulerJobs"][0]["name"] = "nightly-report"
    document["spec"]["subscriptions"][0]["name"] = "orders--order-created"
    return document


def test_an_empty_affix_is_refused_unless_allowed() -> None:
    with pytest.raises(errors.RegistryError) as refused:
        documents.parse(_without_affix(), SOURCE)
    assert [error.path for error in refused.value.errors] == ["$.spec.affix"]
    registry = documents.parse(_without_affix(), SOURCE, affix_required=False)
    assert (registry.affix, registry.prefix) == ("", "")
    assert registry.scheduler_jobs[0].name == "nightly-report"


def test_allowing_no_affix_still_reports_every_other_problem() -> None:
    document = _without_affix()
    document["spec"]["schedulerJobs"][0]["schedule"] = "every day"
    with pytest.raises(errors.RegistryError) as refused:
        documents.parse(document, SOURCE, affix_required=False)
    assert [error.path for error in refused.value.errors] == ["$.spec.schedulerJobs[0].schedule"]


JOB = "spec.schedulerJobs.0"
SUB = "spec.subscriptions.0"
JOB_PATH = "$.spec.schedulerJobs[0]"
SUB_PATH = "$.spec.subscriptions[0]"

INVALID = [
    # (mutation path, value, expected JSON path, words the message must contain)
    ("apiVersion", "gcptasks.dev/v2", "$.apiVersion", "unsupported apiVersion 'gcptasks.dev/v2'"),
    ("apiVersion", DELETE, "$.apiVersion", "expected gcptasks.dev/v1"),
    ("kind", "ConfigMap", "$.kind", "unsupported kind 'ConfigMap', expected TaskRegistry"),
    ("metadata.name", DELETE, "$.metadata", "'name' is a required property"),
    ("metadata.extra", 1, "$.metadata", "'extra' was unexpected"),
    ("spec.project", DELETE, "$.spec", "'project' is a required property"),
    ("spec.project", "Shop_Prod", "$.spec.project", "Google Cloud project id"),
    ("spec.location", "Europe West", "$.spec.location", "region"),
    ("spec.affix", "1shop", "$.spec.affix", "must start with a letter"),
    ("spec.delimiter", "::", "$.spec.delimiter", "letters, digits"),
    ("spec.owner", "Shop Team", "$.spec.owner", "valid label value"),
    ("spec.owner", "x" * 64, "$.spec.owner", "valid label value"),
    ("spec.schedulerJobs", {}, "$.spec.schedulerJobs", "is not of type 'array'"),
    (f"{JOB}.name", "shop--bad name", f"{JOB_PATH}.name", "Cloud Scheduler job id"),
    (f"{JOB}.name", "other--report", f"{JOB_PATH}.name", "does not start with the affix 'shop--'"),
    (f"{JOB}.schedule", "0 3 * *", f"{JOB_PATH}.schedule", "expected 5 fields, got 4"),
    (f"{JOB}.schedule", "0 25 * * *", f"{JOB_PATH}.schedule", "not a unix-cron expression"),
    (f"{JOB}.schedule", "0 0 L * *", f"{JOB_PATH}.schedule", "bad field 'L'"),
    (f"{JOB}.schedule", "@daily", f"{JOB_PATH}.schedule", "expected 5 fields"),
    (f"{JOB}.timeZone", "Europe/Atlantis", f"{JOB_PATH}.timeZone", "not an IANA time zone"),
    (f"{JOB}.timeZone", "localtime", f"{JOB_PATH}.timeZone", "not an IANA time zone"),
    (f"{JOB}.paused", "yes", f"{JOB_PATH}.paused", "is not of type 'boolean'"),
    (f"{JOB}.description", f"x {ownership.marker('other')}", f"{JOB_PATH}.description", "marker"),
    (f"{JOB}.description", "x" * 480, f"{JOB_PATH}.description", "beside the ownership marker"),
    (f"{JOB}.httpTarget.uri", "ftp://shop.example/x", f"{JOB_PATH}.httpTarget.uri", "http"),
    (f"{JOB}.httpTarget.uri", "/gcp-tasks/x", f"{JOB_PATH}.httpTarget.uri", "absolute"),
    (f"{JOB}.httpTarget.httpMethod", "FETCH", f"{JOB_PATH}.httpTarget.httpMethod", "'FETCH'"),
    (
        f"{JOB}.httpTarget.headers",
        {"Host": "x"},
        f"{JOB_PATH}.httpTarget.headers.Host",
        "set by Cloud Scheduler",
    ),
    (
        f"{JOB}.httpTarget.headers",
        {"X-CloudScheduler-JobName": "x"},
        f'{JOB_PATH}.httpTarget.headers["X-CloudScheduler-JobName"]',
        "cannot be configured",
    ),
    (
        f"{JOB}.httpTarget.oidcToken",
        {"serviceAccountEmail": "nobody"},
        f"{JOB_PATH}.httpTarget.oidcToken.serviceAccountEmail",
        "service account email",
    ),
    (f"{JOB}.retryConfig", {"retryCount": 6}, f"{JOB_PATH}.retryConfig.retryCount", "maximum of 5"),
    (
        f"{JOB}.retryConfig",
        {"maxRetryDuration": 10},
        f"{JOB_PATH}.retryConfig.maxRetryDuration",
        "'180s'",
    ),
    (
        f"{JOB}.retryConfig",
        {"minBackoffDuration": "1h"},
        f"{JOB_PATH}.retryConfig.minBackoffDuration",
        "duration",
    ),
    (
        f"{JOB}.retryConfig",
        {"minBackoffDuration": "60s", "maxBackoffDuration": "10s"},
        f"{JOB_PATH}.retryConfig",
        "minimum is larger than the maximum",
    ),
    (f"{JOB}.attemptDeadline", "10s", f"{JOB_PATH}.attemptDeadline", "outside 15s..1800s"),
    (f"{JOB}.attemptDeadline", "1801s", f"{JOB_PATH}.attemptDeadline", "outside 15s..1800s"),
    (f"{JOB}.retry", {}, JOB_PATH, "'retry' was unexpected"),
    (f"{SUB}.name", "goog-shop--orders", f"{SUB_PATH}.name", "not starting with 'goog'"),
    (f"{SUB}.name", "shop--orders--bad/name", f"{SUB_PATH}.name", "Pub/Sub id"),
    (f"{SUB}.topic", "9orders", f"{SUB_PATH}.topic", "starting with a letter"),
    (f"{SUB}.topic", "or", f"{SUB_PATH}.topic", "3-255 characters"),
    (f"{SUB}.pushEndpoint", "shop.example/x", f"{SUB_PATH}.pushEndpoint", "http"),
    (f"{SUB}.ackDeadlineSeconds", 9, f"{SUB_PATH}.ackDeadlineSeconds", "minimum of 10"),
    (f"{SUB}.ackDeadlineSeconds", 601, f"{SUB_PATH}.ackDeadlineSeconds", "maximum of 600"),
    (
        f"{SUB}.deadLetterPolicy",
        {"deadLetterTopic": "dead", "maxDeliveryAttempts": 4},
        f"{SUB_PATH}.deadLetterPolicy.maxDeliveryAttempts",
        "minimum of 5",
    ),
    (
        f"{SUB}.deadLetterPolicy",
        {"deadLetterTopic": "dead", "maxDeliveryAttempts": 101},
        f"{SUB_PATH}.deadLetterPolicy.maxDeliveryAttempts",
        "maximum of 100",
    ),
    (
        f"{SUB}.deadLetterPolicy",
        {"maxDeliveryAttempts": 5},
        f"{SUB_PATH}.deadLetterPolicy",
        "'deadLetterTopic' is a required property",
    ),
    (
        f"{SUB}.retryPolicy",
        {"minimumBackoff": "601s"},
        f"{SUB_PATH}.retryPolicy.minimumBackoff",
        "outside 0s..600s",
    ),
    (
        f"{SUB}.retryPolicy",
        {"minimumBackoff": "20s", "maximumBackoff": "15s"},
        f"{SUB_PATH}.retryPolicy",
        "minimum is larger",
    ),
    (
        f"{SUB}.messageRetentionDuration",
        "599s",
        f"{SUB_PATH}.messageRetentionDuration",
        "outside 600s..604800s",
    ),
    (
        f"{SUB}.messageRetentionDuration",
        "604801s",
        f"{SUB_PATH}.messageRetentionDuration",
        "outside",
    ),
    (f"{SUB}.labels", {"Team": "x"}, f"{SUB_PATH}.labels", "'Team' is not a valid label key"),
    (
        f"{SUB}.labels",
        {"team": "Check Out"},
        f"{SUB_PATH}.labels.team",
        "is not a valid label value",
    ),
    (
        f"{SUB}.labels",
        {ownership.OWNER_LABEL: "x"},
        f'{SUB_PATH}.labels["{ownership.OWNER_LABEL}"]',
        "ownership label",
    ),
    (f"{SUB}.filter", "x" * 257, f"{SUB_PATH}.filter", "is too long"),
    (f"{SUB}.enableMessageOrdering", 1, f"{SUB_PATH}.enableMessageOrdering", "boolean"),
    # Python's `$` also matches before a final newline: jsonschema alone let these through.
    ("spec.project", "shop-prod\n", "$.spec.project", "does not match"),
    (f"{JOB}.name", "shop--report\n", f"{JOB_PATH}.name", "does not match"),
    (f"{SUB}.topic", "orders\n", f"{SUB_PATH}.topic", "does not match"),
]


@pytest.mark.parametrize(
    ("path", "value", "json_path", "words"), INVALID, ids=[f"{r[0]}={r[1]!r}"[:60] for r in INVALID]
)
def test_each_problem_names_the_source_and_json_path(
    path: str, value: Any, json_path: str, words: str
) -> None:
    with pytest.raises(errors.RegistryError) as raised:
        documents.parse(mutated(path, value), SOURCE)
    # The first problem is the one at fault; a few rows also break a rule that depends on it.
    first, *_ = problems = raised.value.errors
    assert (first.source, first.path) == (SOURCE, json_path), str(raised.value)
    assert words in first.message
    assert str(first).startswith(f"{SOURCE}: {json_path}: ")
    assert {problem.source for problem in problems} == {SOURCE}


@pytest.mark.parametrize(
    ("path", "value"), [row[:2] for row in INVALID], ids=[f"{r[0]}={r[1]!r}"[:60] for r in INVALID]
)
def test_the_deciding_validator_refuses_whatever_jsonschema_refuses(path: str, value: Any) -> None:
    # `schemas.check` trusts jsonschema-rs's "valid" without asking jsonschema: were there a
    # document jsonschema refuses and jsonschema-rs accepts, it would get through unreported.
    document = mutated(path, value)
    refused_by_jsonschema = any(schemas._validator().iter_errors(document))
    refused_by_deciding = not schemas._deciding_validator().is_valid(document)
    assert refused_by_deciding or not refused_by_jsonschema
    assert schemas._deciding_validator().is_valid(minimal())


def test_a_body_needs_a_method_that_takes_one() -> None:
    document = mutated(
        f"{JOB}.httpTarget.body", "{}", mutated(f"{JOB}.httpTarget.httpMethod", "GET")
    )
    with pytest.raises(errors.RegistryError) as raised:
        documents.parse(document, SOURCE)
    assert raised.value.path == f"{JOB_PATH}.httpTarget.body"
    assert "POST, PUT or PATCH, not GET" in raised.value.message


@pytest.mark.parametrize("key", ["schedulerJobs", "subscriptions"])
def test_duplicate_names_point_at_both_entries(key: str) -> None:
    document = minimal()
    document["spec"][key].append(copy.deepcopy(document["spec"][key][0]))
    with pytest.raises(errors.RegistryError) as raised:
        documents.parse(document, SOURCE)
    assert raised.value.path == f"$.spec.{key}[1].name"
    assert f"(also at $.spec.{key}[0])" in raised.value.message


def test_several_problems_are_all_collected() -> None:
    document = minimal()
    document["spec"]["owner"] = "Not A Label"
    document["spec"]["schedulerJobs"][0]["schedule"] = "every day"
    document["spec"]["schedulerJobs"][0]["timeZone"] = "Nowhere/Town"
    document["spec"]["subscriptions"][0]["ackDeadlineSeconds"] = 1
    with pytest.raises(errors.InvalidRegistry) as raised:
        documents.parse(document, SOURCE)
    paths = sorted(p.path for p in raised.value.errors)
    assert paths == [
        "$.spec.owner",
        f"{JOB_PATH}.schedule",
        f"{JOB_PATH}.timeZone",
        f"{SUB_PATH}.ackDeadlineSeconds",
    ]
    assert {p.source for p in raised.value.errors} == {SOURCE}
    text = str(raised.value)
    assert text.startswith(f"{SOURCE}: invalid registry (4 problems):")
    assert all(path in text for path in paths)


def test_a_wrong_api_version_is_reported_alone() -> None:
    document = mutated("apiVersion", "v1", mutated("spec.owner", "Not Valid"))
    with pytest.raises(errors.RegistryError) as raised:
        documents.parse(document, SOURCE)
    assert [p.path for p in raised.value.errors] == ["$.apiVersion"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{", "not valid JSON: Expecting property name"),
        (b"\xff\xfe{", "not valid JSON"),
        ("[1, 2]", "a registry is a JSON object, not list"),
        ('"TaskRegistry"', "not str"),
    ],
)
def test_text_that_is_not_a_json_object(text: str | bytes, words: str) -> None:
    with pytest.raises(errors.RegistryError) as raised:
        documents.parse(text, SOURCE)
    assert (raised.value.source, raised.value.path) == (SOURCE, "$")
    assert words in raised.value.message
