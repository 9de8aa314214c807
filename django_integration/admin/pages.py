"""`DeclaredTaskAdmin`: a ModelAdmin for tasks declared in code, which have no table. It keeps
the model's place in the admin index and its permissions, and serves its own pages instead of the
changelist and change forms (there is nothing to add, change or delete)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import NoReverseMatch, URLPattern, path, reverse

from django_integration import conf, models


class DeclaredTaskAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        # Only these: the change, delete and history views would query a table that is not there.
        changelist = self.admin_site.admin_view(self.changelist_view)
        return [path("", changelist, name=self.url_name("changelist")), *self.page_urls()]

    def page_urls(self) -> list[URLPattern]:
        return []

    def url_name(self, view: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{view}"

    def page_context(self, request: HttpRequest, title: str) -> dict[str, Any]:
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "has_view_permission": self.has_view_permission(request),
        }

    def back(self, request: HttpRequest) -> HttpResponseRedirect:
        """To this page's listing (POST, redirect, GET: a reload never repeats an action)."""
        return HttpResponseRedirect(
            reverse(f"{self.admin_site.name}:{self.url_name('changelist')}")
        )

    def executions_url(self, request: HttpRequest, task: str | None = None) -> str | None:
        """The executions list (of `task`), if executions are recorded and the user may see them."""
        if not conf.settings.record_executions or not request.user.has_perm(
            "django_integration.view_taskexecution"
        ):
            return None
        opts = models.TaskExecution._meta
        try:
            url = reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_changelist")
        except NoReverseMatch:
            return None
        return f"{url}?{urlencode({'task__exact': task})}" if task else url
