"""The task URLs: django-gcp's names and the django.tasks endpoint.

`include("django_integration.urls")` under any prefix."""

from django.db import transaction
from django.urls import path

from django_integration import backend_views, views

urlpatterns = [
    path(
        "subscriber-tasks/<task_name>",
        views.GoogleCloudSubscriberTaskView.as_view(),
        name="gcp-subscriber-tasks",
    ),
    path("tasks/<task_name>", views.GoogleCloudTaskView.as_view(), name="gcp-tasks"),
    # Outside ATOMIC_REQUESTS: the lease a delivery takes must be visible to the next at once.
    path(
        "django-tasks/<task_path>",
        transaction.non_atomic_requests(backend_views.DjangoTaskView.as_view()),
        name="gcp-django-tasks",
    ),
]
