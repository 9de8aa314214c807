"""The task endpoints under /gcp/ (/gcp/tasks/<name>, /gcp/subscriber-tasks/<name>) and the shop's
own endpoints that enqueue and publish."""

from django.urls import include, path

from examples.shop import views

urlpatterns = [
    path("gcp/", include("django_integration.urls")),
    path("orders/<int:order_id>/confirmation", views.confirm_order, name="confirm-order"),
    path("orders/<int:order_id>/events", views.order_event, name="order-event"),
]
