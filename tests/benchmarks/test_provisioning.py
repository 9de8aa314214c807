"""The dummy service account is a key file Google's libraries accept."""

from __future__ import annotations

import subprocess
from pathlib import Path

from google.oauth2 import service_account

from benchmarks import provisioning


def test_dummy_service_account_loads_as_credentials(tmp_path: Path) -> None:
    path = provisioning.service_account_file(tmp_path)
    credentials = service_account.Credentials.from_service_account_file(str(path))
    assert credentials.service_account_email == provisioning.SERVICE_ACCOUNT
    assert credentials.project_id == provisioning.PROJECT
    assert path.stat().st_mode & 0o077 == 0
    assert provisioning.service_account_file(tmp_path).read_text() == path.read_text()


def test_the_side_environment_has_django_gcp(django_gcp_python: Path) -> None:
    version = provisioning.django_gcp_version(django_gcp_python)
    assert tuple(int(part) for part in version.split(".")[:2]) >= (0, 24)


def test_the_django_tasks_environment_is_made_from_todays_pyproject(
    django_tasks_python: Path,
) -> None:
    # The environment (remade by the fixture when pyproject.toml changed) imports what today's
    # pyproject.toml installs, and its marker names that file's digest.
    marker = django_tasks_python.parent.parent / ".installed"
    assert "pyproject.toml sha256" in marker.read_text()
    check = subprocess.run(
        [str(django_tasks_python), "-c", "import jsonschema_rs, django_integration"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    assert provisioning.django_tasks_python() == django_tasks_python  # unchanged: kept
