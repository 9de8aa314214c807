"""Settings of the benchmark site; the driver passes the emulator and issuer addresses in the
environment (`CLOUD_TASKS_EMULATOR_HOST`, `GCP_TASKS_OIDC_CERTS_URL`, `GCP_TASKS_DOMAIN`)."""

import os

DEBUG = False
SECRET_KEY = "benchmark-only-not-a-secret"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["django_integration", "benchmarks.site"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "benchmarks.site.urls"
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
TIME_ZONE = "UTC"

GCP_TASKS_DOMAIN = os.environ.get("GCP_TASKS_DOMAIN", "http://127.0.0.1:8000")
GCP_TASKS_DEFAULT_QUEUE_NAME = os.environ.get("BENCH_QUEUE", "bench-ours")
GCP_TASKS_REGION = "europe-west1"
GCP_TASKS_RESOURCE_AFFIX = "bench"
GCP_TASKS_PROJECT = os.environ.get("BENCH_PROJECT", "bench-project")
GCP_TASKS_SERVICE_ACCOUNT_EMAIL = "bench-tasks@bench-project.iam.gserviceaccount.com"
GCP_TASKS_OIDC_CERTS_URL = os.environ.get("GCP_TASKS_OIDC_CERTS_URL") or None
# Only the "OIDC off" variant of the endpoint benchmark sets this, to split the endpoint's cost.
GCP_TASKS_DISABLE_AUTH = os.environ.get("BENCH_DISABLE_AUTH") == "1"

# Only the "execution recorded" variant of the endpoint benchmark: the runs and executions go to
# a fresh SQLite database, set up as SQLite serves concurrent web requests (the server migrates it
# and turns on write-ahead logging, which the file keeps, before serving).
if os.environ.get("BENCH_RECORD") == "1":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ["BENCH_DATABASE"],
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                # With WAL, NORMAL syncs at checkpoints, not at every commit: a power cut may
                # lose the last commits, never corrupt the file (SQLite's documentation).
                "init_command": "PRAGMA synchronous=NORMAL",
            },
            # Kept open, as a deployed app's workers keep theirs: the last connection to close
            # checkpoints the whole log into the database, which per request costs milliseconds.
            "CONN_MAX_AGE": None,
        }
    }
    GCP_TASKS_RECORD_EXECUTIONS = True
