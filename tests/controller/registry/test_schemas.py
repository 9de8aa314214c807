"""The published JSON Schema: valid draft 2020-12, shipped as package data, paths in JSON form."""

from __future__ import annotations

import importlib.resources
import json

import jsonschema
import pytest

from controller.registry import schemas


def test_the_schema_is_valid_draft_2020_12_package_data() -> None:
    text = (
        importlib.resources.files("controller.registry.schema") / schemas.SCHEMA_FILE
    ).read_text()
    schema = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schemas.load() == schema


@pytest.mark.parametrize(
    ("parts", "path"),
    [
        ([], "$"),
        (["spec", "schedulerJobs", 2, "schedule"], "$.spec.schedulerJobs[2].schedule"),
        (
            ["spec", "subscriptions", 0, "labels", "managed-by"],
            '$.spec.subscriptions[0].labels["managed-by"]',
        ),
        (["metadata", "annotations", "a b"], '$.metadata.annotations["a b"]'),
    ],
)
def test_json_path(parts: list[str | int], path: str) -> None:
    assert schemas.json_path(parts) == path


def test_custom_messages_replace_pattern_errors() -> None:
    (error,) = schemas.check(
        {
            "apiVersion": "gcptasks.dev/v1",
            "kind": "TaskRegistry",
            "metadata": {"name": "x"},
            "spec": {
                "project": "shop-prod",
                "location": "europe-west1",
                "affix": "a",
                "owner": "O",
            },
        },
        "src",
    )
    assert (error.source, error.path) == ("src", "$.spec.owner")
    assert (
        error.message
        == "'O' must be a valid label value: 1-63 lowercase letters, digits, '_' or '-'"
    )
