"""Typed settings with their defaults, read from `django.conf.settings` at every access.

Nothing is copied at import or app-ready time, so `override_settings` in tests changes behaviour
immediately. django-gcp's `GCP_TASKS_*` names keep their meanings; docs/django.md lists every
setting (a test reads the names from this module).
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Sequence
from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured

GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
DEFAULT_OWNER = "django"
DEFAULT_RETENTION_DAYS = 30.0
# Cloud Tasks' longest dispatch deadline: a delivery still running after it is retried by Google,
# and that retry must wait for the lease rather than run the task a second time alongside.
DEFAULT_LEASE_SECONDS = 1800.0


def _get(name: str, default: Any = None) -> Any:
    return getattr(django_settings, name, default)


class Settings:
    """Every setting the app reads, as a property; one instance lives at `conf.settings`."""

    # -- django-gcp's settings, same names and meanings --------------------------------------

    @property
    def domain(self) -> str | None:
        value = _get("GCP_TASKS_DOMAIN")
        return value.rstrip("/") if isinstance(value, str) else value

    @property
    def default_queue_name(self) -> str | None:
        return _get("GCP_TASKS_DEFAULT_QUEUE_NAME")

    @property
    def region(self) -> str:
        return str(_get("GCP_TASKS_REGION", "europe-west1"))

    @property
    def resource_affix(self) -> str | None:
        return _get("GCP_TASKS_RESOURCE_AFFIX") or None

    @property
    def delimiter(self) -> str:
        return str(_get("GCP_TASKS_DELIMITER", "--"))

    @property
    def eager_execute(self) -> bool:
        return bool(_get("GCP_TASKS_EAGER_EXECUTE", False))

    @property
    def disable_execute(self) -> bool:
        return bool(_get("GCP_TASKS_DISABLE_EXECUTE", False))

    @property
    def emulator_target(self) -> str | None:
        """The Cloud Tasks emulator's host:port: the setting, else `CLOUD_TASKS_EMULATOR_HOST`."""
        return (
            _get("GCP_TASKS_EMULATOR_TARGET") or os.environ.get("CLOUD_TASKS_EMULATOR_HOST") or None
        )

    @property
    def emulating(self) -> bool:
        """Any local emulator is in use, so http:// push targets are allowed."""
        others = ("PUBSUB_EMULATOR_HOST", "CLOUD_SCHEDULER_EMULATOR_HOST")
        return self.emulator_target is not None or any(os.environ.get(name) for name in others)

    # -- authentication of callers (django-gcp's names where it has them) --------------------

    @property
    def auth_disabled(self) -> bool:
        """Only an explicit `GCP_TASKS_DISABLE_AUTH = True` turns OIDC verification off."""
        return _get("GCP_TASKS_DISABLE_AUTH", False) is True

    @property
    def invoker_service_account_emails(self) -> frozenset[str]:
        """Callers allowed to run tasks; defaults to the account that signs our own tasks."""
        for name in (
            "GCP_TASKS_INVOKER_SERVICE_ACCOUNT_EMAILS",
            "GCP_INVOKER_SERVICE_ACCOUNT_EMAILS",
        ):
            if hasattr(django_settings, name):
                return frozenset(_as_strings(name, getattr(django_settings, name)))
        own = self.service_account_email
        return frozenset([own]) if own else frozenset()

    @property
    def oidc_audience(self) -> str | None:
        return _get("GCP_TASKS_OIDC_AUDIENCE") or None

    @property
    def oidc_certs_url(self) -> str:
        """The setting, else the variable of the same name (`python -m emulators` prints it)."""
        value = _get("GCP_TASKS_OIDC_CERTS_URL") or os.environ.get("GCP_TASKS_OIDC_CERTS_URL")
        return str(value or GOOGLE_CERTS_URL)

    # -- new settings ----------------------------------------------------------------------------

    @property
    def service_account_email(self) -> str | None:
        """The service account Google signs task, job and push tokens for."""
        return _get("GCP_TASKS_SERVICE_ACCOUNT_EMAIL") or None

    @property
    def project(self) -> str:
        """`GCP_TASKS_PROJECT`, else `GOOGLE_CLOUD_PROJECT`, else the default credentials'."""
        explicit = _get("GCP_TASKS_PROJECT") or os.environ.get("GOOGLE_CLOUD_PROJECT")
        if explicit:
            return str(explicit)
        return _default_credentials_project()

    @property
    def registry_owner(self) -> str:
        """The ownership marker; label values are lowercase, so the affix is lowercased."""
        explicit = _get("GCP_TASKS_REGISTRY_OWNER")
        return str(explicit or (self.resource_affix or DEFAULT_OWNER).lower())

    @property
    def registry_configmap(self) -> str | None:
        """`"[namespace/]name"` of the ConfigMap the registry is exported to on startup."""
        return _get("GCP_TASKS_REGISTRY_CONFIGMAP") or None

    @property
    def registry_file(self) -> str | None:
        """Path the registry is written to on startup (`manage.py gcp_devserver` sets it)."""
        return _get("GCP_TASKS_REGISTRY_FILE") or None

    @property
    def kubernetes_api_url(self) -> str | None:
        """Override of the in-cluster API address (`https://$KUBERNETES_SERVICE_HOST:PORT`)."""
        return _get("GCP_TASKS_KUBERNETES_API_URL") or None

    @property
    def kubernetes_service_account_dir(self) -> str:
        return str(_get("GCP_TASKS_KUBERNETES_SERVICE_ACCOUNT_DIR") or SERVICE_ACCOUNT_DIR)

    # -- stored task runs and their executions (models.py) ---------------------------------------

    @property
    def record_executions(self) -> bool:
        """Store every run and delivery attempt in the database; off unless set to True, because
        it needs `manage.py migrate` and django-gcp apps often have no database at all."""
        return _get("GCP_TASKS_RECORD_EXECUTIONS", False) is True

    @property
    def record_retention_days(self) -> float:
        """How long `prune_task_records` keeps finished runs and their executions."""
        return float(_get("GCP_TASKS_RECORD_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))

    @property
    def lease_seconds(self) -> float:
        """How long a delivery of a django.tasks task holds its run before another may take it."""
        return float(_get("GCP_TASKS_LEASE_SECONDS", DEFAULT_LEASE_SECONDS))


def _as_strings(name: str, value: Any) -> Sequence[str]:
    if isinstance(value, str) or not all(isinstance(item, str) for item in value or ()):
        raise ImproperlyConfigured(f"{name} must be a list of service account emails")
    return list(value or ())


_project_lock = threading.Lock()


@functools.cache
def _default_credentials_project() -> str:
    # google.auth.default() can hit the metadata server; ask once per process.
    import google.auth
    from google.auth import exceptions as auth_exceptions

    with _project_lock:
        try:
            _, project = google.auth.default()
        except auth_exceptions.DefaultCredentialsError as error:
            raise ImproperlyConfigured(
                "No GCP project: set GCP_TASKS_PROJECT or GOOGLE_CLOUD_PROJECT "
                f"(default credentials gave none: {error})"
            ) from error
    if not project:
        raise ImproperlyConfigured(
            "No GCP project: set GCP_TASKS_PROJECT or GOOGLE_CLOUD_PROJECT "
            "(the default credentials name none)"
        )
    return str(project)


settings = Settings()
