"""Django app: push-task API compatible with django-gcp, authenticated endpoints, registry export."""
