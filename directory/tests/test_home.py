"""The home page lists the specialties, each a link to the filtered directory."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.tests.factories import SpecialtyFactory
from scheduling.tests.view_helpers import assert_no_integer_ids, html

pytestmark = pytest.mark.django_db


def test_home_lists_specialties_linking_to_the_directory(client: Client) -> None:
    SpecialtyFactory(name="Dentist", slug="dentist")
    SpecialtyFactory(name="Cardiologist", slug="cardiologist")

    response = client.get("/")

    assert response.status_code == 200
    page = html(response)
    assert page.index("Cardiologist") < page.index("Dentist")
    assert 'href="/doctors/?specialty=dentist"' in page
    assert 'href="/doctors/?specialty=cardiologist"' in page
    assert 'action="/doctors/"' in page
    assert_no_integer_ids(page)


def test_home_without_specialties_says_so(client: Client) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert "No specialties yet." in html(response)
