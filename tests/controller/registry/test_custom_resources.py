"""PeriodicTask / SubscriberTask bodies and registry ConfigMaps to registries, and their errors."""

from __future__ import annotations

import copy
import json
import pathlib
from typing import Any

import pytest
import yaml

from controller.registry import custom_resources, errors, model

ROOT = pathlib.Path(__file__).resolve().parents[3]
DEFAULTS = custom_resources.Defaults(project="shop-prod", location="europe-west1")


def periodic_task(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "gcptasks.dev/v1",
        "kind": "PeriodicTask",
        "metadata": {"name": "nightly-report", "namespace": "shop", "generation": 3},
        "spec": {
            "schedule": "0 3 * * *",
            "httpTarget": {"uri": "https://shop.example/tasks/nightly-report/"},
            **spec,
        },
    }


def subscriber_task(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "gcptasks.dev/v1",
        "kind": "SubscriberTask",
        "metadata": {"name": "order-created", "namespace": "shop"},
        "spec": {"topic": "orders", "pushEndpoint": "https://shop.example/orders/", **spec},
    }


def test_a_periodic_task_is_a_one_job_registry_with_the_controllers_defaults():
    registry = custom_resources.periodic_task(periodic_task(), DEFAULTS)
    assert registry.source == "periodictask/shop/nightly-report"
    assert (registry.project, registry.location) == ("shop-prod", "europe-west1")
    assert (registry.affix, registry.delimiter) == ("shop", "--")
    assert registry.subscriptions == ()
    (job,) = registry.scheduler_jobs
    assert job == model.SchedulerJob(
        name="shop--nightly-report",
        schedule="0 3 * * *",
        uri="https://shop.example/tasks/nightly-report/",
    )
    assert custom_resources.cloud_resource_name(registry) == (
        "projects/shop-prod/locations/europe-west1/jobs/shop--nightly-report"
    )


def test_a_subscriber_task_is_a_one_subscription_registry():
    body = subscriber_task(
        ackDeadlineSeconds=60,
        deadLetterPolicy={"deadLetterTopic": "orders-dead", "maxDeliveryAttempts": 9},
        retryPolicy={"minimumBackoff": "5s", "maximumBackoff": "60s"},
        labels={"team": "checkout"},
    )
    registry = custom_resources.custom_resource(body, DEFAULTS)
    (subscription,) = registry.subscriptions
    assert subscription.name == "shop--orders--order-created"
    assert subscription.ack_deadline_seconds == 60
    assert (subscription.dead_letter_topic, subscription.max_delivery_attempts) == (
        "orders-dead",
        9,
    )
    assert subscription.retry == model.PushRetry(minimum_backoff=5.0, maximum_backoff=60.0)
    assert dict(subscription.labels) == {"team": "checkout"}
    assert registry.location == ""  # subscriptions are project-wide
    assert custom_resources.cloud_resource_name(registry) == (
        "projects/shop-prod/subscriptions/shop--orders--order-created"
    )


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"project": "other-proj"}, ("other-proj", "europe-west1", "shop--nightly-report")),
        ({"location": "us-central1"}, ("shop-prod", "us-central1", "shop--nightly-report")),
        ({"affix": "web"}, ("shop-prod", "europe-west1", "web--nightly-report")),
        ({"affix": "web", "delimiter": "_"}, ("shop-prod", "europe-west1", "web_nightly-report")),
        ({"name": "report"}, ("shop-prod", "europe-west1", "shop--report")),
    ],
)
def test_spec_fields_override_the_defaults(spec, expected):
    registry = custom_resources.periodic_task(periodic_task(**spec), DEFAULTS)
    assert (registry.project, registry.location, registry.scheduler_jobs[0].name) == expected


def test_the_samples_convert_cleanly():
    for name in ("periodictask.yaml", "subscribertask.yaml"):
        body = yaml.safe_load((ROOT / "manifests" / "samples" / name).read_text())
        registry = custom_resources.custom_resource(body)
        assert registry.project == "shop-prod-123"
        assert custom_resources.cloud_resource_name(registry).startswith("projects/shop-prod-123/")


@pytest.mark.parametrize(
    ("body", "defaults", "path", "words"),
    [
        (periodic_task(schedule="every day"), DEFAULTS, "$.spec.schedule", "unix-cron"),
        (periodic_task(timeZone="Mars/Olympus"), DEFAULTS, "$.spec.timeZone", "IANA"),
        (periodic_task(httpTarget={"uri": "ftp://x"}), DEFAULTS, "$.spec.httpTarget.uri", "http"),
        (periodic_task(attemptDeadline="5s"), DEFAULTS, "$.spec.attemptDeadline", "outside"),
        (periodic_task(colour="blue"), DEFAULTS, "$.spec.colour", "unknown field"),
        (periodic_task(), custom_resources.Defaults(), "$.spec.project", "--project"),
        (
            periodic_task(),
            custom_resources.Defaults(project="shop-prod"),
            "$.spec.location",
            "--location",
        ),
        (periodic_task(deletionPolicy="Orphan"), DEFAULTS, "$.spec.deletionPolicy", "Abandon"),
        (periodic_task(name="a.b"), DEFAULTS, "$.spec.name", "letters, digits"),
        (periodic_task(name="nightly\n"), DEFAULTS, "$.spec.name", "letters, digits"),
        (subscriber_task(location="x"), DEFAULTS, "$.spec.location", "unknown field"),
        (subscriber_task(topic="goog-x"), DEFAULTS, "$.spec.topic", "Pub/Sub id"),
        (subscriber_task(labels={"Team": "x"}), DEFAULTS, "$.spec.labels", "label key"),
        ({**periodic_task(), "spec": None}, DEFAULTS, "$.spec", "spec object"),
    ],
)
def test_errors_name_the_object_and_the_path_in_its_body(body, defaults, path, words):
    with pytest.raises(errors.RegistryError) as raised:
        custom_resources.custom_resource(body, defaults)
    found = {error.path: error for error in raised.value.errors}
    assert path in found, found
    assert words in found[path].message
    assert found[path].source == f"{body['kind'].lower()}/shop/{body['metadata']['name']}"


def test_a_namespace_that_is_no_valid_affix_asks_for_spec_affix():
    body = periodic_task()
    body["metadata"]["namespace"] = "1-shop"
    with pytest.raises(errors.RegistryError) as raised:
        custom_resources.periodic_task(body, DEFAULTS)
    (error,) = raised.value.errors
    assert (error.path, error.source) == ("$.spec.affix", "periodictask/1-shop/nightly-report")
    assert "set spec.affix" in error.message


def test_metadata_name_that_is_no_valid_job_name_asks_for_spec_name():
    body = periodic_task()
    body["metadata"]["name"] = "nightly.report"
    with pytest.raises(errors.RegistryError) as raised:
        custom_resources.periodic_task(body, DEFAULTS)
    assert "set spec.name" in raised.value.message


def test_an_unknown_kind_is_refused():
    with pytest.raises(errors.RegistryError) as raised:
        custom_resources.custom_resource({**periodic_task(), "kind": "Cron"}, DEFAULTS)
    assert raised.value.path == "$.kind"


@pytest.mark.parametrize(
    ("kind", "namespace", "name"),
    [
        ("PeriodicTask", "shop", "nightly-report"),
        ("SubscriberTask", "shop", "nightly-report"),
        ("PeriodicTask", "a" * 63, "b" * 253),
        ("PeriodicTask", "shop", "v1.2.nightly"),
    ],
)
def test_owners_are_valid_label_values_unique_per_object_and_resource(kind, namespace, name):
    owner = custom_resources.owner(kind, namespace, name, "p/l", "shop--x")
    assert len(owner) <= 63
    assert set(owner) <= set("abcdefghijklmnopqrstuvwxyz0123456789_-")
    assert owner != custom_resources.owner(kind, namespace, name, "p/l", "shop--y")
    assert owner != custom_resources.owner(kind, namespace, name + "x", "p/l", "shop--x")


def test_the_owner_changes_when_the_resource_is_renamed():
    before = custom_resources.periodic_task(periodic_task(), DEFAULTS)
    after = custom_resources.periodic_task(periodic_task(name="renamed"), DEFAULTS)
    assert before.owner != after.owner
    assert before.owner == custom_resources.periodic_task(periodic_task(), DEFAULTS).owner


def test_owners_stay_those_already_written_in_the_cloud():
    # Resources made by earlier versions carry these markers; a new value would disown them.
    periodic = custom_resources.periodic_task(periodic_task(), DEFAULTS)
    subscriber = custom_resources.subscriber_task(subscriber_task(), DEFAULTS)
    assert periodic.owner == "shop_nightly-report_8fbef3952822"
    assert subscriber.owner == "shop_order-created_768671b0bbdc"


@pytest.mark.parametrize(
    ("spec", "policy"),
    [
        ({}, "Delete"),
        ({"deletionPolicy": "Delete"}, "Delete"),
        ({"deletionPolicy": "Abandon"}, "Abandon"),
        ({"deletionPolicy": "Whatever"}, "Abandon"),
    ],
)
def test_deletion_policy_defaults_to_delete_and_is_safe_when_unknown(spec, policy):
    assert custom_resources.deletion_policy(periodic_task(**spec)) == policy


def configmap(data: dict[str, str] | None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "shop-tasks", "namespace": "shop"},
        "data": data,
    }


def test_a_registry_configmap_holds_a_registry_document():
    document = {
        "apiVersion": "gcptasks.dev/v1",
        "kind": "TaskRegistry",
        "metadata": {"name": "shop"},
        "spec": {
            "project": "shop-prod",
            "location": "europe-west1",
            "affix": "shop",
            "owner": "shop",
        },
    }
    registry = custom_resources.registry_configmap(
        configmap({"registry.json": json.dumps(document)})
    )
    assert (registry.source, registry.owner) == ("configmap/shop/shop-tasks", "shop")


@pytest.mark.parametrize(
    ("data", "path", "words"),
    [
        (None, "$.data", "registry.json"),
        ({"other.json": "{}"}, "$.data", "registry.json"),
        ({"registry.json": "{nope"}, "$", "not valid JSON"),
        ({"registry.json": "[]"}, "$", "JSON object"),
    ],
)
def test_a_bad_registry_configmap_is_an_error_naming_it(data, path, words):
    with pytest.raises(errors.RegistryError) as raised:
        custom_resources.registry_configmap(configmap(copy.deepcopy(data)))
    assert (raised.value.source, raised.value.path) == ("configmap/shop/shop-tasks", path)
    assert words in raised.value.message
