"""Django's task framework, from Django itself or the backport."""

import django

from django_integration import framework


def test_the_framework_is_djangos_own_from_django_6_and_the_backport_before():
    expected = "django.tasks" if django.VERSION >= (6,) else "django_tasks"
    assert expected == framework.PACKAGE
    assert framework.Task.__module__.startswith(expected)
    assert framework.InvalidTask.__module__.startswith(expected)


def test_unknown_names_are_attribute_errors():
    try:
        framework.NoSuchThing  # noqa: B018
    except AttributeError as error:
        assert "NoSuchThing" in str(error)
    else:
        raise AssertionError("no error")
