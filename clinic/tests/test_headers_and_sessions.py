"""Security headers on every page; the session id changes at login and ends at logout; an
admin's session ends after 30 idle minutes, everyone else's 12 hours after signing in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client

from accounts import services
from accounts.models import User

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/doctors/"])
def test_every_page_carries_the_security_headers(client: Client, path: str) -> None:
    response = client.get(path)

    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = {}
    for part in response["Content-Security-Policy"].split(";"):
        directive, _, sources = part.strip().partition(" ")
        policy[directive] = sources
    assert policy["script-src"] == "'self'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"


def test_session_cookie_is_http_only_and_same_site(
    client: Client, patient: User, password: str
) -> None:
    response = client.post("/accounts/login/", {"username": "300000001", "password": password})

    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_the_session_id_changes_at_login(client: Client, patient: User, password: str) -> None:
    # An attacker who planted a session id before the login (session fixation) has nothing.
    session = client.session
    session["planted"] = True
    session.save()
    planted = session.session_key
    client.cookies["sessionid"] = planted

    client.post("/accounts/login/", {"username": "300000001", "password": password})

    assert client.cookies["sessionid"].value != planted
    assert not Session.objects.filter(session_key=planted).exists()
    assert "_auth_user_id" in client.session


def test_logout_ends_the_session_on_the_server(client: Client, patient: User) -> None:
    client.force_login(patient)
    old = client.cookies["sessionid"].value

    client.post("/accounts/logout/")

    assert not Session.objects.filter(session_key=old).exists()
    replay = Client()
    replay.cookies["sessionid"] = old
    assert replay.get("/appointments/").status_code == 302


def test_a_deactivated_users_session_ends(client: Client, patient: User) -> None:
    client.force_login(patient)
    assert client.get("/appointments/").status_code == 200

    services.deactivate(user=patient)

    assert client.get("/appointments/").status_code == 302


def test_an_admins_session_ends_after_30_idle_minutes(
    client: Client, admin_user: User, clock: time_machine.Coordinates
) -> None:
    client.force_login(admin_user)
    assert client.get("/admin/").status_code == 200

    # Each request restarts the 30 minutes: two hours of work, a request every 29 minutes.
    for _ in range(4):
        clock.shift(dt.timedelta(minutes=29))
        assert client.get("/admin/").status_code == 200
    clock.shift(dt.timedelta(minutes=31))

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_patients_session_lasts_12_hours_from_the_login(
    client: Client, patient: User, password: str, clock: time_machine.Coordinates
) -> None:
    client.post("/accounts/login/", {"username": "300000001", "password": password})

    clock.shift(dt.timedelta(hours=2))
    assert client.get("/appointments/").status_code == 200
    clock.shift(dt.timedelta(hours=10, minutes=1))

    assert client.get("/appointments/").status_code == 302
