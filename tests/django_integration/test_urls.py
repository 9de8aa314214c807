import pytest
from django.urls import resolve, reverse

from django_integration import views


@pytest.mark.parametrize(
    ("name", "path", "view"),
    [
        ("gcp-tasks", "/gcp/tasks/SendReport", views.GoogleCloudTaskView),
        (
            "gcp-subscriber-tasks",
            "/gcp/subscriber-tasks/OnOrder",
            views.GoogleCloudSubscriberTaskView,
        ),
    ],
)
def test_django_gcp_url_names_and_patterns(name, path, view):
    assert reverse(name, args=(path.rsplit("/", 1)[1],)) == path
    match = resolve(path)
    assert match.url_name == name
    assert match.func.view_class is view
