"""The catalog of runnable django.tasks tasks."""

from django_integration import catalog
from tests.django_integration.testapp import tasks as testapp_tasks

APP = "tests.django_integration.testapp.tasks"


def test_a_using_variant_keeps_the_task_as_decorated():
    variant = testapp_tasks.add.using(queue_name="reports")  # validated again, so added again
    assert variant.queue_name == "reports"
    assert catalog.find(f"{APP}.add") is testapp_tasks.add


def test_a_new_function_under_the_same_path_replaces_it(monkeypatch):
    monkeypatch.setattr(catalog, "_tasks", dict(catalog._tasks))

    def add(a, b):  # what the module defines when it is executed again (a reload)
        return a - b

    reloaded = type("Task", (), {"module_path": f"{APP}.add", "func": add})()
    catalog.add(reloaded)
    assert catalog.find(f"{APP}.add") is reloaded


def test_unknown_paths_are_not_found():
    assert catalog.find("os.system") is None
    assert catalog.find(f"{APP}.plain_function") is None
