"""The dummy service account is a key file Google's libraries accept."""

from __future__ import annotations

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
