"""The pages' protections reach the API: the write rate limit (common.ratelimit) and the
login lockout (django-axes), answered as JSON."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import resolve
from pytest_django.fixtures import Settings

from accounts.models import User
from accounts.tests.factories import PASSWORD
from api.tests.conftest import API, ApiClient
from audit.models import AuditEntry


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/auth/token",
        "/api/v1/appointments",
        "/api/v1/appointments/5b1c3a8e-8f0e-4d7b-a7e4-0b7c9d1e2f30/cancel",
        "/api/v1/doctor/accepting-bookings",
        "/api/v1/admin/users/5b1c3a8e-8f0e-4d7b-a7e4-0b7c9d1e2f30/activate",
    ],
)
def test_every_api_operation_is_under_the_write_limit(path: str) -> None:
    assert getattr(resolve(path).func, "ratelimit_scope", None) == "write"


def test_past_the_write_limit_the_api_answers_429_json(
    as_alice: ApiClient, settings: Settings, patient: User
) -> None:
    settings.RATELIMITS = {"write": (3, 15 * 60)}
    url = "/appointments/5b1c3a8e-8f0e-4d7b-a7e4-0b7c9d1e2f30/cancel"
    for _ in range(3):
        assert as_alice.post(url).status_code == 404

    refused = as_alice.post(url)
    reading = as_alice.get("/appointments")

    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert int(refused["Retry-After"]) > 0
    assert reading.status_code == 200  # reading is never limited


def test_failed_token_requests_lock_the_national_id_out_like_the_login_page(
    client: Client, patient: User
) -> None:
    def sign_in(password: str):  # type: ignore[no-untyped-def]
        return client.post(
            f"{API}/auth/token",
            {"national_id": patient.national_id, "password": password},
            content_type="application/json",
        )

    for _ in range(4):
        assert sign_in("wrong-password").status_code == 401
    # The fifth failure locks the pair, as on the login page; then even the right password
    # gets no token.
    assert sign_in("wrong-password").status_code == 429
    locked = sign_in(PASSWORD)

    assert locked.status_code == 429
    assert locked.json()["code"] == "rate_limited"
    assert "access" not in locked.json()
    # Every try is in the audit trail (the one during the lockout too), and the lockout.
    failed = AuditEntry.objects.filter(action="login.failed", object_key=patient.national_id)
    assert failed.count() == 6
    assert AuditEntry.objects.filter(action="login.locked_out").exists()


def test_a_token_is_a_recorded_sign_in(client: Client, patient: User) -> None:
    response = client.post(
        f"{API}/auth/token",
        {"national_id": patient.national_id, "password": PASSWORD},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert AuditEntry.objects.filter(action="login.succeeded", actor=patient).exists()


def test_a_change_made_with_a_token_is_recorded_as_its_users(
    as_alice: ApiClient, patient: User, alices_appointment: object
) -> None:
    response = as_alice.post(f"/appointments/{alices_appointment.public_id}/cancel")  # type: ignore[attr-defined]

    assert response.status_code == 200
    entry = AuditEntry.objects.filter(object_type="scheduling.appointment").latest("pk")
    assert entry.actor == patient
    assert entry.before["status"] != entry.after["status"]
