"""The test settings without any database, as many django-gcp apps run."""

from tests.django_integration.settings import *  # noqa: F403

DATABASES: dict[str, dict[str, str]] = {}
