"""WSGI entry point of the example project (gunicorn examples.project.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "examples.project.settings")
application = get_wsgi_application()  # logging: LOGGING in examples/project/settings.py
