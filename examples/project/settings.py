"""Settings of the example shop. Every GCP_TASKS_* value can be overridden from the environment,
so the demo can point the app at the local emulators; `manage.py gcp_devserver` needs none of
that, it lays what a local run needs over these (see docs/django.md)."""

import os
from pathlib import Path

import django

DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-not-a-secret")
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", *os.environ.get("ALLOWED_HOSTS", "").split()]
INSTALLED_APPS = [
    # The admin is the operations window (docs/admin.md): periodic tasks, executions, pauses.
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_integration",
    "examples.shop",
]
if django.VERSION < (6,):
    INSTALLED_APPS.append("django_tasks")  # the backport's checks and signals
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
ROOT_URLCONF = "examples.project.urls"
WSGI_APPLICATION = "examples.project.wsgi.application"
# Task results and executions are stored here (GCP_TASKS_RECORD_EXECUTIONS); `migrate` first.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("EXAMPLE_DATABASE") or Path(__file__).parent / "example.sqlite3",
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
    }
}
STATIC_URL = "/static/"
USE_TZ = True
TIME_ZONE = "UTC"

# -- tasks (django-gcp's names) ----------------------------------------------------------------
GCP_TASKS_DOMAIN = os.environ.get("GCP_TASKS_DOMAIN", "http://127.0.0.1:8000")
GCP_TASKS_DEFAULT_QUEUE_NAME = "shop-default"
GCP_TASKS_REGION = os.environ.get("GCP_TASKS_REGION", "europe-west1")
GCP_TASKS_RESOURCE_AFFIX = "shop"
GCP_TASKS_DELIMITER = "--"
GCP_TASKS_EAGER_EXECUTE = os.environ.get("GCP_TASKS_EAGER_EXECUTE") == "1"
# The Cloud Tasks emulator is also found from CLOUD_TASKS_EMULATOR_HOST, as Google's clients do.
GCP_TASKS_EMULATOR_TARGET = os.environ.get("GCP_TASKS_EMULATOR_TARGET") or None

# -- new settings --------------------------------------------------------------------------------
GCP_TASKS_PROJECT = os.environ.get("GOOGLE_CLOUD_PROJECT", "example-shop")
GCP_TASKS_SERVICE_ACCOUNT_EMAIL = os.environ.get(
    "GCP_TASKS_SERVICE_ACCOUNT_EMAIL", "shop-tasks@example-shop.iam.gserviceaccount.com"
)
# Google's certificates by default; `python -m emulators` prints the local issuer's URL.
GCP_TASKS_OIDC_CERTS_URL = os.environ.get("GCP_TASKS_OIDC_CERTS_URL") or None
GCP_TASKS_REGISTRY_CONFIGMAP = os.environ.get("GCP_TASKS_REGISTRY_CONFIGMAP") or None
# Outside a cluster, a file the controller reads (`gcp-tasks-controller run --registry FILE`).
GCP_TASKS_REGISTRY_FILE = os.environ.get("GCP_TASKS_REGISTRY_FILE") or None
# Every execution is stored, for the admin's Executions pages and django.tasks results.
GCP_TASKS_RECORD_EXECUTIONS = True

# -- Django's task framework: the same queue and settings ------------------------------------
BACKEND = "django_integration.backends.CloudTasksBackend"
TASKS = {
    "default": {"BACKEND": BACKEND, "QUEUES": ["default"]},  # "default" is shop-default
    "deduplicated": {"BACKEND": BACKEND, "QUEUES": ["default"], "OPTIONS": {"DEDUPLICATE": True}},
}
