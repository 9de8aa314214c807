"""What the app does when Django starts: checks, task discovery, registry export."""

import asyncio

import pytest
from django.apps import apps
from django.core import checks as django_checks
from django.test import override_settings

from controller.registry import custom_resources
from django_integration import tasks
from tests.django_integration.testapp import apps as testapp_apps
from tests.django_integration.testapp import tasks as testapp_tasks


def test_tasks_modules_are_discovered_without_any_import_in_ready():
    assert "ready" not in vars(testapp_apps.TestAppConfig)  # nobody imports testapp.tasks
    registered = tasks.registered()
    assert registered["RecordingTask"] is testapp_tasks.RecordingTask
    assert registered["NightlySalesReport"].__module__ == "examples.shop.tasks"


def test_ready_registers_the_system_checks():
    registered = {check.__name__ for check in django_checks.registry.registry.get_checks()}
    assert {"check_settings", "check_tasks"} <= registered


@pytest.mark.django_db
async def test_ready_exports_the_registry_to_the_configured_configmap(kmock, tmp_path):
    (tmp_path / "token").write_text("sa-token")
    (tmp_path / "namespace").write_text("shop")
    config = apps.get_app_config("django_integration")
    with override_settings(
        GCP_TASKS_REGISTRY_CONFIGMAP="shop-registry",
        GCP_TASKS_KUBERNETES_API_URL=str(kmock.url),
        GCP_TASKS_KUBERNETES_SERVICE_ACCOUNT_DIR=str(tmp_path),
    ):
        await asyncio.to_thread(config.ready)  # what Django calls at startup
        await asyncio.to_thread(config.ready)  # a second worker: nothing to write

    stored = kmock.objects["v1/configmaps", "shop", "shop-registry"]
    assert stored["metadata"]["labels"] == dict(custom_resources.REGISTRY_LABELS)
    assert '"owner": "test"' in stored["data"][custom_resources.REGISTRY_KEY]
    writes = [r for r in list(kmock) if r.method.upper() in ("POST", "PATCH", "PUT")]
    assert len(writes) == 1


async def test_ready_survives_an_unreachable_cluster():
    config = apps.get_app_config("django_integration")
    with override_settings(
        GCP_TASKS_REGISTRY_CONFIGMAP="ns/registry",
        GCP_TASKS_KUBERNETES_API_URL="http://127.0.0.1:9",
    ):
        await asyncio.to_thread(config.ready)  # logs, does not raise
