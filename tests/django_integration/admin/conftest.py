"""Fixtures of the admin pages: users with chosen permissions, the emulators, and the cloud made
to match the app (a reconcile pass, as the controller would run)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from controller.engine import reconciling, reports
from controller.gcp import clients
from controller.planning import plans
from django_integration import pausing
from emulators import running


@pytest.fixture(autouse=True)
def _no_credentials_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    # Google's clients need credentials even when unused, unless pointed at an emulator: nothing
    # listens here; the emulator fixtures a test asks for point them at the real ones.
    monkeypatch.setenv(running.PUBSUB_ENV, "127.0.0.1:9")
    monkeypatch.setenv(running.SCHEDULER_ENV, "127.0.0.1:9")


@pytest.fixture
def user_with(db) -> Callable[..., Client]:
    """A logged-in client of a staff user holding exactly the given permission codenames."""

    def make(*codenames: str) -> Client:
        user = User.objects.create_user(f"user-{len(codenames)}-{'-'.join(codenames)}"[:150])
        user.is_staff = True
        user.save()
        user.user_permissions.set(
            Permission.objects.filter(
                content_type__app_label="django_integration", codename__in=codenames
            )
        )
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def controller_pass(cloud_scheduler_emulator) -> Callable[[], reports.PassReport]:
    """One reconcile pass of the app's desired state (pauses included) over the scheduler jobs."""

    def run() -> reports.PassReport:
        with clients.Clients.from_environment() as built:
            reconciler = reconciling.Reconciler(built, kinds={plans.Kind.SCHEDULER_JOB})
            return reconciler.run_pass([pausing.desired()])

    return run
