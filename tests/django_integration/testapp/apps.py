from django.apps import AppConfig


class TestAppConfig(AppConfig):
    name = "tests.django_integration.testapp"
    label = "testapp"
