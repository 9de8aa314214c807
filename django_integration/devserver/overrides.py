"""The settings the dev server gives the app on top of the project's own: the emulators, the URL
pushes go to, the local OIDC issuer, and a registry file instead of a ConfigMap.

The command applies them in its own process and hands them to `runserver` through the
environment (read by `django_integration.devserver.settings`), so nobody edits settings.py.
"""

from __future__ import annotations

import json
import os
from typing import Any

from django.conf import settings as django_settings
from django.http import request as http_request

from django_integration import conf

SETTINGS_MODULE = "django_integration.devserver.settings"
BASE_SETTINGS_ENV = "GCP_TASKS_DEVSERVER_BASE_SETTINGS"  # the project's settings module
OVERRIDES_ENV = "GCP_TASKS_DEVSERVER_OVERRIDES"  # JSON object of setting -> value
LOCAL_PROJECT = "local-dev"  # when the project names none: emulators take any project id
LOCAL_ACCOUNT = "gcp-devserver@{project}.iam.gserviceaccount.com"
# Hosts Django allows when DEBUG is on and ALLOWED_HOSTS is empty.
_DEBUG_HOSTS = [".localhost", "127.0.0.1", "[::1]"]


def compute(
    *, app_url: str, push_host: str, tasks_host: str, certs_url: str, registry_file: str | None
) -> dict[str, Any]:
    """The overrides for this project's settings (read now), all JSON-serializable."""
    local: dict[str, Any] = {
        "GCP_TASKS_DOMAIN": app_url,
        "GCP_TASKS_EMULATOR_TARGET": tasks_host,
        "GCP_TASKS_OIDC_CERTS_URL": certs_url,
        # Through Cloud Tasks, as in the cloud: neither run inline nor dropped.
        "GCP_TASKS_EAGER_EXECUTE": False,
        "GCP_TASKS_DISABLE_EXECUTE": False,
        # A laptop writes its registry to a file, never into a cluster it may be connected to.
        "GCP_TASKS_REGISTRY_CONFIGMAP": None,
        "GCP_TASKS_REGISTRY_FILE": registry_file,
    }
    project = getattr(django_settings, "GCP_TASKS_PROJECT", None) or os.environ.get(
        "GOOGLE_CLOUD_PROJECT"
    )
    if not project:  # else the default credentials would be asked, or the metadata server
        project = local["GCP_TASKS_PROJECT"] = LOCAL_PROJECT
    if not conf.settings.service_account_email:  # else tasks would carry no token: 401
        local["GCP_TASKS_SERVICE_ACCOUNT_EMAIL"] = LOCAL_ACCOUNT.format(project=project)
    allowed = list(django_settings.ALLOWED_HOSTS) or (_DEBUG_HOSTS if django_settings.DEBUG else [])
    if not http_request.validate_host(push_host, allowed):
        local["ALLOWED_HOSTS"] = [*allowed, push_host]
    tasks = _tasks_pushed_here(app_url)
    if tasks is not None:
        local["TASKS"] = tasks
    return local


def _tasks_pushed_here(app_url: str) -> dict[str, Any] | None:
    """Django's TASKS with every CloudTasksBackend that names its own DOMAIN pointed at the
    served app (the others follow GCP_TASKS_DOMAIN); None when no alias names one."""
    # Imported here: this module is imported by runserver's settings, before apps are ready.
    from django_integration import backends

    path = f"{backends.CloudTasksBackend.__module__}.{backends.CloudTasksBackend.__name__}"
    configured = getattr(django_settings, "TASKS", None) or {}
    own_domain = {
        alias
        for alias, backend in configured.items()
        if backend.get("BACKEND") == path and "DOMAIN" in (backend.get("OPTIONS") or {})
    }
    if not own_domain:
        return None
    return {
        alias: {**backend, "OPTIONS": {**backend["OPTIONS"], "DOMAIN": app_url}}
        if alias in own_domain
        else backend
        for alias, backend in configured.items()
    }


def environment(base_settings: str, local: dict[str, Any]) -> dict[str, str]:
    """The variables that make `runserver --settings=SETTINGS_MODULE` load these settings."""
    return {BASE_SETTINGS_ENV: base_settings, OVERRIDES_ENV: json.dumps(local)}
