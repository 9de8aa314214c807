"""CLI fixtures: emulators, a project of its own per test, registry files to point the CLI at."""

from __future__ import annotations

import json
import pathlib
from collections.abc import Callable
from typing import Any

import pytest

from controller.registry import documents, model
from emulators import pubsub, running, testing


@pytest.fixture
def project() -> str:
    return testing.unique_project("cli")


@pytest.fixture
def emulators(
    cloud_scheduler_emulator: running.Service, pubsub_emulator: pubsub.PubSubEmulator
) -> running.Service:
    """Both emulators, environment set; returns the scheduler's (its request log is the check)."""
    return cloud_scheduler_emulator


WriteRegistry = Callable[..., pathlib.Path]


@pytest.fixture
def write_registry(tmp_path: pathlib.Path) -> WriteRegistry:
    def write(registry: model.Registry, name: str = "registry.json") -> pathlib.Path:
        path = tmp_path / name
        path.write_text(documents.render(registry))
        return path

    return write


def json_events(text: str) -> list[dict[str, Any]]:
    """The structlog events of JSON log output (other lines skipped)."""
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]
