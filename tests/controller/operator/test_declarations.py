"""What watched objects declare, as kopf's indices hold it."""

from __future__ import annotations

import json

from controller.operator import declarations
from controller.registry import custom_resources, model

DEFAULTS = custom_resources.Defaults(project="shop-prod", location="europe-west1")


def periodic_task(name: str, **metadata: object) -> dict[str, object]:
    return {
        "apiVersion": "gcptasks.dev/v1",
        "kind": "PeriodicTask",
        "metadata": {"name": name, "namespace": "shop", "uid": f"uid-{name}", **metadata},
        "spec": {"schedule": "0 3 * * *", "httpTarget": {"uri": "https://shop.example/x/"}},
    }


def test_a_custom_resource_declares_its_registry_and_how_to_post_events_on_it():
    item = declarations.from_custom_resource(periodic_task("nightly", generation=2), DEFAULTS)
    assert item.usable and item.is_custom_resource
    assert item.ref == {
        "apiVersion": "gcptasks.dev/v1",
        "kind": "PeriodicTask",
        "metadata": {"name": "nightly", "namespace": "shop", "uid": "uid-nightly"},
    }
    assert item.generation == 2
    assert item.cloud_resource_name.endswith("/jobs/shop--nightly")


def test_an_object_being_deleted_takes_no_part_in_passes():
    body = periodic_task("nightly", deletionTimestamp="2025-01-01T00:00:00Z")
    item = declarations.from_custom_resource(body, DEFAULTS)
    assert item.registry is not None and item.deleting and not item.usable


def test_an_invalid_configmap_declares_its_error():
    body = {
        "metadata": {"name": "shop-tasks", "namespace": "shop"},
        "data": {custom_resources.REGISTRY_KEY: json.dumps({"kind": "Nope"})},
    }
    item = declarations.from_configmap(body)
    assert item.registry is None and item.error is not None and not item.usable
    assert item.ref["kind"] == "ConfigMap" and item.source == "configmap/shop/shop-tasks"


class Store(list):
    """kopf's index store: an iterable of the values objects contributed under one key."""


def test_collect_reads_every_index_and_orders_by_source():
    first = declarations.from_custom_resource(periodic_task("b"), DEFAULTS)
    second = declarations.from_custom_resource(periodic_task("a"), DEFAULTS)
    indices = {
        "periodic_tasks": {first.source: Store([first]), second.source: Store([second])},
        "subscriber_tasks": {},
        "unrelated": {"x": Store(["ignored"])},
    }
    assert declarations.collect(indices) == (second, first)
    deleting = declarations.from_custom_resource(
        periodic_task("c", deletionTimestamp="2025-01-01T00:00:00Z"), DEFAULTS
    )
    assert declarations.registries([first, second, deleting]) == [first.registry, second.registry]


def test_an_invalid_object_keeps_its_last_valid_registry_until_it_is_recreated():
    last_good: dict[str, model.Registry] = {}

    def declared(uid: str, schedule: str) -> declarations.Declared:
        body = periodic_task("nightly", uid=uid)
        body["spec"] = {"schedule": schedule, "httpTarget": {"uri": "https://shop.example/x/"}}
        item = declarations.from_custom_resource(body, DEFAULTS)
        return declarations.keeping_last_good(item, last_good)

    valid = declared("uid-1", "0 3 * * *")
    invalid = declared("uid-1", "every day")
    recreated = declared("uid-2", "every day")  # deleted and created again: a new object

    assert invalid.error is not None and invalid.registry == valid.registry and invalid.usable
    assert declarations.registries([invalid]) == [valid.registry]
    assert recreated.error is not None and recreated.registry is None and not recreated.usable
