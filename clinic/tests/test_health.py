"""The load balancer's and Docker's health check."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from django.db import connection
from django.test import Client
from pytest_django.fixtures import Settings

from accounts.models import User
from api import tokens


@pytest.mark.django_db
def test_health_reports_the_app_and_database_ok(client: Client) -> None:
    response = client.get("/health/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_a_local_probe_gets_health_whatever_the_hosts_and_https_settings(
    client: Client, settings: Settings
) -> None:
    """Docker's HEALTHCHECK asks http://127.0.0.1:8000/health/: not an allowed host, not
    HTTPS. Production settings would answer it 400 (host) or 301 (to https); /health/ alone
    is answered anyway."""
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["clinic.example.org"]
    settings.SECURE_SSL_REDIRECT = True

    probe = client.get("/health/", HTTP_HOST="127.0.0.1:8000")

    assert probe.status_code == 200
    assert probe.json()["status"] == "ok"
    # Only that path: the rest of the site still checks the host and redirects to HTTPS.
    assert client.get("/about/", HTTP_HOST="127.0.0.1:8000").status_code == 400
    assert client.get("/health/x", HTTP_HOST="127.0.0.1:8000").status_code == 400
    about = client.get("/about/", HTTP_HOST="clinic.example.org")
    assert about.status_code == 301
    assert about["Location"] == "https://clinic.example.org/about/"


@pytest.mark.django_db
def test_health_is_public_and_read_only(client: Client) -> None:
    assert client.post("/health/").status_code == 405


@pytest.fixture
def unreachable_database(django_db_blocker: object) -> Iterator[None]:
    """The default connection pointed at a database that is not there: a closed local port
    for PostgreSQL, a file in a directory that does not exist for SQLite. A real failed
    connection, no mock; the settings are put back after."""
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "postgresql":
        with socket.socket() as probe:  # a port that nothing listens on
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        connection.settings_dict.update(
            {"HOST": "127.0.0.1", "PORT": str(port), "OPTIONS": {"connect_timeout": 2}}
        )
    else:
        connection.settings_dict["NAME"] = "/nonexistent-directory/clinic.sqlite3"
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        try:
            yield
        finally:
            connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(saved)


def test_health_is_503_when_the_database_is_unreachable(
    client: Client, unreachable_database: None
) -> None:
    response = client.get("/health/")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unreachable", "cache": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize(
    "path",
    ["/", "/doctors/", "/about/", "/doctors/dora/", "/doctors/dora/availability/"],
)
def test_pages_answer_503_with_retry_after_when_the_database_is_unreachable(
    unreachable_database: None, path: str
) -> None:
    response = Client(raise_request_exception=False).get(path)

    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert "briefly unavailable" in response.content.decode()


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/v1/doctors"), ("get", "/api/v1/me"), ("post", "/api/v1/auth/token")],
)
def test_the_api_answers_503_json_when_the_database_is_unreachable(
    unreachable_database: None, method: str, path: str
) -> None:
    # A well-signed token, so that /me gets as far as looking its user up.
    access, _ = tokens.issue(User(email="a@example.com", password="x"), tokens.ACCESS)
    client = Client(raise_request_exception=False)
    response = getattr(client, method)(
        path,
        data={"national_id": "300000001", "password": "x" * 12} if method == "post" else None,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {access}" if path.endswith("/me") else "",
    )

    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert response.json()["code"] == "unavailable"
