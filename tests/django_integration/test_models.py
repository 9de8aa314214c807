"""The stored models: their migration is complete and their statuses are Django's."""

from io import StringIO

import pytest
from django.core.management import call_command

from django_integration import framework, models


@pytest.mark.django_db
def test_the_migrations_describe_the_models():
    out = StringIO()
    call_command("makemigrations", "django_integration", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_run_statuses_are_djangos_task_result_statuses():
    assert models.Status.values == list(framework.TaskResultStatus.values)
