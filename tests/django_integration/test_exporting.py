"""The ConfigMap export against kmock's Kubernetes API (plain HTTP requests, no client library)."""

import asyncio
import logging
import threading

import pytest
import structlog
from django.apps import apps
from django.db import OperationalError, connection
from django.test import override_settings

from controller.registry import custom_resources
from django_integration import exporting, registry
from emulators.testing import eventually

CONFIGMAPS = "v1/configmaps"
DOCUMENT = '{"apiVersion": "gcptasks.dev/v1"}\n'


@pytest.fixture
def cluster(kmock):
    kmock.resources["v1/namespaces"] = {"namespaced": False}
    kmock.resources[CONFIGMAPS] = {"namespaced": True, "kind": "ConfigMap"}
    return exporting.Cluster(api_url=str(kmock.url).rstrip("/"), token="sa-token")


def writes(kmock):
    return [
        request for request in list(kmock) if request.method.upper() in ("POST", "PATCH", "PUT")
    ]


async def export(document, cluster, namespace="shop", name="shop-registry"):
    # The export is synchronous (it runs in AppConfig.ready()); kmock serves on this loop.
    return await asyncio.to_thread(exporting.export, document, namespace, name, cluster)


async def test_a_missing_configmap_is_created_with_the_label(kmock, cluster):
    assert await export(DOCUMENT, cluster) == "created"

    stored = kmock.objects[CONFIGMAPS, "shop", "shop-registry"]
    assert stored["data"] == {custom_resources.REGISTRY_KEY: DOCUMENT}
    assert stored["metadata"]["labels"] == dict(custom_resources.REGISTRY_LABELS)
    assert all(r.headers["Authorization"] == "Bearer sa-token" for r in list(kmock))


async def test_an_identical_document_is_not_written_again(kmock, cluster):
    await export(DOCUMENT, cluster)
    assert await export(DOCUMENT, cluster) == "unchanged"
    assert await export(DOCUMENT, cluster) == "unchanged"
    assert len(writes(kmock)) == 1


async def test_a_changed_document_is_patched(kmock, cluster):
    await export(DOCUMENT, cluster)
    changed = DOCUMENT.replace("v1", "v2")
    assert await export(changed, cluster) == "updated"

    assert (
        kmock.objects[CONFIGMAPS, "shop", "shop-registry"]["data"][custom_resources.REGISTRY_KEY]
        == changed
    )
    patch = writes(kmock)[-1]
    assert patch.method.upper() == "PATCH"
    assert patch.headers["Content-Type"] == "application/merge-patch+json"


async def test_a_configmap_someone_else_created_gets_the_label_and_data(kmock, cluster):
    kmock.objects[CONFIGMAPS, "shop", "shop-registry"] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "shop-registry", "namespace": "shop", "resourceVersion": "1"},
        "data": {"other": "kept"},
    }
    assert await export(DOCUMENT, cluster) == "updated"
    stored = kmock.objects[CONFIGMAPS, "shop", "shop-registry"]
    assert stored["data"] == {"other": "kept", custom_resources.REGISTRY_KEY: DOCUMENT}
    assert stored["metadata"]["labels"][custom_resources.REGISTRY_LABEL] == "true"


async def test_api_errors_are_export_errors(kmock, cluster):
    kmock["get /api/v1/namespaces/shop/configmaps/shop-registry"] << 403
    with pytest.raises(exporting.ExportError, match="HTTP 403"):
        await export(DOCUMENT, cluster)


def test_an_unreachable_api_is_an_export_error():
    cluster = exporting.Cluster(api_url="http://127.0.0.1:9")
    with pytest.raises(exporting.ExportError, match=r"GET http://127\.0\.0\.1:9"):
        exporting.export(DOCUMENT, "shop", "registry", cluster)


@pytest.mark.parametrize(
    ("value", "default", "expected"),
    [
        ("shop/shop-registry", None, ("shop", "shop-registry")),
        ("shop-registry", "pod-ns", ("pod-ns", "shop-registry")),
        ("shop-registry", None, ("", "shop-registry")),
        ("a.b-c", "ns", ("ns", "a.b-c")),
    ],
)
def test_parse_target(value, default, expected):
    assert exporting.parse_target(value, default) == expected


@pytest.mark.parametrize("value", ["Shop", "shop/", "ns/UPPER", "bad_ns/name", "ns/na me"])
def test_parse_target_refuses_invalid_names(value):
    with pytest.raises(ValueError, match="is not a valid"):
        exporting.parse_target(value)


def test_in_cluster_reads_the_service_account(tmp_path, monkeypatch):
    (tmp_path / "token").write_text("tok\n")
    (tmp_path / "namespace").write_text("shop\n")
    (tmp_path / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "6443")
    with override_settings(GCP_TASKS_KUBERNETES_SERVICE_ACCOUNT_DIR=str(tmp_path)):
        assert exporting.in_cluster() == exporting.Cluster(
            api_url="https://10.0.0.1:6443",
            token="tok",
            ca_file=str(tmp_path / "ca.crt"),
            namespace="shop",
        )
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "fd00::1")
    with override_settings(GCP_TASKS_KUBERNETES_SERVICE_ACCOUNT_DIR=str(tmp_path)):
        assert exporting.in_cluster().api_url == "https://[fd00::1]:6443"


def test_outside_a_cluster_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with (
        override_settings(GCP_TASKS_KUBERNETES_API_URL=None),
        pytest.raises(exporting.ExportError, match="not in a Kubernetes cluster"),
    ):
        exporting.in_cluster()


def _configured(kmock, tmp_path, target="shop-registry"):
    (tmp_path / "token").write_text("sa-token")
    (tmp_path / "namespace").write_text("shop")
    return override_settings(
        GCP_TASKS_REGISTRY_CONFIGMAP=target,
        GCP_TASKS_KUBERNETES_API_URL=str(kmock.url),
        GCP_TASKS_KUBERNETES_SERVICE_ACCOUNT_DIR=str(tmp_path),
    )


@pytest.mark.django_db
async def test_startup_export_writes_the_app_registry(kmock, cluster, tmp_path):
    with _configured(kmock, tmp_path):
        await asyncio.to_thread(exporting.export_on_startup)
    stored = kmock.objects[CONFIGMAPS, "shop", "shop-registry"]
    # Read back the way the controller reads a registry ConfigMap.
    exported = custom_resources.registry_configmap(stored)
    assert "test--hourlytask" in [job.name for job in exported.scheduler_jobs]


@pytest.mark.django_db
async def test_startup_export_failures_are_logged_never_raised(kmock, cluster, tmp_path):
    kmock["get /api/v1/namespaces/shop/configmaps/shop-registry"] << 500
    with _configured(kmock, tmp_path), structlog.testing.capture_logs() as logs:
        await asyncio.to_thread(exporting.export_on_startup)
    [failure] = [entry for entry in logs if entry["event"] == "registry_export_failed"]
    assert failure["exc_info"] is True and failure["configmap"] == "shop-registry"


def test_startup_export_does_nothing_unless_configured():
    with (
        override_settings(GCP_TASKS_REGISTRY_CONFIGMAP=None),
        structlog.testing.capture_logs() as logs,
    ):
        exporting.export_on_startup()
    assert logs == []


@pytest.mark.django_db
async def test_startup_export_waits_until_the_apps_are_ready(kmock, cluster, tmp_path, monkeypatch):
    # Reading the pauses queries the database: not before Django has loaded every app.
    loaded = threading.Event()
    monkeypatch.setattr(apps, "ready", False)
    monkeypatch.setattr(apps, "ready_event", loaded)
    with _configured(kmock, tmp_path):
        exporting.export_on_startup()
        await asyncio.sleep(0.2)
        assert writes(kmock) == []

        monkeypatch.setattr(apps, "ready", True)  # as Django's populate() ends
        loaded.set()
        await asyncio.to_thread(eventually, lambda: writes(kmock), 10.0)
    stored = kmock.objects[CONFIGMAPS, "shop", "shop-registry"]
    assert '"kind": "TaskRegistry"' in stored["data"]["registry.json"]


@pytest.mark.django_db
def test_startup_export_is_skipped_when_the_pauses_cannot_be_read(kmock, cluster, tmp_path, caplog):
    def down(execute, sql, params, many, context):
        raise OperationalError("could not connect to server")

    with (
        _configured(kmock, tmp_path),
        connection.execute_wrapper(down),
        structlog.testing.capture_logs() as logs,
        caplog.at_level(logging.ERROR),
    ):
        exporting.export_on_startup()

    assert [e["event"] for e in logs] == ["registry_export_skipped"]
    assert "could not connect to server" in logs[0]["reason"]
    assert "was not exported" in caplog.text
    assert writes(kmock) == []


@pytest.mark.django_db
def test_startup_export_writes_the_registry_file(tmp_path):
    path = tmp_path / "registry.json"
    with override_settings(GCP_TASKS_REGISTRY_FILE=str(path)):
        exporting.export_on_startup()
    assert path.read_text() == registry.render()
    assert [entry.name for entry in tmp_path.iterdir()] == ["registry.json"]  # no temporary left


@pytest.mark.django_db
def test_startup_export_to_an_unwritable_file_is_logged_never_raised(tmp_path):
    path = tmp_path / "missing-directory" / "registry.json"
    with (
        override_settings(GCP_TASKS_REGISTRY_FILE=str(path)),
        structlog.testing.capture_logs() as logs,
    ):
        exporting.export_on_startup()
    [failure] = [entry for entry in logs if entry["event"] == "registry_export_failed"]
    assert failure["file"] == str(path)
    assert not path.exists()


def test_a_failed_write_leaves_no_temporary_file(tmp_path):
    taken = tmp_path / "registry.json"
    (taken / "occupied").mkdir(parents=True)  # a non-empty directory cannot be replaced
    with pytest.raises(OSError):
        exporting.write_file(str(taken), "new\n")
    assert [entry.name for entry in tmp_path.iterdir()] == ["registry.json"]
    assert taken.is_dir()
