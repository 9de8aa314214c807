"""django-gcp's task URLs and names: `include("django_integration.urls")` under any prefix."""

from django.urls import path

from django_integration import views

urlpatterns = [
    path(
        "subscriber-tasks/<task_name>",
        views.GoogleCloudSubscriberTaskView.as_view(),
        name="gcp-subscriber-tasks",
    ),
    path("tasks/<task_name>", views.GoogleCloudTaskView.as_view(), name="gcp-tasks"),
]
