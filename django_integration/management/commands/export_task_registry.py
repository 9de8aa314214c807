"""`manage.py export_task_registry [--output PATH|-] [--configmap [NAMESPACE/]NAME]`."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from controller.registry import documents
from django_integration import conf, exporting, pausing


class Command(BaseCommand):
    help = (
        "Write the task registry (the scheduler jobs and push subscriptions this app needs) as "
        "JSON; identical code and settings give byte-identical output."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            "-o",
            default="-",
            help="File to write, or '-' for standard output (the default).",
        )
        parser.add_argument(
            "--configmap",
            nargs="?",
            const="",
            default=None,
            metavar="[NAMESPACE/]NAME",
            help="Also write it into this Kubernetes ConfigMap (no value: "
            "GCP_TASKS_REGISTRY_CONFIGMAP), using the in-cluster credentials.",
        )

    def handle(self, *args: Any, output: str, configmap: str | None, **options: Any) -> None:
        try:
            document = documents.render(pausing.desired())
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from error
        except pausing.PausesUnreadable as error:
            raise CommandError(f"Nothing exported: {error}") from error
        if output == "-":
            self.stdout.write(document, ending="")
        else:
            exporting.write_file(output, document)
        if configmap is not None:
            self._export(document, configmap or conf.settings.registry_configmap)

    def _export(self, document: str, target: str | None) -> None:
        if not target:
            raise CommandError("--configmap needs a name, or GCP_TASKS_REGISTRY_CONFIGMAP set")
        try:
            cluster = exporting.in_cluster()
            namespace, name = exporting.parse_target(target, cluster.namespace)
            outcome = exporting.export(document, namespace, name, cluster)
        except (ValueError, exporting.ExportError) as error:
            raise CommandError(f"ConfigMap export failed: {error}") from error
        self.stderr.write(f"ConfigMap {namespace}/{name}: {outcome}")
