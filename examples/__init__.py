"""An example Django project using django_integration (`examples.project`, app `examples.shop`)."""
