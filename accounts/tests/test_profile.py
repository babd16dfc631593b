"""A signed-in user edits their own details; identifiers stay unique."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User

PROFILE = reverse("accounts:profile")
TOMORROW = str(timezone.localdate() + dt.timedelta(days=1))


def profile_data(user: User, **overrides: str) -> dict[str, Any]:
    data = {
        "account-full_name": user.full_name,
        "account-email": user.email,
        "account-phone": user.phone,
        "patient-date_of_birth": "1980-05-17",
        "patient-medical_history": "",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(client: Client) -> None:
    response = client.get(PROFILE)

    assert response.status_code == 302
    assert response.url == f"{reverse('accounts:login')}?next={PROFILE}"


def test_patient_sees_their_profile(client: Client, patient: User) -> None:
    client.force_login(patient)

    response = client.get(PROFILE)

    assert response.status_code == 200
    assert patient.national_id in response.content.decode()
    assert response.context["form"].instance == patient


def test_patient_edits_their_details(client: Client, patient: User) -> None:
    client.force_login(patient)

    response = client.post(
        PROFILE,
        profile_data(
            patient,
            **{
                "account-full_name": "Alice Renamed",
                "account-email": "Alice.New@Example.com",
                "account-phone": "030 4000999",
                "patient-date_of_birth": "1979-12-31",
                "patient-medical_history": "Hay fever.",
            },
        ),
    )

    assert response.status_code == 302
    assert response.url == PROFILE
    patient.refresh_from_db()
    assert patient.full_name == "Alice Renamed"
    assert patient.email == "alice.new@example.com"
    assert patient.phone == "+49304000999"
    assert patient.patient_profile.date_of_birth == dt.date(1979, 12, 31)
    assert patient.patient_profile.medical_history == "Hay fever."


def test_patient_keeps_their_own_email_in_another_case(client: Client, patient: User) -> None:
    client.force_login(patient)

    response = client.post(
        PROFILE, profile_data(patient, **{"account-email": patient.email.upper()})
    )

    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.email == patient.email.lower()


@pytest.mark.parametrize("transform", [str, str.upper, str.title])
def test_someone_elses_email_in_any_case_is_a_form_error(
    client: Client, patient: User, other_patient: User, transform: Any
) -> None:
    client.force_login(patient)
    email_before = patient.email

    response = client.post(
        PROFILE, profile_data(patient, **{"account-email": transform(other_patient.email)})
    )

    assert response.status_code == 400
    assert "already exists" in response.context["form"].errors["email"][0]
    patient.refresh_from_db()
    assert patient.email == email_before


def test_someone_elses_phone_in_another_format_is_a_form_error(
    client: Client, patient: User, other_patient: User
) -> None:
    client.force_login(patient)
    local = "0" + other_patient.phone.removeprefix("+49")

    response = client.post(PROFILE, profile_data(patient, **{"account-phone": local}))

    assert response.status_code == 400
    assert "phone" in response.context["form"].errors
    patient.refresh_from_db()
    assert patient.phone != other_patient.phone


@pytest.mark.parametrize(
    ("overrides", "form", "field"),
    [
        ({"account-full_name": ""}, "form", "full_name"),
        ({"account-email": "not-an-email"}, "form", "email"),
        ({"account-phone": "12"}, "form", "phone"),
        ({"patient-date_of_birth": TOMORROW}, "role_form", "date_of_birth"),
        ({"patient-date_of_birth": "1899-12-31"}, "role_form", "date_of_birth"),
    ],
)
def test_bad_details_are_form_errors_and_change_nothing(
    client: Client, patient: User, overrides: dict[str, str], form: str, field: str
) -> None:
    client.force_login(patient)

    response = client.post(PROFILE, profile_data(patient, **overrides))

    assert response.status_code == 400
    assert field in response.context[form].errors
    saved = User.objects.get(pk=patient.pk)
    assert (saved.full_name, saved.email, saved.phone) == (
        patient.full_name,
        patient.email,
        patient.phone,
    )
    assert saved.patient_profile.date_of_birth == dt.date(1980, 5, 17)


def test_doctor_edits_their_practice_details(client: Client, doctor: User) -> None:
    client.force_login(doctor)

    response = client.post(
        PROFILE,
        {
            "account-full_name": doctor.full_name,
            "account-email": doctor.email,
            "account-phone": doctor.phone,
            "doctor-bio": "Twenty years in cardiology.",
            "doctor-consultation_fee": "95.00",
            "doctor-emergency_contact": "Front desk",
        },
    )

    assert response.status_code == 302
    doctor.doctor_profile.refresh_from_db()
    assert doctor.doctor_profile.bio == "Twenty years in cardiology."
    assert str(doctor.doctor_profile.consultation_fee) == "95.00"
