"""docs/registry.md: the schema reference against the published JSON Schema, and the example."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from controller.registry import documents, schemas
from tests.docs import pages

PAGE = pages.DOCS / "registry.md"


def resolve(node: Mapping[str, Any]) -> Mapping[str, Any]:
    """A `$ref`'s target, merged under the node's own keywords (its default wins)."""
    if "$ref" not in node:
        return node
    name = node["$ref"].removeprefix("#/$defs/")
    return {**schemas.load()["$defs"][name], **{k: v for k, v in node.items() if k != "$ref"}}


def fields(
    node: Mapping[str, Any], prefix: str = "", required: bool = True
) -> Iterator[tuple[str, bool, Mapping[str, Any]]]:
    """(dotted path, required, schema) of every field a reference table has a row for: objects
    written inline are opened up, `$ref`s and arrays are one field each."""
    for name, child in node["properties"].items():
        path = f"{prefix}{name}"
        needed = required and name in node.get("required", ())
        if "properties" in child and "$ref" not in child:
            yield from fields(child, f"{path}.", needed)
        else:
            yield path, needed, resolve(child)


def items_of(path: str) -> Mapping[str, Any]:
    """The schema of one entry of the array at `path` of the document."""
    arrays = {name: schema for name, _, schema in fields(schemas.load())}
    return resolve(arrays[path]["items"])


TABLES = {
    "The document": schemas.load,
    "A scheduler job (an entry of `spec.schedulerJobs`)": lambda: items_of("spec.schedulerJobs"),
    "A subscription (an entry of `spec.subscriptions`)": lambda: items_of("spec.subscriptions"),
}


def documented(heading: str) -> dict[str, dict[str, str]]:
    (table,) = pages.tables(pages.section(pages.read(PAGE), heading))
    rows = {pages.first_code(row["Field"]): row for row in table}
    assert len(rows) == len(table), f"{heading}: a field is listed twice"
    return rows


@pytest.mark.parametrize("heading", list(TABLES))
def test_the_reference_lists_exactly_the_schemas_fields(heading: str) -> None:
    declared = {path for path, _, _ in fields(TABLES[heading]())}
    assert set(documented(heading)) == declared


@pytest.mark.parametrize("heading", list(TABLES))
def test_required_and_defaults_are_the_schemas(heading: str) -> None:
    rows = documented(heading)
    for path, required, schema in fields(TABLES[heading]()):
        default = rows[path]["Default"]
        assert (default == "required") == required, path
        if "default" in schema:
            assert pages.first_code(default) == json.dumps(schema["default"]), path


def test_the_example_is_a_valid_registry() -> None:
    example = pages.section(pages.read(PAGE), "Example").split("```json")[1].split("```")[0]
    registry = documents.parse(example, "docs/registry.md")
    assert [job.name for job in registry.scheduler_jobs] == ["shop--nightly-report"]
    assert [sub.name for sub in registry.subscriptions] == ["shop--orders--order-created"]
