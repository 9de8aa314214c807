"""Server process for django-gcp's task endpoint, run with django-gcp's own interpreter
(.bench/venv-django-gcp): the same stdlib WSGI server as ours, a task as cheap as ours, Django's
default logging; prints the port once it is ready and stops on SIGTERM.

It imports nothing of this project but the stdlib-only server of `benchmarks.endpoint_server`.
django-gcp verifies no token: its row compares with our endpoint with OIDC on and off.
"""

import sys

import django
from django.conf import settings

from benchmarks import endpoint_server

settings.configure(
    DEBUG=False,
    SECRET_KEY="benchmark-only-not-a-secret",
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    INSTALLED_APPS=["django_gcp"],
    MIDDLEWARE=[],
    ROOT_URLCONF=__name__,
    DATABASES={},
    USE_TZ=True,
    GCP_TASKS_DOMAIN="http://127.0.0.1:8000",
    GCP_TASKS_DEFAULT_QUEUE_NAME="bench-django-gcp",
    GCP_TASKS_REGION="europe-west1",
    GCP_TASKS_RESOURCE_AFFIX="bench",
)
django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.urls import include, path  # noqa: E402
from django_gcp.tasks import OnDemandTask  # noqa: E402

urlpatterns = [path("gcp/", include("django_gcp.urls"))]


class BenchPlain(OnDemandTask):
    def run(self, **kwargs):
        return None


if __name__ == "__main__":
    sys.exit(endpoint_server.serve(endpoint_server.bind(), get_wsgi_application()))
