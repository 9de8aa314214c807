"""The Periodic tasks page: every declared periodic task beside its Cloud Scheduler job, with Run
now (RunJob), Pause and Resume. A pause is desired state: stored, exported, applied by the
controller; this page never pauses or resumes the job in the cloud itself.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from controller.gcp import calling, errors
from controller.registry import model
from django_integration import exporting, loggers, pausing, registry
from django_integration.admin import observing, pages

RUN_PERMISSION = "django_integration.run_declaredperiodictask"
PAUSE_PERMISSION = "django_integration.pause_declaredperiodictask"


@dataclasses.dataclass(frozen=True)
class Declared:
    task: str
    job: model.SchedulerJob

    @property
    def paused_in_code(self) -> bool:
        return self.job.paused


class PauseForm(forms.Form):
    job = forms.CharField(widget=forms.HiddenInput)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        required=False,
        max_length=2000,
        help_text="Why, for whoever resumes it.",
    )


class PeriodicTaskAdmin(pages.DeclaredTaskAdmin):
    """Not a model's changelist: the declared tasks come from code, their state from the cloud."""

    def has_run_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RUN_PERMISSION)

    def has_pause_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(PAUSE_PERMISSION)

    def page_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("run/", wrap(require_POST(self.run_view)), name=self.url_name("run")),
            path("pause/", wrap(self.pause_view), name=self.url_name("pause")),
            path("resume/", wrap(require_POST(self.resume_view)), name=self.url_name("resume")),
        ]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        listing = observing.periodic_tasks()
        context = {
            **self.page_context(request, "Periodic tasks"),
            "listing": listing,
            "can_run": self.has_run_permission(request),
            "can_pause": self.has_pause_permission(request),
            "executions_url": self.executions_url(request),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/django_integration/periodic_tasks.html", context)

    def run_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_run_permission(request):
            raise PermissionDenied
        row = self._declared(request, request.POST.get("job", ""))
        if row is None:
            return self.back(request)
        try:
            calls = calling.Calls(backoff=observing.PAGE_BACKOFF)
            observing.scheduler(calls, registry.build()).run(row.job.name)
        except errors.NotFound:
            self.message_user(
                request,
                f"Not run: {row.job.name} is not in Cloud Scheduler yet; the controller creates it "
                "from the exported registry.",
                messages.ERROR,
            )
            return self.back(request)
        except errors.ApiError as error:
            self.message_user(request, f"Run now failed: {error.reason}", messages.ERROR)
            return self.back(request)
        except ImproperlyConfigured as error:
            self.message_user(request, f"Run now failed: {error}", messages.ERROR)
            return self.back(request)
        user = request.user.get_username()
        loggers.admin.info(
            "Job %s run now by %s",
            row.job.name,
            user,
            extra={"job": row.job.name, "task": row.task, "user": user},
        )
        self.message_user(
            request,
            format_html(
                "Run now: {} fires now; its execution appears under <a href='{}'>Executions</a>.",
                row.job.name,
                self.executions_url(request, row.task) or "#",
            ),
            messages.SUCCESS,
        )
        return self.back(request)

    def pause_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_pause_permission(request):
            raise PermissionDenied
        form = PauseForm(request.POST or None, initial={"job": request.GET.get("job", "")})
        job = request.POST.get("job") or request.GET.get("job", "")
        row = self._declared(request, job)
        if row is None:
            return self.back(request)
        if request.method == "POST" and form.is_valid():
            pausing.pause(
                row.job.name,
                row.task,
                user=request.user.get_username(),
                reason=form.cleaned_data["reason"],
            )
            self.message_user(request, f"Paused {row.job.name}.", messages.SUCCESS)
            self._export(request)
            return self.back(request)
        context = {
            **self.page_context(request, f"Pause {row.job.name}"),
            "form": form,
            "row": row,
        }
        return TemplateResponse(request, "admin/django_integration/pause_task.html", context)

    def resume_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_pause_permission(request):
            raise PermissionDenied
        row = self._declared(request, request.POST.get("job", ""))
        if row is None:
            return self.back(request)
        if row.paused_in_code:
            self.message_user(
                request,
                f"Not resumed: {row.job.name} is paused in code (paused = True); change the code.",
                messages.ERROR,
            )
            return self.back(request)
        if not pausing.resume(row.job.name, user=request.user.get_username()):
            self.message_user(
                request, f"Not resumed: {row.job.name} was not paused here.", messages.WARNING
            )
            return self.back(request)
        self.message_user(request, f"Resumed {row.job.name}.", messages.SUCCESS)
        self._export(request)
        return self.back(request)

    def _declared(self, request: HttpRequest, job: str) -> Declared | None:
        """The declared task whose job is `job`; an unknown name is refused, changing nothing."""
        found = {declared.name: Declared(task, declared) for task, declared in _periodic_jobs()}
        row = found.get(job)
        if row is None:
            self.message_user(
                request, f"No declared periodic task has job {job!r}.", messages.ERROR
            )
        return row

    def _export(self, request: HttpRequest) -> None:
        """Export the new desired state at once and say what the controller will see."""
        try:
            written = exporting.export_desired()
        except (
            OSError,
            exporting.ExportError,
            pausing.PausesUnreadable,
            ImproperlyConfigured,  # no affix: a registry cannot be built (the page says so too)
        ) as error:
            loggers.export.error(
                "The task registry could not be exported after an admin change: %s",
                error,
                extra={"reason": str(error)},
            )
            self.message_user(
                request,
                f"Stored, but the registry could not be exported ({error}); the controller "
                "applies it once an export succeeds (the next start of the app).",
                messages.ERROR,
            )
            return
        if not written:
            self.message_user(
                request,
                "No export is configured (GCP_TASKS_REGISTRY_CONFIGMAP or GCP_TASKS_REGISTRY_FILE):"
                " the controller sees this change only when the registry is next exported.",
                messages.WARNING,
            )
            return
        self.message_user(
            request,
            f"Registry exported ({', '.join(written)}); the controller applies it next pass.",
            messages.INFO,
        )


def _periodic_jobs() -> list[tuple[str, model.SchedulerJob]]:
    try:
        return registry.periodic_jobs()
    except ImproperlyConfigured:
        return []  # the page itself says why
