"""The task endpoints under /gcp/ (as in the example project), plus /bench/bare and /bench/stats."""

from django.urls import include, path

from benchmarks.site import views

urlpatterns = [
    path("gcp/", include("django_integration.urls")),
    path("bench/bare", views.bare),
    path("bench/stats", views.stats),
]
