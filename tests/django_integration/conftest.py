"""Fixtures for the Django tests; every test here carries the `django_tests` marker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import override_settings

from django_integration import authentication, enqueueing, tasks
from emulators import clock as clocks
from emulators import oidc
from tests.django_integration.testapp import tasks as testapp_tasks

HERE = Path(__file__).parent
CALLER = "tasks@test-project.iam.gserviceaccount.com"  # GCP_TASKS_SERVICE_ACCOUNT_EMAIL


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # `make test` runs `pytest -m django_tests` again under Django 6; deselection happens after
    # this hook, so the marker must be on the items first.
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.django_tests)


@pytest.fixture
def emulator_clock() -> clocks.ManualClock:
    """A manual clock starting now: our schedule times are wall times, as Google's are."""
    return clocks.ManualClock()


@pytest.fixture(autouse=True)
def _clean_runs() -> Iterator[None]:
    testapp_tasks.runs.clear()
    yield
    testapp_tasks.runs.clear()


@pytest.fixture(autouse=True)
def _fresh_certificate_caches(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each test's issuer has a new key, and the OS may give it a port an earlier issuer had: a
    # cache left keyed by that URL would refuse the new key for up to 30 s (the refetch limit).
    monkeypatch.setattr(authentication, "_caches", {})


@pytest.fixture
def isolated_registrations(monkeypatch: pytest.MonkeyPatch) -> None:
    """Task classes a test defines are forgotten afterwards."""
    monkeypatch.setattr(tasks, "_registered", dict(tasks._registered))
    monkeypatch.setattr(tasks, "_conflicts", {})


@pytest.fixture
def verified(oidc_issuer: oidc.Issuer) -> Iterator[oidc.Issuer]:
    """OIDC verification against the local issuer, allowing the test service account."""
    with override_settings(GCP_TASKS_OIDC_CERTS_URL=oidc_issuer.certs_url):
        yield oidc_issuer


@pytest.fixture
def target(cloud_tasks_emulator, push_target):
    """Tasks pushed to a local recording endpoint (http:// is fine while emulating)."""
    with override_settings(GCP_TASKS_DOMAIN=push_target.url):
        yield push_target


@pytest.fixture
def builds(monkeypatch):
    """Counts Cloud Tasks client constructions (our factory is the boundary)."""
    built = []
    original = enqueueing._build_client

    def counting(target):
        built.append(target)
        return original(target)

    monkeypatch.setattr(enqueueing, "_build_client", counting)
    return built
