"""The side environment for django-gcp: its own virtual environment with `django-gcp` from PyPI
(made on first use), and a generated dummy service-account file, since it insists on credentials
to fill in the OIDC service account of each task."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from benchmarks import spawning

VENV = spawning.BENCH_DIR / "venv-django-gcp"
REQUIREMENT = "django-gcp>=0.24"
PROJECT = "bench-project"
SERVICE_ACCOUNT = f"bench-tasks@{PROJECT}.iam.gserviceaccount.com"


class ProvisioningError(RuntimeError):
    """The side environment could not be made (no network to PyPI, no venv module...)."""


def django_gcp_python(venv: Path = VENV) -> Path:
    """The side environment's interpreter, creating the environment on first use."""
    python = venv / "bin" / "python"
    marker = venv / ".installed"
    if python.exists() and marker.exists():
        return python
    print(f"creating {venv} with {REQUIREMENT} (first run only)", file=sys.stderr)
    _run([sys.executable, "-m", "venv", "--clear", str(venv)])
    _run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", REQUIREMENT]
    )
    marker.write_text(django_gcp_version(python) + "\n")
    return python


def django_gcp_version(python: Path) -> str:
    script = "import importlib.metadata as m; print(m.version('django-gcp'))"
    return _run([str(python), "-c", script]).strip()


def service_account_file(directory: Path = spawning.BENCH_DIR) -> Path:
    """A well-formed but useless service-account key file: nothing is ever signed with it."""
    path = directory / "dummy-service-account.json"
    if path.exists():
        return path
    directory.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    document = {
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": "0" * 40,
        "private_key": pem,
        "client_email": SERVICE_ACCOUNT,
        "client_id": "100000000000000000000",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path.write_text(json.dumps(document, indent=2))
    path.chmod(0o600)
    return path


def _run(argv: list[str]) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ProvisioningError(
            f"{' '.join(argv)} failed ({result.returncode}):\n{result.stderr[-3000:]}"
        )
    return result.stdout
