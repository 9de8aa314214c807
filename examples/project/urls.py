"""The task endpoints under /gcp/: /gcp/tasks/<name> and /gcp/subscriber-tasks/<name>."""

from django.urls import include, path

urlpatterns = [path("gcp/", include("django_integration.urls"))]
