from django.apps import AppConfig


class ShopConfig(AppConfig):
    # No `ready()` importing tasks, unlike django-gcp needs: django_integration finds tasks.py.
    name = "examples.shop"
    label = "shop"
