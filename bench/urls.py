"""The product's URLs plus the benchmark's baselines under /bench/ (bench.settings only)."""

from django.urls import path

from bench import views
from clinic.urls import urlpatterns as clinic_urlpatterns

urlpatterns = [
    path("bench/ok/", views.ok),
    path("bench/insert/", views.insert),
    *clinic_urlpatterns,
]
