"""runserver's settings under the dev server: the project's own, with the overrides on top, and
a process that dies with its parent. Each case imports them in a fresh interpreter."""

import json
import os
import signal
import subprocess
import sys

from django_integration.devserver import overrides

BASE = """
DEBUG = True
SECRET_KEY = "base-secret"
INSTALLED_APPS = []
GCP_TASKS_DOMAIN = "https://shop.example.com"
helper_value = "lowercase names are not settings"
"""

READ = """
import ctypes, json
from django.conf import settings
settings.DEBUG  # imports the settings module
death_signal = ctypes.c_int()
ctypes.CDLL(None).prctl(2, ctypes.byref(death_signal))  # PR_GET_PDEATHSIG
print(json.dumps({
    "domain": settings.GCP_TASKS_DOMAIN,
    "secret": settings.SECRET_KEY,
    "helper": hasattr(settings, "helper_value"),
    "death_signal": death_signal.value,
}))
"""


def test_the_projects_settings_with_the_overrides_on_top(tmp_path):
    (tmp_path / "base_site.py").write_text(BASE)
    environment = {
        **os.environ,
        "PYTHONPATH": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": overrides.SETTINGS_MODULE,
        **overrides.environment("base_site", {"GCP_TASKS_DOMAIN": "http://127.0.0.1:8000"}),
    }
    result = subprocess.run(
        [sys.executable, "-c", READ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(result.stdout) == {
        "domain": "http://127.0.0.1:8000",
        "secret": "base-secret",
        "helper": False,
        "death_signal": signal.SIGTERM,
    }
