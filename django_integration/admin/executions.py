"""The Executions pages: every recorded delivery attempt (filters, search, a detail view with the
traceback), a summary per task, and Retry of failed ones (`retrying`)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from django_integration import loggers, models, retrying
from django_integration.admin import summaries

RETRY_PERMISSION = "django_integration.retry_taskexecution"


class StartedFilter(admin.SimpleListFilter):
    """The windows of the summary (`summaries.WINDOWS`): the last hour, day and week."""

    title = "started"
    parameter_name = "started"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(key, f"Last {window.label}") for key, window in summaries.WINDOWS.items()]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[models.TaskExecution]
    ) -> QuerySet[models.TaskExecution]:
        window = summaries.WINDOWS.get(self.value() or "")
        if window is None:
            return queryset
        return queryset.filter(started_at__gte=timezone.now() - window.length)


class TaskExecutionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "started_at",
        "task",
        "kind",
        "status_label",
        "attempt",
        "duration_label",
        "error_message_short",
    )
    list_display_links = ("started_at", "task")
    list_filter = ("status", "kind", "task", StartedFilter)
    search_fields = (
        "task",
        "=run__id",
        "cloud_task_name",
        "scheduler_job_name",
        "message_id",
        "exception_path",
        "error_message",
        "caller",
    )
    ordering = ("-started_at", "-id")
    list_per_page = 50
    actions = ["retry_selected"]
    fieldsets = (
        (None, {"fields": ("task", "kind", "status_label", "attempt", "run_link")}),
        ("Timing", {"fields": ("started_at", "finished_at", "duration_label")}),
        (
            "Delivery",
            {
                "fields": (
                    "caller",
                    "worker_id",
                    "cloud_task_name",
                    "scheduler_job_name",
                    "message_id",
                )
            },
        ),
        ("Arguments", {"fields": ("arguments",)}),
        ("Failure", {"fields": ("exception_path", "error_message", "traceback_block")}),
        ("Retries", {"fields": ("retry_of_link", "retries_links")}),
    )
    readonly_fields = (
        "task",
        "kind",
        "status_label",
        "attempt",
        "run_link",
        "started_at",
        "finished_at",
        "duration_label",
        "caller",
        "worker_id",
        "cloud_task_name",
        "scheduler_job_name",
        "message_id",
        "arguments",
        "exception_path",
        "error_message",
        "traceback_block",
        "retry_of_link",
        "retries_links",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[models.TaskExecution]:
        # The detail page shows the run, its arguments and what it retried; Retry reads its status.
        return super().get_queryset(request).select_related("run", "run__retry_of")

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return ExecutionChangeList

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a record of what happened: viewed, retried, pruned, never edited

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RETRY_PERMISSION)

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("summary/", wrap(self.summary_view), name=f"{name}_summary"),
            path("<int:pk>/retry/", wrap(require_POST(self.retry_view)), name=f"{name}_retry"),
            *super().get_urls(),
        ]

    # -- the list and the detail ---------------------------------------------------------------

    @admin.display(description="status", ordering="status")
    def status_label(self, execution: models.TaskExecution) -> str:
        css = {"SUCCESSFUL": "ok", "FAILED": "bad"}.get(execution.status, "wait")
        return format_html(
            '<span class="gcptasks-status gcptasks-state-{}">{}</span>', css, execution.status
        )

    @admin.display(description="duration", ordering="duration")
    def duration_label(self, execution: models.TaskExecution) -> str:
        return summaries.seconds(execution.duration)

    @admin.display(description="error")
    def error_message_short(self, execution: models.TaskExecution) -> str:
        message = execution.error_message
        return message if len(message) <= 80 else f"{message[:79]}…"

    @admin.display(description="run")
    def run_link(self, execution: models.TaskExecution) -> str:
        run = execution.run
        return format_html(
            '<a href="{}?q={}">{}</a> ({}, {} attempt(s))',
            self._changelist_url(),
            run.id,
            run.id,
            run.status,
            run.attempts,
        )

    @admin.display(description="args and kwargs")
    def arguments(self, execution: models.TaskExecution) -> str:
        run = execution.run
        return format_html("<pre>args: {}\nkwargs: {}</pre>", run.args, run.kwargs)

    @admin.display(description="traceback")
    def traceback_block(self, execution: models.TaskExecution) -> str:
        if not execution.traceback:
            return "-"
        return format_html('<pre class="gcptasks-traceback">{}</pre>', execution.traceback)

    @admin.display(description="retry of")
    def retry_of_link(self, execution: models.TaskExecution) -> str:
        first = execution.run.retry_of
        if first is None:
            return "-"
        return format_html(
            '<a href="{}?q={}">run {}</a>', self._changelist_url(), first.id, first.id
        )

    @admin.display(description="retried as")
    def retries_links(self, execution: models.TaskExecution) -> str:
        retries = execution.run.retries.order_by("created_at")
        if not retries:
            return "-"
        return format_html_join(
            ", ",
            '<a href="{}?q={}">run {}</a> ({})',
            ((self._changelist_url(), r.id, r.id, r.status) for r in retries),
        )

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra = {"can_retry": self.has_retry_permission(request), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = {"summary_url": reverse(f"{self.admin_site.name}:{self._name('summary')}")}
        return super().changelist_view(request, {**extra, **(extra_context or {})})

    # -- summary and retry ---------------------------------------------------------------------

    def summary_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "Executions per task",
            "opts": self.opts,
            "summary": summaries.per_task(self.get_queryset(request)),
            "windows": summaries.WINDOWS,
            "changelist_url": self._changelist_url(),
        }
        return TemplateResponse(request, "admin/django_integration/execution_summary.html", context)

    def retry_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_retry_permission(request):
            raise PermissionDenied
        execution = get_object_or_404(self.get_queryset(request), pk=pk)
        self._retry(request, [execution])
        return HttpResponseRedirect(
            reverse(f"{self.admin_site.name}:{self._name('change')}", args=[pk])
        )

    @admin.action(description="Retry selected failed executions", permissions=["retry"])
    def retry_selected(
        self, request: HttpRequest, queryset: QuerySet[models.TaskExecution]
    ) -> None:
        self._retry(request, list(queryset.select_related("run")))

    def _retry(self, request: HttpRequest, executions: list[models.TaskExecution]) -> None:
        """Retry the run of each failed execution, each run once, and only a run that failed: a
        later attempt may have succeeded, or it may still be running."""
        user = request.user.get_username()
        to_retry: dict[str, models.TaskExecution] = {}
        for execution in executions:
            if execution.status != models.Status.FAILED:
                self.message_user(
                    request,
                    f"{execution}: only failed executions are retried.",
                    messages.WARNING,
                )
            elif execution.run.status != models.Status.FAILED:
                self.message_user(
                    request,
                    f"{execution}: not retried: its run {execution.run_id} is "
                    f"{execution.run.status}; only a failed run is retried.",
                    messages.WARNING,
                )
            else:
                to_retry.setdefault(execution.run_id, execution)
        for execution in to_retry.values():
            try:
                retried = retrying.retry(execution.run)
            except Exception as error:  # shown, never a 500: retrying.NotRetryable and the cloud's
                if not isinstance(error, retrying.NotRetryable):
                    loggers.admin.error(
                        "Retrying %s failed",
                        execution.run_id,
                        exc_info=error,
                        extra={"task_run": execution.run_id, "user": user},
                    )
                self.message_user(request, f"{execution}: not retried: {error}", messages.ERROR)
                continue
            loggers.admin.info(
                "Run %s retried as %s by %s",
                execution.run_id,
                retried.id,
                user,
                extra={"task_run": execution.run_id, "retry": retried.id, "user": user},
            )
            self.message_user(
                request,
                format_html(
                    '{} retried as run <a href="{}?q={}">{}</a>.',
                    execution,
                    self._changelist_url(),
                    retried.id,
                    retried.id,
                ),
                messages.SUCCESS,
            )

    def _name(self, view: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{view}"

    def _changelist_url(self) -> str:
        return reverse(f"{self.admin_site.name}:{self._name('changelist')}")


class ExecutionChangeList(ChangeList):
    """The list shows none of the run (its arguments, its return value) nor the traceback (up to
    64 KiB a row): it reads neither."""

    def get_queryset(
        self, request: HttpRequest, exclude_parameters: Any = None
    ) -> QuerySet[models.TaskExecution]:
        executions = super().get_queryset(request, exclude_parameters)
        return executions.select_related(None).defer("traceback")
