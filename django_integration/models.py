"""What the database keeps when `GCP_TASKS_RECORD_EXECUTIONS` is on: runs and their executions.

A `TaskRun` is one logical run of a task, whatever started it: a `django.tasks` enqueue (its id is
the `TaskResult` id), a Cloud Tasks task of an `OnDemandTask`, a Cloud Scheduler firing or a
Pub/Sub message. Each delivery attempt that reaches an endpoint is a `TaskExecution` of its run.
Without the setting nothing here is read or written, so apps that never migrate keep working.

A `JobPause` is a periodic task paused from the admin (desired state, see `pausing`). The
`Declared*` models have no table: they give the admin's pages of tasks declared in code their
place in the admin index and their permissions.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from django_integration import payloads


class Status(models.TextChoices):
    """Django's `TaskResultStatus` values, so a run converts to a `TaskResult` as it is."""

    READY = "READY", "Ready"
    RUNNING = "RUNNING", "Running"
    FAILED = "FAILED", "Failed"
    SUCCESSFUL = "SUCCESSFUL", "Successful"


class Kind(models.TextChoices):
    """What started a run."""

    DJANGO_TASK = "django_task", "django.tasks enqueue"
    ON_DEMAND = "on_demand", "On-demand task"
    PERIODIC = "periodic", "Cloud Scheduler firing"
    SUBSCRIBER = "subscriber", "Pub/Sub message"


class TaskRun(models.Model):
    """One logical run of a task and its outcome (the stored form of a django.tasks result)."""

    id = models.CharField(primary_key=True, max_length=64, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # The django.tasks module path (`shop.tasks.send_receipt`) or the task class's name().
    task = models.CharField(max_length=255)
    backend = models.CharField(max_length=100, blank=True)  # the django.tasks backend alias
    queue_name = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.READY)
    args = models.JSONField(default=list, encoder=payloads.JSONEncoder)
    kwargs = models.JSONField(default=dict, encoder=payloads.JSONEncoder)
    return_value = models.JSONField(null=True, blank=True, encoder=payloads.JSONEncoder)
    created_at = models.DateTimeField(default=timezone.now)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    run_after = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    last_attempted_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # projects/P/locations/L/queues/Q/tasks/T, when known: what cancelling deletes.
    cloud_task_path = models.CharField(max_length=500, blank=True)
    # Which deliveries belong to this run when no id travels with them (class-based tasks):
    # "cloudtasks:QUEUE/TASK", "scheduler:JOB@TIME" or "pubsub:SUBSCRIPTION/MESSAGE_ID".
    delivery_key = models.CharField(max_length=500, blank=True)
    # False once no delivery may run it again: failed permanently, or cancelled.
    retryable = models.BooleanField(default=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries"
    )
    # The delivery running it now (django.tasks runs only): a conditional UPDATE takes it.
    lease_id = models.CharField(max_length=32, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["created_at"], name="gcptasks_run_created"),
            models.Index(fields=["status", "created_at"], name="gcptasks_run_status"),
            models.Index(fields=["kind", "created_at"], name="gcptasks_run_kind"),
            models.Index(fields=["task", "created_at"], name="gcptasks_run_task"),
            models.Index(fields=["delivery_key"], name="gcptasks_run_delivery"),
        ]

    def __str__(self) -> str:
        return f"{self.task} {self.id} ({self.status})"


class TaskExecution(models.Model):
    """One delivery attempt of a run that reached an endpoint, and how it ended."""

    id = models.BigAutoField(primary_key=True)
    run = models.ForeignKey(TaskRun, on_delete=models.CASCADE, related_name="executions")
    # Copies of the run's, so the executions list filters without a join.
    kind = models.CharField(max_length=20, choices=Kind.choices)
    task = models.CharField(max_length=255)
    attempt = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration = models.DurationField(null=True, blank=True)
    caller = models.CharField(max_length=254, blank=True)  # the verified service account
    worker_id = models.CharField(max_length=255, blank=True)  # host:pid that ran it
    # The cloud's ids, as Google sends them in headers or the push envelope.
    cloud_task_name = models.CharField(max_length=500, blank=True)
    scheduler_job_name = models.CharField(max_length=500, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    exception_path = models.CharField(max_length=255, blank=True)
    error_message = models.TextField(blank=True)
    traceback = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["started_at"], name="gcptasks_exec_started"),
            models.Index(fields=["status", "started_at"], name="gcptasks_exec_status"),
            models.Index(fields=["kind", "started_at"], name="gcptasks_exec_kind"),
            models.Index(fields=["task", "started_at"], name="gcptasks_exec_task"),
            models.Index(fields=["scheduler_job_name", "started_at"], name="gcptasks_exec_job"),
        ]
        permissions = [("retry_taskexecution", "Can retry failed task executions")]

    def __str__(self) -> str:
        return f"{self.task} attempt {self.attempt} ({self.status})"


class JobPause(models.Model):
    """A periodic task paused from the admin: exported as `paused` until someone resumes it."""

    job = models.CharField(primary_key=True, max_length=500)  # the Cloud Scheduler job id
    task = models.CharField(max_length=255)  # the class name or django.tasks module path
    # Names, not foreign keys: the record of who paused a job outlives their account.
    paused_by = models.CharField(max_length=150, blank=True)
    paused_at = models.DateTimeField(default=timezone.now)
    reason = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.job} paused by {self.paused_by or 'someone'}"


class DeclaredPeriodicTask(models.Model):
    """No table: the admin page of the periodic tasks declared in code, and who may run them now
    (`run_declaredperiodictask`) or pause and resume them (`pause_declaredperiodictask`)."""

    class Meta:
        managed = False
        verbose_name = "periodic task"
        default_permissions = ("view",)
        permissions = [
            ("run_declaredperiodictask", "Can run periodic tasks now"),
            ("pause_declaredperiodictask", "Can pause and resume periodic tasks"),
        ]


class DeclaredSubscriberTask(models.Model):
    """No table: the admin page of the subscriber tasks declared in code."""

    class Meta:
        managed = False
        verbose_name = "subscriber task"
        default_permissions = ("view",)
