"""Settings for the django_integration tests; tests change them with `override_settings`."""

SECRET_KEY = "tests-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = [
    "django_integration",
    "examples.shop",
    "tests.django_integration.testapp",
]
ROOT_URLCONF = "tests.django_integration.urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
USE_TZ = True
TIME_ZONE = "UTC"

GCP_TASKS_DOMAIN = "https://tasks.example.com"
GCP_TASKS_DEFAULT_QUEUE_NAME = "test-queue"
GCP_TASKS_REGION = "europe-west1"
GCP_TASKS_RESOURCE_AFFIX = "test"
GCP_TASKS_PROJECT = "test-project"
GCP_TASKS_SERVICE_ACCOUNT_EMAIL = "tasks@test-project.iam.gserviceaccount.com"
STATIC_URL = "/static/"  # the live server's static-files handler needs one
# Django 6.1 warns (an error here) when email is sent without MAILERS; Django 5.2 ignores it.
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
