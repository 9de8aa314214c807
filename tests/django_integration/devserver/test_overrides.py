"""The settings the dev server lays over the project's own."""

import json

import pytest
from django.test import override_settings

from django_integration.devserver import overrides

LOCAL = {
    "app_url": "http://127.0.0.1:8000",
    "push_host": "127.0.0.1",
    "tasks_host": "127.0.0.1:4001",
    "certs_url": "http://127.0.0.1:4002/oauth2/v1/certs",
    "registry_file": "/tmp/registry.json",
}


def test_the_app_is_pointed_at_the_emulators_and_itself():
    with override_settings(
        GCP_TASKS_DOMAIN="https://shop.example.com",
        GCP_TASKS_EMULATOR_TARGET="elsewhere:1",
        GCP_TASKS_OIDC_CERTS_URL="https://www.googleapis.com/oauth2/v1/certs",
        GCP_TASKS_EAGER_EXECUTE=True,
        GCP_TASKS_REGISTRY_CONFIGMAP="shop/registry",
    ):
        local = overrides.compute(**LOCAL)
    assert local == {
        "GCP_TASKS_DOMAIN": "http://127.0.0.1:8000",
        "GCP_TASKS_EMULATOR_TARGET": "127.0.0.1:4001",
        "GCP_TASKS_OIDC_CERTS_URL": "http://127.0.0.1:4002/oauth2/v1/certs",
        "GCP_TASKS_EAGER_EXECUTE": False,
        "GCP_TASKS_DISABLE_EXECUTE": False,
        "GCP_TASKS_REGISTRY_CONFIGMAP": None,
        "GCP_TASKS_REGISTRY_FILE": "/tmp/registry.json",
    }  # the project and service account of tests/django_integration/settings.py stay


def test_without_a_project_or_account_local_ones_are_named(monkeypatch):
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    with override_settings(GCP_TASKS_PROJECT=None, GCP_TASKS_SERVICE_ACCOUNT_EMAIL=None):
        local = overrides.compute(**LOCAL)
    assert local["GCP_TASKS_PROJECT"] == "local-dev"
    assert (
        local["GCP_TASKS_SERVICE_ACCOUNT_EMAIL"]
        == "gcp-devserver@local-dev.iam.gserviceaccount.com"
    )


def test_the_project_from_the_environment_is_kept(monkeypatch):
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "from-env")
    with override_settings(GCP_TASKS_PROJECT=None, GCP_TASKS_SERVICE_ACCOUNT_EMAIL=None):
        local = overrides.compute(**LOCAL)
    assert "GCP_TASKS_PROJECT" not in local
    assert (
        local["GCP_TASKS_SERVICE_ACCOUNT_EMAIL"] == "gcp-devserver@from-env.iam.gserviceaccount.com"
    )


@pytest.mark.parametrize(
    ("debug", "allowed", "push_host", "expected"),
    [
        (True, [], "127.0.0.1", None),  # Django's DEBUG defaults already allow it
        (True, [], "[::1]", None),
        (True, [], "192.168.1.20", [".localhost", "127.0.0.1", "[::1]", "192.168.1.20"]),
        (False, ["shop.example.com"], "127.0.0.1", ["shop.example.com", "127.0.0.1"]),
        (False, ["*"], "127.0.0.1", None),
        (False, ["127.0.0.1"], "127.0.0.1", None),
    ],
)
def test_the_push_host_is_allowed(debug, allowed, push_host, expected):
    with override_settings(DEBUG=debug, ALLOWED_HOSTS=allowed):
        local = overrides.compute(**{**LOCAL, "push_host": push_host})
    assert local.get("ALLOWED_HOSTS") == expected


def test_the_environment_names_the_base_settings_and_carries_the_overrides():
    environment = overrides.environment("shop.settings", {"GCP_TASKS_DOMAIN": "http://x:1"})
    assert environment[overrides.BASE_SETTINGS_ENV] == "shop.settings"
    assert json.loads(environment[overrides.OVERRIDES_ENV]) == {"GCP_TASKS_DOMAIN": "http://x:1"}


BACKEND = "django_integration.backends.CloudTasksBackend"


def test_a_tasks_backend_with_its_own_domain_pushes_here_too():
    tasks = {
        "default": {"BACKEND": BACKEND, "QUEUES": ["default"]},
        "reports": {"BACKEND": BACKEND, "OPTIONS": {"DOMAIN": "https://r.example.com", "X": 1}},
        "other": {"BACKEND": "somewhere.Else", "OPTIONS": {"DOMAIN": "https://else.example"}},
    }
    with override_settings(TASKS=tasks):
        local = overrides.compute(**LOCAL)
    assert local["TASKS"] == {
        "default": tasks["default"],  # follows GCP_TASKS_DOMAIN
        "reports": {"BACKEND": BACKEND, "OPTIONS": {"DOMAIN": "http://127.0.0.1:8000", "X": 1}},
        "other": tasks["other"],
    }
    with override_settings(TASKS={"default": tasks["default"]}):
        assert "TASKS" not in overrides.compute(**LOCAL)
