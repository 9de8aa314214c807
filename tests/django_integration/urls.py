from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("gcp/", include("django_integration.urls")),
    path("admin/", admin.site.urls),
]
