"""Settings for the django_integration tests; tests change them with `override_settings`."""

import os
import tempfile

import django

SECRET_KEY = "tests-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django_integration",
    "examples.shop",
    "tests.django_integration.testapp",
]
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
ROOT_URLCONF = "tests.django_integration.urls"
# A file, not memory: the live server's threads each get a connection of their own, as in
# production; IMMEDIATE transactions take SQLite's write lock at BEGIN (Django's advice).
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": ":memory:",
        "TEST": {"NAME": os.path.join(tempfile.gettempdir(), f"gcp-tasks-tests-{os.getpid()}.db")},
        "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE"},
    }
}
USE_TZ = True
TIME_ZONE = "UTC"

GCP_TASKS_DOMAIN = "https://tasks.example.com"
GCP_TASKS_DEFAULT_QUEUE_NAME = "test-queue"
GCP_TASKS_REGION = "europe-west1"
GCP_TASKS_RESOURCE_AFFIX = "test"
GCP_TASKS_PROJECT = "test-project"
GCP_TASKS_SERVICE_ACCOUNT_EMAIL = "tasks@test-project.iam.gserviceaccount.com"
STATIC_URL = "/static/"  # the live server's static-files handler needs one

# Django's task framework: django.tasks on Django 6, the django-tasks backport on 5.2.
FRAMEWORK = "django.tasks" if django.VERSION >= (6,) else "django_tasks"
BACKEND = "django_integration.backends.CloudTasksBackend"
TASKS = {
    "default": {"BACKEND": BACKEND, "QUEUES": ["default", "reports"]},
    "deduplicated": {"BACKEND": BACKEND, "QUEUES": ["default"], "OPTIONS": {"DEDUPLICATE": True}},
    # Tasks of other backends must never run at the endpoint.
    "immediate": {"BACKEND": f"{FRAMEWORK}.backends.immediate.ImmediateBackend"},
}

# Django 6.1 warns (an error here) when email is sent without MAILERS; Django 5.2 ignores it.
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
