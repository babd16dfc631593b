"""The calendar feed on the profile page: turned on (the address shown once), replaced,
turned off."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts.models import CalendarFeed, User

PROFILE = "/accounts/profile/"
ACTION = "/accounts/profile/calendar/"


def shown_url(html: str) -> str | None:
    found = re.search(r'value="(http://testserver/calendar/[A-Za-z0-9_-]+\.ics)"', html)
    return found.group(1) if found else None


def test_patient_turns_on_the_feed_and_sees_the_address_once(client: Client, patient: User) -> None:
    client.force_login(patient)
    assert "Turn on my calendar feed" in client.get(PROFILE).content.decode()

    response = client.post(ACTION, {"action": "regenerate"})
    assert response.status_code == 302
    assert response.url == PROFILE

    page = client.get(PROFILE).content.decode()
    url = shown_url(page)
    assert url is not None
    assert 'href="webcal://testserver/calendar/' in page
    assert client.get(url.removeprefix("http://testserver")).status_code == 200
    # Only once: the token itself is not kept.
    assert shown_url(client.get(PROFILE).content.decode()) is None
    assert "Make a new address" in client.get(PROFILE).content.decode()


def test_a_new_address_replaces_the_old_one(client: Client, doctor: User) -> None:
    client.force_login(doctor)
    client.post(ACTION, {"action": "regenerate"})
    old = shown_url(client.get(PROFILE).content.decode())
    client.post(ACTION, {"action": "regenerate"})
    new = shown_url(client.get(PROFILE).content.decode())

    assert old
    assert new
    assert old != new
    assert client.get(old.removeprefix("http://testserver")).status_code == 404
    assert client.get(new.removeprefix("http://testserver")).status_code == 200


def test_turning_the_feed_off(client: Client, patient: User) -> None:
    client.force_login(patient)
    client.post(ACTION, {"action": "regenerate"})
    url = shown_url(client.get(PROFILE).content.decode())

    client.post(ACTION, {"action": "revoke"})

    assert client.get(url.removeprefix("http://testserver")).status_code == 404  # type: ignore[union-attr]
    assert CalendarFeed.objects.get(user=patient).revoked_at is not None
    assert "Your calendar feed is off." in client.get(PROFILE).content.decode()


def test_admins_see_no_calendar_section_and_cannot_make_one(
    client: Client, admin_user: User
) -> None:
    client.force_login(admin_user)

    assert "Calendar subscription" not in client.get(PROFILE).content.decode()
    client.post(ACTION, {"action": "regenerate"})
    assert not CalendarFeed.objects.exists()


@pytest.mark.django_db
def test_anonymous_cannot_touch_feeds(client: Client) -> None:
    response = client.post(ACTION, {"action": "regenerate"})

    assert response.status_code == 302
    assert "/accounts/login/" in response.url
    response = client.get(ACTION)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
