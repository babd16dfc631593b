"""Patients register and doctors apply; every account starts inactive, every rejection is a 400
(except a taken identifier, which is not told apart from a new account)."""

from __future__ import annotations

import datetime as dt
import re
import threading
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import DoctorProfile, PatientProfile, User
from accounts.tests.factories import BranchFactory, PatientFactory, SpecialtyFactory

REGISTER = reverse("accounts:register")


def without_tokens(page: bytes) -> bytes:
    """A page without its per-answer CSRF tokens."""
    page = re.sub(rb'("X-CSRFToken": ")[^"]*', rb"\1", page)
    return re.sub(rb'(name="csrf[-\w]*" (?:value|content)=")[^"]*', rb"\1", page)


APPLY = REGISTER + "?as=doctor"


def patient_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "national_id": "300-000 777",
        "full_name": "Nora New",
        "email": "Nora.New@Example.com",
        "phone": "030 4000777",
        "password1": "quiet-harbour-2291",
        "password2": "quiet-harbour-2291",
        "date_of_birth": "1990-02-03",
        "medical_history": "Asthma.",
    }
    data.update(overrides)
    return data


@pytest.fixture
def doctor_data(db: None) -> dict[str, Any]:
    return {
        "national_id": "200 000 777",
        "full_name": "Dev Doctor",
        "email": "dev@example.com",
        "phone": "+49 30 3000777",
        "password1": "quiet-harbour-2291",
        "password2": "quiet-harbour-2291",
        "specialty": SpecialtyFactory(name="Cardiologist", slug="cardiologist").pk,
        "branch": BranchFactory(name="Riverside", slug="riverside").pk,
        "consultation_fee": "75.50",
        "bio": "Hearts.",
        "emergency_contact": "Reception, +49 30 1000001",
    }


def assert_nothing_created(users_before: int) -> None:
    assert User.objects.count() == users_before
    assert (
        PatientProfile.objects.count() == 0
        or PatientProfile.objects.filter(user__national_id__in=["300000777", "200000777"]).count()
        == 0
    )
    assert DoctorProfile.objects.filter(user__national_id="200000777").count() == 0


@pytest.mark.django_db
def test_patient_registration_creates_an_inactive_patient_with_profile(client: Client) -> None:
    response = client.post(REGISTER, patient_data())

    assert response.status_code == 302
    assert response.url == reverse("accounts:register-done")
    user = User.objects.get(national_id="300000777")
    assert user.role == User.Role.PATIENT
    assert not user.is_active
    assert user.is_pending
    assert user.email == "nora.new@example.com"
    assert user.phone == "+49304000777"
    assert user.check_password("quiet-harbour-2291")
    assert user.patient_profile.date_of_birth == dt.date(1990, 2, 3)
    assert user.patient_profile.medical_history == "Asthma."
    assert not hasattr(user, "doctor_profile")


def test_doctor_application_creates_an_inactive_doctor_with_profile(
    client: Client, doctor_data: dict[str, Any]
) -> None:
    response = client.post(APPLY, doctor_data)

    assert response.status_code == 302
    assert response.url == reverse("accounts:register-done")
    user = User.objects.get(national_id="200000777")
    assert user.role == User.Role.DOCTOR
    assert not user.is_active
    profile = user.doctor_profile
    assert profile.specialty.slug == "cardiologist"
    assert profile.branch.slug == "riverside"
    assert profile.consultation_fee == Decimal("75.50")
    assert profile.bio == "Hearts."
    assert profile.emergency_contact == "Reception, +49 30 1000001"
    assert profile.slug == "dev-doctor"
    assert not PatientProfile.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_registration_done_page_says_the_account_awaits_activation(client: Client) -> None:
    response = client.post(REGISTER, patient_data(), follow=True)

    assert response.redirect_chain == [(reverse("accounts:register-done"), 302)]
    assert b"awaits activation" in response.content


@pytest.mark.django_db
def test_a_posted_admin_role_still_registers_a_patient(client: Client) -> None:
    response = client.post(REGISTER, patient_data(role="admin", is_staff="on", admin_seat="1"))

    assert response.status_code == 302
    user = User.objects.get(national_id="300000777")
    assert user.role == User.Role.PATIENT
    assert not user.is_staff
    assert user.admin_seat is None
    assert User.objects.admins().count() == 0


@pytest.mark.django_db
def test_registration_page_has_no_role_field(client: Client) -> None:
    for url in (REGISTER, APPLY):
        response = client.get(url)
        assert response.status_code == 200
        assert "role" not in response.context["form"].fields
        assert b'name="role"' not in response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("existing", "overrides", "field"),
    [
        pytest.param({"national_id": "300000777"}, {}, "national_id", id="same-national-id"),
        pytest.param(
            {"national_id": "300000777"},
            {"national_id": "300 000-777"},
            "national_id",
            id="national-id-other-format",
        ),
        pytest.param(
            {"email": "nora.new@example.com"},
            {"email": "NORA.NEW@EXAMPLE.COM"},
            "email",
            id="email-other-case",
        ),
        pytest.param(
            {"phone": "+49 30 4000777"},
            {"phone": "030 4000777"},
            "phone",
            id="phone-other-format",
        ),
    ],
)
def test_patient_registration_with_a_taken_identifier_creates_nothing_and_tells_nothing(
    client: Client, existing: dict[str, str], overrides: dict[str, str], field: str
) -> None:
    """A taken national ID, e-mail or phone answers exactly as a new account does: the same
    redirect, the same page, the same e-mail to the address given. Nothing is created."""
    fresh = client.post(
        REGISTER, patient_data(national_id="300000888", email="x@example.com", phone="030 4000888")
    )
    fresh_page = without_tokens(client.get(fresh["Location"]).content)
    PatientFactory(**existing)
    users_before = User.objects.count()
    profiles_before = PatientProfile.objects.count()
    mail.outbox.clear()

    response = client.post(REGISTER, patient_data(**overrides))

    assert response.status_code == fresh.status_code == 302
    assert response["Location"] == fresh["Location"]
    assert without_tokens(client.get(response["Location"]).content) == fresh_page
    assert User.objects.count() == users_before
    assert PatientProfile.objects.count() == profiles_before
    assert [m.to for m in mail.outbox] == [[patient_data(**overrides)["email"].lower()]]
    assert "If you already have an account with us" in mail.outbox[0].body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"national_id": "12-3"}, "national_id", id="national-id-too-short"),
        pytest.param({"national_id": "300*000*777"}, "national_id", id="national-id-bad-chars"),
        pytest.param({"national_id": "1" * 21}, "national_id", id="national-id-too-long"),
        pytest.param({"phone": "12"}, "phone", id="phone-too-short"),
        pytest.param({"phone": "call me maybe"}, "phone", id="phone-not-a-number"),
        pytest.param({"email": "nora-at-example.com"}, "email", id="email-invalid"),
        pytest.param(
            {"email": "n" * 250 + "@example.com"}, "email", id="email-longer-than-the-column"
        ),
        pytest.param({"password2": "quiet-harbour-2292"}, "password2", id="password-mismatch"),
        pytest.param(
            {"password1": "Xy7-short", "password2": "Xy7-short"}, "password1", id="too-short"
        ),
        pytest.param(
            {"password1": "password123", "password2": "password123"}, "password1", id="common"
        ),
        pytest.param(
            {"password1": "4815162342108", "password2": "4815162342108"},
            "password1",
            id="all-numeric",
        ),
        pytest.param(
            {"password1": "nora.new@example", "password2": "nora.new@example"},
            "password1",
            id="like-the-email",
        ),
        pytest.param(
            {"date_of_birth": str(timezone.localdate() + dt.timedelta(days=1))},
            "date_of_birth",
            id="born-tomorrow",
        ),
        pytest.param({"date_of_birth": "1850-01-01"}, "date_of_birth", id="born-before-1900"),
        pytest.param({"date_of_birth": "31/31/1990"}, "date_of_birth", id="date-not-a-date"),
        pytest.param({"national_id": ""}, "national_id", id="missing-national-id"),
        pytest.param({"full_name": ""}, "full_name", id="missing-full-name"),
        pytest.param({"email": ""}, "email", id="missing-email"),
        pytest.param({"phone": ""}, "phone", id="missing-phone"),
        pytest.param({"password1": ""}, "password1", id="missing-password"),
        pytest.param({"password2": ""}, "password2", id="missing-password-again"),
        pytest.param({"date_of_birth": ""}, "date_of_birth", id="missing-date-of-birth"),
    ],
)
def test_patient_registration_rejects_bad_input(
    client: Client, overrides: dict[str, str], field: str
) -> None:
    response = client.post(REGISTER, patient_data(**overrides))

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert User.objects.count() == 0
    assert PatientProfile.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"specialty": ""}, "specialty", id="missing-specialty"),
        pytest.param({"specialty": "999999"}, "specialty", id="unknown-specialty"),
        pytest.param({"branch": ""}, "branch", id="missing-branch"),
        pytest.param({"consultation_fee": ""}, "consultation_fee", id="missing-fee"),
        pytest.param({"consultation_fee": "-5"}, "consultation_fee", id="negative-fee"),
        pytest.param({"consultation_fee": "1234567.00"}, "consultation_fee", id="fee-too-big"),
        pytest.param({"national_id": "x"}, "national_id", id="bad-national-id"),
        pytest.param({"phone": "0"}, "phone", id="bad-phone"),
        pytest.param({"password2": "something-else-77"}, "password2", id="password-mismatch"),
        pytest.param({"password1": "abc", "password2": "abc"}, "password1", id="weak-password"),
    ],
)
def test_doctor_application_rejects_bad_input(
    client: Client, doctor_data: dict[str, Any], overrides: dict[str, str], field: str
) -> None:
    response = client.post(APPLY, {**doctor_data, **overrides})

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert User.objects.count() == 0
    assert DoctorProfile.objects.count() == 0


@pytest.mark.parametrize(
    ("existing", "overrides", "field"),
    [
        pytest.param(
            {"national_id": "200000777"},
            {"national_id": "2000-00777"},
            "national_id",
            id="national-id",
        ),
        pytest.param({"email": "DEV@example.com"}, {}, "email", id="email"),
        pytest.param({"phone": "030 3000777"}, {}, "phone", id="phone"),
    ],
)
def test_doctor_application_with_a_taken_identifier_creates_nothing(
    client: Client,
    doctor_data: dict[str, Any],
    existing: dict[str, str],
    overrides: dict[str, str],
    field: str,
) -> None:
    PatientFactory(**existing)

    response = client.post(APPLY, {**doctor_data, **overrides})

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:register-done")
    assert User.objects.count() == 1
    assert DoctorProfile.objects.count() == 0


def test_signed_in_user_is_sent_from_registration_to_profile(client: Client, patient: User) -> None:
    client.force_login(patient)

    response = client.get(REGISTER)

    assert response.status_code == 302
    assert response.url == reverse("accounts:profile")


@pytest.mark.django_db(transaction=True)
def test_simultaneous_registrations_of_one_national_id_create_one_account() -> None:
    threads_count = 6
    barrier = threading.Barrier(threads_count)
    created: list[User] = []
    refused: list[ValidationError] = []
    unexpected: list[BaseException] = []

    def register(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            created.append(
                services.register_patient(
                    national_id="300 000 777",
                    password="quiet-harbour-2291",
                    email=f"twin{n}@example.com",
                    full_name=f"Twin {n}",
                    phone=f"+49 30 40010{n:02d}",
                    date_of_birth=dt.date(1990, 1, 1),
                )
            )
        except ValidationError as exc:
            refused.append(exc)
        except BaseException as exc:
            unexpected.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=register, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert unexpected == []
    assert len(created) == 1
    assert len(refused) == threads_count - 1
    assert all("national_id" in exc.message_dict for exc in refused)
    assert User.objects.count() == 1
    assert PatientProfile.objects.count() == 1
