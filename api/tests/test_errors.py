"""Every error under /api/ is JSON {"detail", "code"}, whoever answered it."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from ninja.errors import Throttled

from api.api import api


@pytest.mark.django_db
def test_unknown_api_path_is_a_json_404(client: Client) -> None:
    response = client.get("/api/v1/no-such-thing")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


@pytest.mark.django_db
def test_method_not_allowed_is_json_and_keeps_allow(client: Client) -> None:
    response = client.delete("/api/v1/specialties")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert "GET" in response["Allow"]


@pytest.mark.django_db
def test_a_rate_limit_in_front_of_the_api_is_json_with_retry_after(
    client: Client, settings: object
) -> None:
    settings.ROOT_URLCONF = "api.tests.urls"  # type: ignore[attr-defined]

    response = client.get("/api/v1/limited-for-test")

    assert response.status_code == 429
    assert response.json() == {
        "detail": "Too many requests; try again later.",
        "code": "rate_limited",
    }
    assert response["Retry-After"] == "60"


def test_a_throttled_api_view_answers_rate_limited(rf: RequestFactory) -> None:
    response = api.on_exception(rf.get("/api/v1/doctors"), Throttled(wait=30))

    assert response.status_code == 429
    assert b'"code": "rate_limited"' in response.content


@pytest.mark.django_db
def test_pages_outside_the_api_keep_their_html_errors(client: Client) -> None:
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_query_parameters_are_bounded(client: Client) -> None:
    for query in ("limit=0", "limit=101", "offset=-1", "offset=100001", "q=" + "x" * 101):
        response = client.get(f"/api/v1/doctors?{query}")
        assert response.status_code == 422, query
        assert response.json()["code"] == "validation_error"
