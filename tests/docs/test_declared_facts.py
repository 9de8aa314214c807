"""The facts the code declares once (ownership marks, the registry ConfigMap's label and key,
Google's defaults) are the ones the pages tell users."""

from __future__ import annotations

import pytest

from controller.registry import custom_resources, ownership
from django_integration import tasks
from tests.docs import pages

CONTROLLER = pages.read(pages.DOCS / "controller.md")
TOUCHES = pages.section(CONTROLLER, "What the controller touches")


def test_the_ownership_marks_are_the_adapters() -> None:
    assert f"`{ownership.MANAGED_BY_LABEL}: {ownership.MANAGED_BY}`" in TOUCHES
    assert f"`{ownership.OWNER_LABEL}: <owner>`" in TOUCHES
    assert f"` {ownership.marker('<owner>')}`" in TOUCHES


@pytest.mark.parametrize("page", ["kubernetes.md", "django.md"])
def test_the_registry_configmap_is_described_as_the_controller_reads_it(page: str) -> None:
    text = pages.read(pages.DOCS / page)
    assert f'`{custom_resources.REGISTRY_LABEL}: "true"`' in text
    assert f"`{custom_resources.REGISTRY_KEY}`" in text


@pytest.mark.parametrize(
    ("cls", "attributes"),
    [
        (
            tasks.PeriodicTask,
            (
                "retry_count",
                "max_retry_duration",
                "min_backoff_duration",
                "max_backoff_duration",
                "max_doublings",
            ),
        ),
        (tasks.SubscriberTask, ("ack_deadline_seconds", "message_retention_duration")),
    ],
)
def test_the_task_classes_defaults_are_the_documented_ones(
    cls: type[tasks.Task], attributes: tuple[str, ...]
) -> None:
    section = pages.section(pages.read(pages.DOCS / "django.md"), "Task API")
    documented = f"`{'`, `'.join(attributes)}`"
    rows = [row for table in pages.tables(section) for row in table]
    (row,) = [row for row in rows if row.get("attribute") == documented]
    values = ", ".join(f"{getattr(cls, name):g}" for name in attributes)
    assert row["default"] == values
