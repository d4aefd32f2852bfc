"""The platform's URLs plus the baseline view, for the benchmark's gunicorn only."""

from django.urls import path

from cs_platform.urls import urlpatterns as platform_urlpatterns

from . import views

urlpatterns = [
    path("bench/baseline/accounts/", views.account_page_values, name="bench-baseline-accounts"),
    *platform_urlpatterns,
]
