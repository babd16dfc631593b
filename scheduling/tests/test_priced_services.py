"""Services with prices: the patient picks one the doctor offers (else a consultation at the
doctor's fee); the appointment keeps the service and the price of the moment it was booked,
whatever changes after; the pages, the payload, the e-mails and the API show them.

Clock: Monday 1 June 2026, 10:00 Berlin (scheduling's conftest)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from pytest_django.fixtures import Settings

from accounts.models import DoctorProfile, User
from accounts.tests.factories import DoctorFactory
from api.tests.conftest import ApiClient
from directory.models import Service
from notifications.models import Event
from notifications.tests.conftest import run_worker
from scheduling import services
from scheduling.errors import SchedulingError
from scheduling.models import Appointment, Slot
from scheduling.tests.conftest import NEXT_MONDAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def checkup(dora: DoctorProfile) -> Service:
    """A check-up at Dora's branch, 40.00, offered by Dora."""
    service = Service.objects.create(branch=dora.branch, name="Check-up", price=Decimal("40.00"))
    service.doctors.add(dora)
    return service


def test_the_appointment_keeps_the_service_and_its_price_after_a_price_change(
    dora: DoctorProfile, monday_9: Slot, patient: User, checkup: Service
) -> None:
    appointment = services.book(
        patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY, service=checkup
    )
    checkup.price = Decimal("55.00")
    checkup.save()

    appointment.refresh_from_db()
    assert appointment.service == checkup
    assert appointment.price == Decimal("40.00")


def test_without_a_service_the_appointment_keeps_the_doctors_fee_of_that_moment(
    dora: DoctorProfile, monday_9: Slot, patient: User, checkup: Service
) -> None:
    dora.consultation_fee = Decimal("80.00")
    dora.save()
    appointment = services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)
    dora.consultation_fee = Decimal("95.00")
    dora.save()

    appointment.refresh_from_db()
    assert appointment.service is None
    assert appointment.price == Decimal("80.00")


def test_a_service_the_doctor_does_not_offer_is_refused_and_nothing_is_booked(
    dora: DoctorProfile, monday_9: Slot, patient: User, checkup: Service
) -> None:
    otto = DoctorFactory(full_name="Otto Other", national_id="200000002").doctor_profile
    theirs = Service.objects.create(branch=otto.branch, name="X-ray", price=Decimal("120.00"))
    theirs.doctors.add(otto)

    with pytest.raises(SchedulingError) as refused:
        services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY, service=theirs)

    assert refused.value.code == "service_not_offered"
    assert refused.value.status == 422
    assert not Appointment.objects.exists()


def test_a_retired_service_is_no_longer_booked(
    dora: DoctorProfile, monday_9: Slot, patient: User, checkup: Service
) -> None:
    checkup.is_active = False
    checkup.save()

    with pytest.raises(SchedulingError, match="does not offer"):
        services.book(
            patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY, service=checkup
        )
    assert not Appointment.objects.exists()


def test_the_webhook_payload_and_the_mail_name_the_service_and_price(
    dora: DoctorProfile, monday_9: Slot, patient: User, checkup: Service, settings: Settings
) -> None:
    settings.CLINIC_CURRENCY = "CHF"
    settings.NOTIFICATIONS_SEND_ON_COMMIT = False
    appointment = services.book(
        patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY, service=checkup
    )

    data = Event.objects.get(type="appointment.booked").payload["data"]
    assert data["service"] == {
        "id": str(checkup.public_id),
        "name": "Check-up",
        "price": "40.00",
        "currency": "CHF",
    }
    assert data["appointment"]["price"] == "40.00"
    assert data["appointment"]["id"] == str(appointment.public_id)

    run_worker()
    [message] = [m for m in mail.outbox if m.to == [patient.email]]
    assert "Check-up, 40.00 CHF" in message.body
    [(html, _)] = message.alternatives
    assert "Check-up · 40.00 CHF" in html


def test_a_consultation_has_no_service_in_the_payload_but_its_price(
    dora: DoctorProfile, monday_9: Slot, patient: User
) -> None:
    dora.consultation_fee = Decimal("80.00")
    dora.save()
    services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)

    data = Event.objects.get(type="appointment.booked").payload["data"]
    assert data["service"] is None
    assert data["appointment"]["price"] == "80.00"
    assert data["appointment"]["currency"] == "EUR"


def test_the_patient_picks_a_service_on_the_confirm_page(
    client: Client, dora: DoctorProfile, monday_9: Slot, patient: User, checkup: Service
) -> None:
    client.force_login(patient)
    url = f"/doctors/{dora.slug}/book/"
    query = {"date": NEXT_MONDAY.isoformat(), "slot": str(monday_9.public_id)}

    page = client.get(url, query).content.decode()
    assert "Check-up · 40.00 EUR" in page

    response = client.post(url, {**query, "service": str(checkup.public_id)})
    appointment = Appointment.objects.get()
    assert response.status_code == 302
    assert (appointment.service, appointment.price) == (checkup, Decimal("40.00"))

    detail = client.get(f"/appointments/{appointment.public_id}/").content.decode()
    assert "Check-up" in detail
    assert "40.00 EUR" in detail


def test_a_doctor_without_services_offers_no_choice(
    client: Client, dora: DoctorProfile, monday_9: Slot, patient: User
) -> None:
    client.force_login(patient)
    page = client.get(
        f"/doctors/{dora.slug}/book/",
        {"date": NEXT_MONDAY.isoformat(), "slot": str(monday_9.public_id)},
    ).content.decode()

    assert 'name="service"' not in page


def test_a_posted_service_of_another_doctor_is_a_form_error(
    client: Client, dora: DoctorProfile, monday_9: Slot, patient: User, checkup: Service
) -> None:
    elsewhere = Service.objects.create(branch=dora.branch, name="Vaccination", price=10)
    client.force_login(patient)

    response = client.post(
        f"/doctors/{dora.slug}/book/",
        {
            "date": NEXT_MONDAY.isoformat(),
            "slot": str(monday_9.public_id),
            "service": str(elsewhere.public_id),
        },
    )

    assert response.status_code == 400
    assert not Appointment.objects.exists()


def test_the_doctors_queue_shows_the_service(
    client: Client, dora: DoctorProfile, doctor: User, patient: User, checkup: Service
) -> None:
    today_slot = services.add_slot(
        doctor=dora, weekday=0, start_time=dt.time(15), end_time=dt.time(15, 30)
    )
    services.book(
        patient=patient,
        doctor=dora,
        slot=today_slot,
        date=dt.date(2026, 6, 1),
        service=checkup,
    )
    client.force_login(doctor)

    page = client.get("/dashboard/").content.decode()

    assert "Alice Patient" in page
    assert '<small class="queue-service">Check-up</small>' in page


def test_the_api_lists_services_by_branch_and_specialty(
    dora: DoctorProfile, checkup: Service
) -> None:
    otto = DoctorFactory(full_name="Otto Other", national_id="200000002").doctor_profile
    Service.objects.create(branch=otto.branch, name="X-ray", price=Decimal("120.00"))
    Service.objects.create(branch=dora.branch, name="Old", price=1, is_active=False)
    api = ApiClient()

    everything = api.get("/services").json()
    at_doras = api.get(f"/services?branch={dora.branch.slug}").json()
    by_specialty = api.get(f"/services?specialty={dora.specialty.slug}").json()

    assert {s["name"] for s in everything} == {"Check-up", "X-ray"}
    assert at_doras == [
        {
            "id": str(checkup.public_id),
            "name": "Check-up",
            "description": "",
            "price": "40.00",
            "currency": "EUR",
            "branch": dora.branch.slug,
            "specialty": None,
            "doctors": [dora.slug],
        }
    ]
    assert by_specialty == []


def test_the_api_books_a_service_and_shows_the_kept_price(
    dora: DoctorProfile, monday_9: Slot, patient: User, checkup: Service
) -> None:
    api = ApiClient(patient)

    made = api.post(
        "/appointments",
        {
            "doctor": dora.slug,
            "slot": str(monday_9.public_id),
            "date": NEXT_MONDAY.isoformat(),
            "service": str(checkup.public_id),
        },
    )
    checkup.price = Decimal("99.00")
    checkup.save()
    shown = api.get(f"/appointments/{made.json()['id']}").json()

    assert made.status_code == 201
    assert shown["service"] == {"id": str(checkup.public_id), "name": "Check-up"}
    assert (shown["price"], shown["currency"]) == ("40.00", "EUR")


def test_the_api_refuses_an_unknown_service(
    dora: DoctorProfile, monday_9: Slot, patient: User
) -> None:
    response = ApiClient(patient).post(
        "/appointments",
        {
            "doctor": dora.slug,
            "slot": str(monday_9.public_id),
            "date": NEXT_MONDAY.isoformat(),
            "service": "5b1c3a8e-8f0e-4d7b-a7e4-0b7c9d1e2f30",
        },
    )

    assert response.status_code == 422
    assert response.json()["code"] == "unknown_service"
    assert not Appointment.objects.exists()
