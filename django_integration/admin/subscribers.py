"""The Subscriber tasks page: every declared subscriber task beside its Pub/Sub subscription
(exists? matches?), with its dead-letter and retry settings. Read-only: the controller writes."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from django_integration.admin import observing, pages


class SubscriberTaskAdmin(pages.DeclaredTaskAdmin):
    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.page_context(request, "Subscriber tasks"),
            "listing": observing.subscriber_tasks(),
            "executions_url": self.executions_url(request),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/django_integration/subscriber_tasks.html", context)
