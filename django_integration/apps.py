"""The Django app: registers the checks, imports every app's `tasks`, exports the registry."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class DjangoIntegrationConfig(AppConfig):
    name = "django_integration"
    label = "django_integration"
    verbose_name = "GCP tasks"
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        from django_integration import checks, exporting

        del checks  # imported for its @register side effect
        # Each installed app's `tasks` module, so a task nobody imported is still registered.
        autodiscover_modules("tasks")
        exporting.export_on_startup()
