"""The friendly error pages, and a 500 page that renders without the request's context."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path
from pytest_django.fixtures import Settings

from accounts.models import User


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("the database fell over")


urlpatterns = [path("boom/", boom), path("", include("clinic.urls"))]
handler500 = "clinic.views.server_error"


@pytest.mark.django_db
def test_an_unknown_page_is_a_friendly_404(client: Client) -> None:
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    page = response.content.decode()
    assert "We cannot find that page" in page
    assert 'href="/doctors/"' in page


@pytest.mark.django_db
def test_a_refused_page_is_a_friendly_403_with_the_reason(client: Client, patient: User) -> None:
    client.force_login(patient)

    response = client.get("/dashboard/")

    assert response.status_code == 403
    page = response.content.decode()
    assert "This page is not open to your account" in page
    assert "The dashboard is for doctors." in page


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_crash_is_a_friendly_500_without_request_context(
    settings: Settings,
) -> None:
    settings.CLINIC_NAME = "Riverside Clinic"
    client = Client(raise_request_exception=False)

    response = client.get("/boom/")

    assert response.status_code == 500
    page = response.content.decode()
    assert "Sorry, something went wrong on our side" in page
    assert "Riverside Clinic" in page  # given without the context processors
    assert "the database fell over" not in page


def test_the_admin_header_carries_the_clinic_name(settings: Settings) -> None:
    assert admin.site.site_header == f"{settings.CLINIC_NAME} administration"
