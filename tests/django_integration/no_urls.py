"""A URLconf that forgot `include("django_integration.urls")` (for the E011 check)."""

urlpatterns: list = []
