"""Logins (successful, failed, locked out), logouts and refused requests are in the trail."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client, RequestFactory
from pytest_django.fixtures import Settings

from accounts.models import User
from audit.models import AuditEntry
from audit.tests.conftest import entries, only
from scheduling.models import Appointment, Slot
from scheduling.tests.conftest import NEXT_MONDAY
from scheduling.tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db

FROM = {"REMOTE_ADDR": "198.51.100.20", "HTTP_USER_AGENT": "Safari/18 (audit test)"}


def test_successful_login_and_logout(client: Client, patient: User, password: str) -> None:
    client.post("/accounts/login/", {"username": "300 000-001", "password": password}, **FROM)
    client.post("/accounts/logout/", **FROM)

    login = only(action="login.succeeded")
    assert (login.actor, login.object_key, login.ip) == (patient, "300000001", "198.51.100.20")
    assert login.user_agent == FROM["HTTP_USER_AGENT"]
    assert only(action="logout").actor == patient


def test_failed_login_keeps_the_typed_national_id_and_never_the_password(
    client: Client, patient: User
) -> None:
    client.post("/accounts/login/", {"username": "300-000-001", "password": "guess-123"}, **FROM)

    entry = only(action="login.failed")
    assert (entry.actor, entry.actor_label) == (None, "anonymous")
    assert (entry.object_type, entry.object_key) == ("accounts.user", "300000001")
    assert entry.ip == "198.51.100.20"
    assert "guess-123" not in str(AuditEntry.objects.values())


def test_lockout_is_recorded(client: Client, patient: User) -> None:
    for _ in range(5):
        client.post("/accounts/login/", {"username": "300000001", "password": "nope"}, **FROM)

    assert len(entries(action="login.failed")) == 5
    locked = only(action="login.locked_out")
    assert (locked.object_key, locked.ip) == ("300000001", "198.51.100.20")


def test_forbidden_page_is_recorded_with_its_reason(client: Client, patient: User) -> None:
    client.force_login(patient)

    assert client.get("/dashboard/", **FROM).status_code == 403

    entry = only(action="access.denied")
    assert entry.actor == patient
    assert entry.detail == "The dashboard is for doctors."
    assert entry.request == "GET /dashboard/"


def test_someone_elses_appointment_is_a_404_and_recorded(
    client: Client, monday_9: Slot, patient: User, other_patient: User
) -> None:
    alices = AppointmentFactory(patient=patient, slot=monday_9, date=NEXT_MONDAY)
    client.force_login(other_patient)

    assert client.get(f"/appointments/{alices.public_id}/").status_code == 404
    assert client.post(f"/appointments/{alices.public_id}/cancel/").status_code == 404

    denied = entries(action="access.denied")
    assert len(denied) == 2
    assert {(e.actor, e.object_type, e.object_key) for e in denied} == {
        (other_patient, "scheduling.appointment", str(alices.public_id))
    }
    assert Appointment.objects.get().status == Appointment.Status.SCHEDULED


def test_a_404_on_an_id_that_does_not_exist_is_not_recorded(client: Client, patient: User) -> None:
    client.force_login(patient)

    assert client.get(f"/appointments/{uuid.uuid4()}/").status_code == 404

    assert not entries(action="access.denied")


def test_csrf_failure_is_recorded(patient: User, password: str) -> None:
    browser = Client(enforce_csrf_checks=True)

    response = browser.post(
        "/accounts/login/", {"username": "300000001", "password": password}, **FROM
    )

    assert response.status_code == 403
    entry = only(action="access.denied")
    assert entry.detail.startswith("CSRF check failed")
    assert not entries(action="login.succeeded")


def test_rate_limit_refusal_is_recorded_once_per_window(client: Client, settings: Settings) -> None:
    settings.RATELIMITS = {"write": (2, 900)}

    statuses = [client.post("/accounts/password_reset/", **FROM).status_code for _ in range(5)]

    assert statuses.count(429) == 3
    entry = only(action="ratelimit.refused")
    assert (entry.ip, entry.request) == ("198.51.100.20", "POST /accounts/password_reset/")


def test_a_change_made_with_an_api_token_is_the_token_users(
    rf: RequestFactory, patient: User, monday_9: Slot
) -> None:
    """A bearer token authenticates into `request.auth`; `request.user` stays anonymous."""
    from django.contrib.auth.models import AnonymousUser

    from audit import context
    from scheduling import services

    request = rf.post("/api/v1/appointments", REMOTE_ADDR="192.0.2.33")
    request.user = AnonymousUser()
    request.auth = patient

    with context.acting(context.Context(request=request, source="web")):
        services.book(patient=patient, doctor=monday_9.doctor, slot=monday_9, date=NEXT_MONDAY)

    entry = only(action="appointment.created")
    assert (entry.actor, entry.ip, entry.request) == (
        patient,
        "192.0.2.33",
        "POST /api/v1/appointments",
    )
