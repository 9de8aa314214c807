"""`manage.py prune_task_records [--days N] [--dry-run]`: delete runs that finished longer ago than
the retention (`GCP_TASKS_RECORD_RETENTION_DAYS`, 30 by default), with their executions."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import router, transaction
from django.db.models import Q
from django.utils import timezone

from django_integration import conf, models

BATCH = 1000  # rows per transaction: a large backlog never holds one long lock
MAX_DAYS = 36_500  # a century back is still a date Python and every database can hold


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
            help="Keep runs that finished within this many days, 0 to "
            f"{MAX_DAYS} (default: GCP_TASKS_RECORD_RETENTION_DAYS, else 30).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Only count what would be deleted."
        )

    def handle(self, *args: Any, days: float | None, dry_run: bool, **options: Any) -> None:
        source = "GCP_TASKS_RECORD_RETENTION_DAYS" if days is None else "--days"
        days = conf.settings.record_retention_days if days is None else days
        if not (math.isfinite(days) and 0 <= days <= MAX_DAYS):
            raise CommandError(f"{source} must be from 0 to {MAX_DAYS} days, not {days:g}")
        cutoff = timezone.now() - timedelta(days=days)
        database = router.db_for_write(models.TaskRun)
        old = models.TaskRun.objects.using(database).filter(
            Q(finished_at__lt=cutoff)
            # A finished run always gets its finish time; should one lack it, its creation counts.
            | Q(finished_at__isnull=True, created_at__lt=cutoff),
            status__in=[models.Status.SUCCESSFUL, models.Status.FAILED],
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
