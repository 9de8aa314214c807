"""`manage.py prune_task_records [--days N] [--dry-run]`: delete old finished runs and their
executions (`GCP_TASKS_RECORD_RETENTION_DAYS`, 30 by default)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import router, transaction
from django.utils import timezone

from django_integration import conf, models

BATCH = 1000  # rows per transaction: a large backlog never holds one long lock


class Command(BaseCommand):
    help = (
        "Delete stored task runs (and their executions) that finished longer ago than the "
        "retention; runs still waiting or running are kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=float,
            default=None,
            help="Keep this many days (default: GCP_TASKS_RECORD_RETENTION_DAYS, else 30).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Only count what would be deleted."
        )

    def handle(self, *args: Any, days: float | None, dry_run: bool, **options: Any) -> None:
        days = conf.settings.record_retention_days if days is None else days
        if days < 0:
            raise CommandError("--days must not be negative")
        cutoff = timezone.now() - timedelta(days=days)
        database = router.db_for_write(models.TaskRun)
        old = models.TaskRun.objects.using(database).filter(
            status__in=[models.Status.SUCCESSFUL, models.Status.FAILED], created_at__lt=cutoff
        )
        if dry_run:
            self.stdout.write(f"{old.count()} task runs older than {days:g} days would go")
            return
        deleted = 0
        while batch := list(old.values_list("pk", flat=True)[:BATCH]):
            with transaction.atomic(using=database):
                # Executions go with their runs (CASCADE).
                _, per_model = models.TaskRun.objects.using(database).filter(pk__in=batch).delete()
            deleted += per_model.get(models.TaskRun._meta.label, 0)
        self.stdout.write(f"Deleted {deleted} task runs older than {days:g} days")
