"""Phone numbers read as people write them: the clinic's own in their national format, others
in the international one (common.phones, the `phone` template filter); `tel:` links keep the
stored E.164. On the desk's pages, the doctor's day, week, print and patients, the shared
appointment page and Django admin.

Clock: Monday 1 June 2026, 10:00 Berlin (scheduling's conftest)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from accounts.models import DoctorProfile, User
from accounts.tests.factories import front_desk
from common import phones
from scheduling.tests.conftest import TODAY
from scheduling.tests.view_helpers import booked, slot_at

pytestmark = pytest.mark.django_db

BERLIN_E164, BERLIN_SHOWN = "+49307000123", "030 7000123"
PARIS_E164, PARIS_SHOWN = "+33123456789", "+33 1 23 45 67 89"


@pytest.mark.parametrize(
    ("region", "stored", "shown"),
    [
        ("DE", BERLIN_E164, BERLIN_SHOWN),
        ("DE", PARIS_E164, PARIS_SHOWN),
        ("DE", "+4915112345678", "01511 2345678"),
        ("FR", PARIS_E164, "01 23 45 67 89"),
        ("FR", BERLIN_E164, "+49 30 7000123"),
        ("DE", "", ""),
        ("DE", "not a number", "not a number"),
    ],
)
def test_a_number_of_the_clinics_region_is_national_the_others_international(
    settings: Settings, region: str, stored: str, shown: str
) -> None:
    settings.CLINIC_PHONE_REGION = region

    assert phones.for_humans(stored) == shown


def _phone(user: User, e164: str) -> User:
    User._base_manager.filter(pk=user.pk).update(phone=e164)
    user.refresh_from_db()
    return user


def _shows_it(html: str, e164: str, shown: str) -> None:
    assert shown in html
    assert f'href="tel:{e164}"' in html
    assert f">{e164}<" not in html  # nowhere as raw text


def test_every_page_that_shows_a_patients_phone_formats_it(
    client: Client,
    admin_user: User,
    doctor: User,
    dora: DoctorProfile,
    patient: User,
    other_patient: User,
) -> None:
    alice = _phone(patient, BERLIN_E164)
    bob = _phone(other_patient, PARIS_E164)
    today = booked(slot_at(dora, 0, dt.time(15)), TODAY, patient=alice)
    booked(slot_at(dora, 0, dt.time(16)), TODAY, patient=bob)

    client.force_login(doctor)
    for url in ("/dashboard/week/", "/dashboard/print/", "/dashboard/patients/"):
        html = client.get(url).text
        _shows_it(html, BERLIN_E164, BERLIN_SHOWN)
        _shows_it(html, PARIS_E164, PARIS_SHOWN)
    _shows_it(client.get(f"/appointments/{today.public_id}/").text, BERLIN_E164, BERLIN_SHOWN)

    client.force_login(front_desk(dora.branch))
    _shows_it(
        client.get(f"/front-desk/patients/{alice.public_id}/").text, BERLIN_E164, BERLIN_SHOWN
    )
    results = client.get(client.post("/front-desk/patients/", {"q": "Patient"})["Location"]).text
    _shows_it(results, BERLIN_E164, BERLIN_SHOWN)
    _shows_it(results, PARIS_E164, PARIS_SHOWN)

    client.force_login(admin_user)
    for url in ("/admin/scheduling/appointment/", "/admin/accounts/user/"):
        html = client.get(url).text
        _shows_it(html, BERLIN_E164, BERLIN_SHOWN)
        _shows_it(html, PARIS_E164, PARIS_SHOWN)
