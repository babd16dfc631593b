"""Deactivation ends a person's access for good: their browser session, their API tokens and
their calendar feed stay dead after a later activation, while a new sign-in works."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts import services
from accounts.models import User
from accounts.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

API = "/api/v1"


def sign_in_browser(national_id: str) -> Client:
    browser = Client()
    response = browser.post(
        "/accounts/login/", {"username": national_id, "password": PASSWORD}, REMOTE_ADDR="192.0.2.7"
    )
    assert response.status_code == 302
    return browser


def api_tokens(national_id: str) -> dict[str, str]:
    response = Client().post(
        f"{API}/auth/token",
        {"national_id": national_id, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_reactivation_does_not_revive_old_sessions_tokens_or_feed(patient: User) -> None:
    browser = sign_in_browser(patient.national_id)
    tokens = api_tokens(patient.national_id)
    feed = services.issue_calendar_token(user=patient)
    assert browser.get("/accounts/profile/").status_code == 200
    assert Client().get(f"/calendar/{feed}.ics").status_code == 200

    services.deactivate(user=patient)
    services.activate(user=User.objects.get(pk=patient.pk))

    profile = browser.get("/accounts/profile/")
    assert profile.status_code == 302
    assert profile["Location"].startswith("/accounts/login/")
    me = Client().get(f"{API}/me", headers={"Authorization": f"Bearer {tokens['access']}"})
    assert me.status_code == 401
    assert me.json()["code"] == "token_revoked"
    refresh = Client().post(
        f"{API}/auth/refresh", {"refresh": tokens["refresh"]}, content_type="application/json"
    )
    assert refresh.status_code == 401
    assert refresh.json()["code"] == "token_revoked"
    assert Client().get(f"/calendar/{feed}.ics").status_code == 404
    # The person signs in again as usual.
    assert sign_in_browser(patient.national_id).get("/accounts/profile/").status_code == 200
    fresh = api_tokens(patient.national_id)
    again = Client().get(f"{API}/me", headers={"Authorization": f"Bearer {fresh['access']}"})
    assert again.status_code == 200


def test_a_refresh_token_used_as_access_is_named_properly(patient: User) -> None:
    tokens = api_tokens(patient.national_id)

    wrong = Client().post(
        f"{API}/auth/refresh", {"refresh": tokens["access"]}, content_type="application/json"
    )

    assert wrong.status_code == 401
    assert wrong.json()["detail"] == "This is not a refresh token."
