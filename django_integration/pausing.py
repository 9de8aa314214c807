"""Pauses made in the admin: stored (`models.JobPause`) and laid over the code's own `paused` in
the registry the app exports, so the controller pauses the job and keeps it paused.

The rule when the pauses cannot be read, for every exporter (startup, `export_task_registry`,
`task_manager`, the admin): a missing pause must never resume a job somebody paused.

- The app has no database, or the pause table does not exist yet (before `migrate`): nothing can
  have been paused there, so the code's defaults are the desired state (logged as a warning).
- Anything else (the database is down, refuses us, times out): `PausesUnreadable`, and nothing is
  exported; the last export, with its pauses, stays what the controller applies.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from contextlib import nullcontext

from django.db import connections, router, transaction
from django.utils import timezone

from controller.registry import model
from django_integration import loggers, models, registry

NO_DATABASE_ENGINE = "django.db.backends.dummy"  # what Django uses when DATABASES is empty


class PausesUnreadable(Exception):
    """The stored pauses could not be read: export nothing rather than resume a paused job."""


def database() -> str:
    """Where pauses are written and read back: an export right after a pause or a resume must see
    it, which a lagging read replica would not."""
    return router.db_for_write(models.JobPause)


def stored() -> dict[str, models.JobPause]:
    """Every stored pause by job name; `PausesUnreadable` when they cannot be read (module
    docstring: an app without a database, or before `migrate`, has none)."""
    alias = database()
    connection = connections[alias]
    if connection.settings_dict.get("ENGINE") == NO_DATABASE_ENGINE:
        return {}
    # Inside a transaction, a savepoint: a failed read must not break the caller's (PostgreSQL).
    # Outside, none: SQLite in IMMEDIATE mode would take its write lock to read.
    guard = transaction.atomic(using=alias) if connection.in_atomic_block else nullcontext()
    try:
        with guard:
            return {pause.job: pause for pause in models.JobPause.objects.using(alias)}
    except Exception as error:
        if _table_missing(alias):
            loggers.admin.warning(
                "No job pauses: the table is missing in database %s (run `manage.py migrate`)",
                alias,
                extra={"database": alias},
            )
            return {}
        raise PausesUnreadable(
            f"the paused jobs could not be read from database {alias!r}: "
            f"{type(error).__name__}: {error}"
        ) from error


def overlay(desired: model.Registry, paused: Collection[str]) -> model.Registry:
    """`desired` with the jobs named in `paused` paused; the others keep the code's `paused`."""
    jobs = tuple(
        dataclasses.replace(job, paused=True) if job.name in paused else job
        for job in desired.scheduler_jobs
    )
    return dataclasses.replace(desired, scheduler_jobs=jobs)


def desired(project: str | None = None, *, require_affix: bool = True) -> model.Registry:
    """The registry this app exports: its tasks as declared, with the stored pauses laid over
    (`require_affix`: as `registry.build`)."""
    return overlay(registry.build(project, require_affix=require_affix), stored())


def pause(job: str, task: str, *, user: str, reason: str) -> models.JobPause:
    """Store a pause of `job` (replacing an earlier one: the newest who and why win)."""
    alias = database()
    with transaction.atomic(using=alias):
        stored_pause, _ = models.JobPause.objects.using(alias).update_or_create(
            job=job,
            defaults={
                "task": task,
                "paused_by": user,
                "paused_at": timezone.now(),
                "reason": reason,
            },
        )
    loggers.admin.info(
        "Job %s paused by %s: %s",
        job,
        user or "someone",
        reason or "no reason given",
        extra={"job": job, "task": task, "user": user, "reason": reason},
    )
    return stored_pause


def resume(job: str, *, user: str) -> bool:
    """Remove the pause of `job`: the code's own `paused` applies again. False if none."""
    alias = database()
    with transaction.atomic(using=alias):
        deleted, _ = models.JobPause.objects.using(alias).filter(job=job).delete()
    if deleted:
        loggers.admin.info(
            "Job %s resumed by %s", job, user or "someone", extra={"job": job, "user": user}
        )
    return bool(deleted)


def _table_missing(alias: str) -> bool:
    """True only when the database answers and has no pause table."""
    try:
        return models.JobPause._meta.db_table not in connections[alias].introspection.table_names()
    except Exception:  # it does not answer: unknown, which is not "missing"
        return False
