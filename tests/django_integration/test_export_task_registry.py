"""The `export_task_registry` management command."""

import asyncio
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from controller.registry import custom_resources
from django_integration import registry

# The commands read the admin's stored pauses (`pausing`).
pytestmark = pytest.mark.django_db


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("export_task_registry", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_writes_the_registry_to_standard_output_by_default():
    out, _ = run()
    assert out == registry.render()
    assert json.loads(out)["kind"] == "TaskRegistry"
    assert run("--output", "-")[0] == out


def test_writes_a_file_byte_identical_to_standard_output(tmp_path):
    target = tmp_path / "registry.json"
    out, _ = run("--output", str(target))
    assert out == ""
    assert target.read_text() == run()[0]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".registry-")]


def test_an_app_without_affix_gets_a_command_error():
    with (
        override_settings(GCP_TASKS_RESOURCE_AFFIX=None),
        pytest.raises(CommandError, match="GCP_TASKS_RESOURCE_AFFIX must be set"),
    ):
        run()


def test_configmap_without_a_name_or_setting_is_refused():
    with (
        override_settings(GCP_TASKS_REGISTRY_CONFIGMAP=None),
        pytest.raises(CommandError, match="--configmap needs a name"),
    ):
        run("--configmap")


async def test_also_writes_the_configmap_when_asked(kmock, tmp_path):
    (tmp_path / "namespace").write_text("shop")
    with override_settings(
        GCP_TASKS_KUBERNETES_API_URL=str(kmock.url),
        GCP_TASKS_KUBERNETES_SERVICE_ACCOUNT_DIR=str(tmp_path),
        GCP_TASKS_REGISTRY_CONFIGMAP="shop-registry",
    ):
        out, err = await asyncio.to_thread(run, "--configmap")
        _, again = await asyncio.to_thread(run, "--configmap", "other/named")
    assert "ConfigMap shop/shop-registry: created" in err
    assert "ConfigMap other/named: created" in again
    stored = kmock.objects["v1/configmaps", "shop", "shop-registry"]
    assert stored["data"][custom_resources.REGISTRY_KEY] == out


def test_an_unreachable_cluster_is_a_command_error():
    with (
        override_settings(GCP_TASKS_KUBERNETES_API_URL="http://127.0.0.1:9"),
        pytest.raises(CommandError, match="ConfigMap export failed"),
    ):
        run("--configmap", "ns/name")
