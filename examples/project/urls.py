"""The task endpoints under /gcp/ (/gcp/tasks/<name>, /gcp/subscriber-tasks/<name>) and the admin
under /admin/ (docs/admin.md)."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("gcp/", include("django_integration.urls")),
    path("admin/", admin.site.urls),
]
