"""The stored models: their migration is complete."""

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_the_migrations_describe_the_models():
    out = StringIO()
    call_command("makemigrations", "django_integration", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()
