"""Login with a national ID in any format; a pending account is told so only with its password."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import User
from accounts.tests.factories import PendingPatientFactory

LOGIN = reverse("accounts:login")
GENERIC = "The national ID or the password is not right."
PENDING = "waiting for an admin to activate"


def errors_of(response) -> list[str]:  # type: ignore[no-untyped-def]
    return response.context["form"].non_field_errors()


@pytest.mark.parametrize("typed", ["300000001", "300 000 001", "300-000-001", " 300-000 001 "])
def test_active_user_logs_in_with_national_id_in_any_format(
    client: Client, patient: User, password: str, typed: str
) -> None:
    response = client.post(LOGIN, {"username": typed, "password": password})

    assert response.status_code == 302
    assert response.url == reverse("accounts:after-login")
    assert client.session[SESSION_KEY] == str(patient.pk)


def test_admin_lands_on_django_admin_and_a_patient_does_not(
    client: Client, patient: User, admin_user: User, password: str
) -> None:
    client.post(LOGIN, {"username": admin_user.national_id, "password": password})
    assert client.get(reverse("accounts:after-login")).url == reverse("admin:index")

    client.post(reverse("accounts:logout"))
    client.post(LOGIN, {"username": patient.national_id, "password": password})
    landing = client.get(reverse("accounts:after-login"))
    assert landing.status_code == 302
    assert not landing.url.startswith(reverse("admin:index"))


@pytest.mark.django_db
def test_pending_user_with_right_password_is_told_to_wait(client: Client, password: str) -> None:
    pending = PendingPatientFactory(national_id="300000002")

    response = client.post(LOGIN, {"username": "300-000-002", "password": password})

    assert response.status_code == 200
    assert any(PENDING in e for e in errors_of(response))
    assert GENERIC not in str(errors_of(response))
    assert SESSION_KEY not in client.session
    pending.refresh_from_db()
    assert pending.last_login is None


@pytest.mark.django_db
def test_pending_user_with_wrong_password_gets_the_generic_message(client: Client) -> None:
    PendingPatientFactory(national_id="300000002")

    response = client.post(LOGIN, {"username": "300000002", "password": "not-the-password"})

    assert errors_of(response) == [GENERIC]
    assert PENDING not in response.content.decode()
    assert SESSION_KEY not in client.session


@pytest.mark.django_db
def test_unknown_national_id_gets_the_same_generic_message(client: Client) -> None:
    response = client.post(LOGIN, {"username": "999999999", "password": "whatever-it-is"})

    assert errors_of(response) == [GENERIC]
    assert SESSION_KEY not in client.session


def test_active_user_with_wrong_password_gets_the_generic_message(
    client: Client, patient: User
) -> None:
    response = client.post(LOGIN, {"username": patient.national_id, "password": "wrong-one-1"})

    assert errors_of(response) == [GENERIC]
    assert SESSION_KEY not in client.session


def test_deactivated_user_cannot_log_in(client: Client, patient: User, password: str) -> None:
    services.deactivate(user=patient)

    response = client.post(LOGIN, {"username": patient.national_id, "password": password})

    assert response.status_code == 200
    assert SESSION_KEY not in client.session


def test_logout_is_a_post_that_ends_the_session(client: Client, patient: User) -> None:
    client.force_login(patient)

    assert client.get(reverse("accounts:logout")).status_code == 405
    assert SESSION_KEY in client.session

    response = client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert response.url == reverse("home")
    assert SESSION_KEY not in client.session
    assert client.get(reverse("accounts:profile")).status_code == 302
