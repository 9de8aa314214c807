"""The side environments: django-gcp's own virtual environment with `django-gcp` from PyPI, and
one for Django's task framework (Django 6 on Python 3.12+, this project, django-tasks-cloud-tasks
and django-tasks-google), each made on first use; and a generated dummy service-account file,
since django-gcp insists on credentials to fill in the OIDC service account of each task."""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
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
TASKS_VENV = spawning.BENCH_DIR / "venv-django-tasks"
# The other Cloud Tasks backends for django.tasks, at the versions the README compares.
TASKS_REQUIREMENTS = (
    "Django>=6.1,<7",
    "django-tasks-cloud-tasks==0.1.0",
    "django-tasks-google==0.6.0",
)


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


def django_tasks_python(venv: Path = TASKS_VENV) -> Path:
    """The django.tasks side environment's interpreter, creating it on first use and again
    whenever this project's pyproject.toml changes (it installs this project's dependencies)."""
    python = venv / "bin" / "python"
    marker = venv / ".installed"
    pyproject = hashlib.sha256((spawning.ROOT / "pyproject.toml").read_bytes()).hexdigest()
    recipe = "\n".join([*TASKS_REQUIREMENTS, f"pyproject.toml sha256 {pyproject}"]) + "\n"
    if python.exists() and marker.exists() and marker.read_text() == recipe:
        return python
    interpreter = _python_312()
    print(f"creating {venv} with {', '.join(TASKS_REQUIREMENTS)}", file=sys.stderr)
    _run([interpreter, "-m", "venv", "--clear", str(venv)])
    install = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    _run([*install, "-e", f"{spawning.ROOT}[django]", *TASKS_REQUIREMENTS])
    marker.write_text(recipe)
    return python


def _python_312() -> str:
    """Python 3.12 or later, as the Makefile's Django 6 environment finds it."""
    explicit = os.environ.get("PYTHON_DJANGO6")
    candidates = [explicit] if explicit else []
    home = Path.home() / ".pyenv" / "versions"
    candidates += sorted(glob.glob(f"{home}/3.12*/bin/python3.12"))
    candidates += sorted(glob.glob(f"{home}/3.13*/bin/python3.13"))
    candidates += [shutil.which("python3.12") or "", shutil.which("python3.13") or ""]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return candidate
    raise ProvisioningError("Django 6 needs Python 3.12+; none found (set PYTHON_DJANGO6)")


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
