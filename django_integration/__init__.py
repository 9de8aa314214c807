"""Django app: django-gcp compatible push tasks, authenticated endpoints, registry export."""
