"""Pages and API answers with medical or personal data are never kept by a browser or proxy
cache: `Cache-Control: private, no-store`."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import DoctorProfile, User
from api import tokens
from scheduling import services
from scheduling.models import Slot
from scheduling.tests.conftest import NEXT_MONDAY

pytestmark = pytest.mark.django_db


def no_store(response: object) -> bool:
    value = response["Cache-Control"]  # type: ignore[index]
    return "no-store" in value and "public" not in value


def test_signed_in_pages_with_personal_data_are_not_stored(
    client: Client, patient: User, dora: DoctorProfile, monday_9: Slot
) -> None:
    appointment = services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)
    client.force_login(patient)
    for path in ("/accounts/profile/", "/appointments/", f"/appointments/{appointment.public_id}/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert no_store(response), path

    client.force_login(dora.user)
    response = client.get("/dashboard/patients/")
    assert response.status_code == 200
    assert no_store(response)


def test_the_apis_personal_answers_are_not_stored(
    client: Client, patient: User, dora: DoctorProfile, monday_9: Slot
) -> None:
    appointment = services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)
    access, _ = tokens.issue(patient, tokens.ACCESS)
    auth = {"Authorization": f"Bearer {access}"}
    for path in (
        "/api/v1/me",
        "/api/v1/appointments",
        f"/api/v1/appointments/{appointment.public_id}",
    ):
        response = client.get(path, headers=auth)
        assert response.status_code == 200, path
        assert no_store(response), path


def test_public_pages_for_visitors_stay_cacheable(client: Client, dora: DoctorProfile) -> None:
    assert "no-store" not in client.get(f"/doctors/{dora.slug}/").get("Cache-Control", "")
