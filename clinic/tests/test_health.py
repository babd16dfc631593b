"""The load balancer's and Docker's health check."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from django.db import connection
from django.test import Client


@pytest.mark.django_db
def test_health_reports_the_app_and_database_ok(client: Client) -> None:
    response = client.get("/health/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"]


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
    assert response.json() == {"status": "error", "database": "unreachable"}
    assert "no-cache" in response["Cache-Control"]
