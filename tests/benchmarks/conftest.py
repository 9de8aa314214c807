"""The smallest benchmark sizes, and django-gcp's side environment (made once, on first use)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import profiles, provisioning


@pytest.fixture(scope="session")
def smoke() -> profiles.Profile:
    return profiles.PROFILES["smoke"]


@pytest.fixture(scope="session")
def django_gcp_python() -> Path:
    """django-gcp's interpreter; the first run ever installs it from PyPI (and fails loudly
    without network, as missing infrastructure must)."""
    return provisioning.django_gcp_python()


@pytest.fixture(scope="session")
def django_tasks_python() -> Path:
    """The Django 6 environment with the other django.tasks backends; made on first use, from
    PyPI (and failing loudly without network, as missing infrastructure must)."""
    return provisioning.django_tasks_python()
