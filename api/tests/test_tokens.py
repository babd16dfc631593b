"""POST /auth/token and /auth/refresh: the tokens, their payload and their lifetimes, with
the clock frozen and moved."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import jwt
import pytest
import time_machine
from django.test import Client

from accounts import services
from accounts.models import User
from accounts.tests.factories import PASSWORD
from api.tests.conftest import API

T0 = dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC)


def sign_in(client: Client, national_id: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post(
        f"{API}/auth/token",
        {"national_id": national_id, "password": password},
        content_type="application/json",
    )


def me(client: Client, access: str):  # type: ignore[no-untyped-def]
    return client.get(f"{API}/me", headers={"Authorization": f"Bearer {access}"})


@pytest.fixture
def frozen() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def test_token_payload_carries_email_role_type_and_expiry(
    client: Client, patient: User, frozen: time_machine.Coordinates
) -> None:
    response = sign_in(client, "300-000-001")  # dashes ignored, as on the login page

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["refresh_expires_in"] == 86400
    access = jwt.decode(body["access"], options={"verify_signature": False})
    refresh = jwt.decode(body["refresh"], options={"verify_signature": False})
    assert access["email"] == patient.email
    assert access["role"] == "patient"
    assert access["type"] == "access"
    assert access["sub"] == str(patient.public_id)
    assert access["exp"] == int(T0.timestamp()) + 3600
    assert refresh["type"] == "refresh"
    assert refresh["exp"] == int(T0.timestamp()) + 86400
    # No database id and no national ID travel in a token.
    assert patient.national_id not in str(access)
    assert jwt.get_unverified_header(body["access"])["alg"] == "HS256"


def test_access_token_works_for_an_hour_then_refresh_gives_a_new_one(
    client: Client, patient: User, frozen: time_machine.Coordinates
) -> None:
    tokens = sign_in(client, patient.national_id).json()
    assert me(client, tokens["access"]).json()["id"] == str(patient.public_id)

    frozen.shift(dt.timedelta(minutes=59, seconds=59))
    assert me(client, tokens["access"]).status_code == 200

    frozen.shift(dt.timedelta(seconds=2))
    expired = me(client, tokens["access"])
    assert expired.status_code == 401
    assert expired.json()["code"] == "token_expired"

    refreshed = client.post(
        f"{API}/auth/refresh", {"refresh": tokens["refresh"]}, content_type="application/json"
    )
    assert refreshed.status_code == 200
    assert set(refreshed.json()) == {"access", "token_type", "expires_in"}
    assert me(client, refreshed.json()["access"]).status_code == 200


def test_refresh_token_expires_after_a_day(
    client: Client, patient: User, frozen: time_machine.Coordinates
) -> None:
    tokens = sign_in(client, patient.national_id).json()
    frozen.shift(dt.timedelta(hours=23, minutes=59))
    ok = client.post(
        f"{API}/auth/refresh", {"refresh": tokens["refresh"]}, content_type="application/json"
    )
    assert ok.status_code == 200

    frozen.shift(dt.timedelta(minutes=2))
    late = client.post(
        f"{API}/auth/refresh", {"refresh": tokens["refresh"]}, content_type="application/json"
    )
    assert late.status_code == 401
    assert late.json()["code"] == "token_expired"


def test_one_kind_of_token_cannot_stand_for_the_other(client: Client, patient: User) -> None:
    tokens = sign_in(client, patient.national_id).json()

    as_access = me(client, tokens["refresh"])
    as_refresh = client.post(
        f"{API}/auth/refresh", {"refresh": tokens["access"]}, content_type="application/json"
    )

    assert as_access.status_code == 401
    assert as_access.json()["code"] == "invalid_token"
    assert as_refresh.status_code == 401
    assert as_refresh.json()["code"] == "invalid_token"


def test_a_forged_or_tampered_token_is_refused(client: Client, patient: User) -> None:
    tokens = sign_in(client, patient.national_id).json()
    claims = jwt.decode(tokens["access"], options={"verify_signature": False})
    forged = jwt.encode(
        claims | {"role": "admin"},
        "a-guessed-secret-of-a-proper-length-0123456789",
        algorithm="HS256",
    )
    unsigned = jwt.encode(claims, None, algorithm="none")

    for token in (forged, unsigned, tokens["access"][:-3] + "abc", "garbage"):
        response = me(client, token)
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_token"


def test_wrong_password_and_unknown_user_get_the_same_answer(client: Client, patient: User) -> None:
    wrong = sign_in(client, patient.national_id, "not-the-password")
    unknown = sign_in(client, "999999999")

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["code"] == "invalid_credentials"


def test_an_inactive_user_gets_no_token(client: Client, inactive_user: User) -> None:
    response = sign_in(client, inactive_user.national_id)

    assert response.status_code == 403
    assert response.json()["code"] == "inactive"
    assert "access" not in response.json()


def test_deactivation_ends_the_tokens_already_given(
    client: Client, patient: User, admin_user: User
) -> None:
    tokens = sign_in(client, patient.national_id).json()
    services.deactivate(user=patient)

    response = me(client, tokens["access"])
    refresh = client.post(
        f"{API}/auth/refresh", {"refresh": tokens["refresh"]}, content_type="application/json"
    )

    assert response.status_code == 401
    assert response.json()["code"] == "inactive"
    assert refresh.status_code == 401


def test_a_new_password_ends_the_tokens_already_given(client: Client, patient: User) -> None:
    tokens = sign_in(client, patient.national_id).json()
    patient.set_password("a-brand-new-passphrase")
    patient.save()

    response = me(client, tokens["access"])

    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"
    assert sign_in(client, patient.national_id, "a-brand-new-passphrase").status_code == 200


def test_tokens_survive_a_secret_key_rotation_with_the_old_key_as_fallback(
    client: Client, patient: User, settings: object
) -> None:
    tokens = sign_in(client, patient.national_id).json()
    old = settings.SECRET_KEY  # type: ignore[attr-defined]

    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40  # type: ignore[attr-defined]
    settings.SECRET_KEY_FALLBACKS = [old]  # type: ignore[attr-defined]
    assert me(client, tokens["access"]).status_code == 200

    settings.SECRET_KEY_FALLBACKS = []  # type: ignore[attr-defined]
    assert me(client, tokens["access"]).json()["code"] == "invalid_token"
