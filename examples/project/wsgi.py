"""WSGI entry point of the example project (gunicorn examples.project.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

from controller import logs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "examples.project.settings")
logs.configure(level=os.environ.get("LOG_LEVEL", "INFO"))
application = get_wsgi_application()
