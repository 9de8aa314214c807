from django.urls import include, path

urlpatterns = [path("gcp/", include("django_integration.urls"))]
