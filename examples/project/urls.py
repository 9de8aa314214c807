"""The task endpoints under /gcp/ (/gcp/tasks/<name>, /gcp/subscriber-tasks/<name>), the shop's
own endpoints that enqueue and publish, and the admin under /admin/ (docs/admin.md)."""

from django.contrib import admin
from django.urls import include, path

from examples.shop import views

urlpatterns = [
    path("gcp/", include("django_integration.urls")),
    path("orders/<int:order_id>/confirmation", views.confirm_order, name="confirm-order"),
    path("orders/<int:order_id>/events", views.order_event, name="order-event"),
    path("admin/", admin.site.urls),
]
