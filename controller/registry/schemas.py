"""The published JSON Schema of the registry document, and structural validation against it."""

from __future__ import annotations

import functools
import importlib.resources
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import jsonschema

from controller.registry import errors

SCHEMA_FILE = "task-registry.v1.json"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@functools.cache
def load() -> Mapping[str, Any]:
    """The schema shipped as package data (draft 2020-12)."""
    text = importlib.resources.files("controller.registry.schema").joinpath(SCHEMA_FILE)
    schema: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return schema


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(load())


def json_path(parts: Iterable[str | int]) -> str:
    """`["spec", "schedulerJobs", 2]` -> `$.spec.schedulerJobs[2]`; odd keys are quoted."""
    path = "$"
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _IDENTIFIER.match(part):
            path += f".{part}"
        else:
            path += f"[{json.dumps(part)}]"
    return path


def check(document: Mapping[str, Any], source: str) -> list[errors.RegistryError]:
    """Every structural error; a schema's `errorMessage` replaces jsonschema's wording."""
    found = []
    for error in _validator().iter_errors(document):
        message = error.message
        custom = error.schema.get("errorMessage") if isinstance(error.schema, dict) else None
        if custom and error.validator in ("pattern", "type"):
            message = f"{error.instance!r} {custom}"
        found.append(errors.RegistryError(source, json_path(error.absolute_path), message))
    return found
