"""Every change is written to the outbox in its own transaction: all of it or none of it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from pytest_django.fixtures import Settings
from pytest_httpserver import HTTPServer
from time_machine import TimeMachineFixture

from accounts import services as accounts_services
from accounts.models import User
from accounts.tests.factories import PatientFactory, PendingPatientFactory
from notifications.models import Delivery, Event, EventType, WebhookEndpoint
from notifications.tests.conftest import events_of, webhook_deliveries
from scheduling import services
from scheduling.models import Appointment, Slot

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


def test_booking_writes_the_event_and_its_deliveries(
    book: Callable[..., Appointment], receiver: HTTPServer
) -> None:
    appointment = book()

    event = Event.objects.get()
    assert event.type == EventType.APPOINTMENT_BOOKED
    assert event.appointment_public_id == appointment.public_id
    deliveries = Delivery.objects.filter(event=event)
    assert {(d.channel, d.status) for d in deliveries} == {
        ("webhook", "pending"),
        ("email", "pending"),
    }
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.from_environment
    assert endpoint.url == receiver.url_for("/hooks/clinic")


def test_rolled_back_booking_leaves_no_event(
    book: Callable[..., Appointment], receiver: HTTPServer
) -> None:
    def book_then_fail() -> None:
        with transaction.atomic():
            book()
            raise Boom

    with pytest.raises(Boom):
        book_then_fail()

    assert Appointment.objects.count() == 0
    assert Event.objects.count() == 0
    assert Delivery.objects.count() == 0


def test_the_endpoints_are_not_read_for_each_event(
    book: Callable[..., Appointment], receiver: HTTPServer, django_capture_on_commit_callbacks
) -> None:
    """The deliveries are inserted by one statement that selects the endpoints itself; the
    row that mirrors N8N_WEBHOOK_URL is read once per process (and setting), after which
    no event reads an endpoint."""
    with django_capture_on_commit_callbacks(execute=True):
        book(0)
    with CaptureQueriesContext(connection) as queries:
        book(1)
    reads = [
        q["sql"]
        for q in queries.captured_queries
        if "notifications_webhookendpoint" in q["sql"] and not q["sql"].startswith("INSERT")
    ]
    assert reads == []
    assert [d.event.type for d in webhook_deliveries()] == ["appointment.booked"] * 2


def test_a_rolled_back_first_event_leaves_the_environment_endpoint_to_the_next(
    book: Callable[..., Appointment], receiver: HTTPServer, django_capture_on_commit_callbacks
) -> None:
    """The mirror row made by a change that rolled back is gone: the next event makes it
    again rather than trusting the first."""

    def book_then_fail() -> None:
        with transaction.atomic():
            book(0)
            raise Boom

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Boom):
        book_then_fail()
    assert WebhookEndpoint.objects.count() == 0
    book(1)
    assert len(webhook_deliveries()) == 1
    assert WebhookEndpoint.objects.get().from_environment


def test_refused_booking_leaves_no_event(
    book: Callable[..., Appointment], patient: User, receiver: HTTPServer
) -> None:
    book(0)
    with pytest.raises(services.SlotTaken):
        book(0, who=PatientFactory())

    assert Event.objects.count() == 1


def test_each_change_of_an_appointment_is_an_event(
    book: Callable[..., Appointment],
    doctor: User,
    tuesday_slots: list[Slot],
    time_machine: TimeMachineFixture,
    receiver: HTTPServer,
) -> None:
    first = book(0)
    services.reschedule(appointment=first, by=first.patient, slot=tuesday_slots[1], date=first.date)
    services.cancel(appointment=first, by=first.patient)
    second = book(2)
    time_machine.move_to(second.starts_at + dt.timedelta(minutes=1))
    services.check_in(appointment=second, by=doctor)
    services.complete(appointment=second, by=doctor)
    third = book(4, date=second.date + dt.timedelta(days=7))
    time_machine.move_to(third.starts_at + dt.timedelta(minutes=5))
    services.mark_no_show(appointment=third, by=doctor)

    assert events_of(first) == [
        "appointment.booked",
        "appointment.rescheduled",
        "appointment.cancelled",
    ]
    assert events_of(second) == [
        "appointment.booked",
        "appointment.checked_in",
        "appointment.completed",
    ]
    assert events_of(third) == ["appointment.booked", "appointment.no_show"]
    # One webhook delivery per event, each to the environment's endpoint.
    assert len(webhook_deliveries()) == Event.objects.count() == 8


def test_activation_is_an_event_with_the_person_and_role(
    admin_user: User, receiver: HTTPServer
) -> None:
    pending = PendingPatientFactory(full_name="Nina New", email="nina@example.com")

    assert accounts_services.activate(user=pending)
    assert not accounts_services.activate(user=pending)  # already active: no second event

    event = Event.objects.get(type=EventType.ACCOUNT_ACTIVATED)
    assert event.payload["data"] == {
        "user": {
            "id": str(pending.public_id),
            "name": "Nina New",
            "email": "nina@example.com",
            "role": "patient",
            "language": "en",
        }
    }
    assert sorted((d.channel, d.recipient, d.mail) for d in event.deliveries.all()) == [
        ("email", "nina@example.com", "activated"),
        ("webhook", "", ""),
    ]


def test_endpoint_receives_only_the_event_types_it_asked_for(
    book: Callable[..., Appointment],
) -> None:
    only_cancellations = WebhookEndpoint.objects.create(
        name="Cancellations",
        url="http://127.0.0.1:9/cancel",
        event_types=[EventType.APPOINTMENT_CANCELLED],
    )
    everything = WebhookEndpoint.objects.create(name="All", url="http://127.0.0.1:9/all")
    WebhookEndpoint.objects.create(name="Off", url="http://127.0.0.1:9/off", is_active=False)

    appointment = book()
    services.cancel(appointment=appointment, by=appointment.patient)

    got = {
        (d.event.type, d.endpoint.name)
        for d in webhook_deliveries()
        if d.endpoint_id in (only_cancellations.pk, everything.pk)
    }
    assert got == {
        ("appointment.booked", "All"),
        ("appointment.cancelled", "All"),
        ("appointment.cancelled", "Cancellations"),
    }
    assert len(webhook_deliveries()) == 3


def test_environment_endpoint_follows_the_environment(
    book: Callable[..., Appointment], clinic_settings: Settings
) -> None:
    clinic_settings.N8N_WEBHOOK_URL = "http://127.0.0.1:9/first"
    clinic_settings.WEBHOOK_SECRET = "first-secret"
    book(0)
    endpoint = WebhookEndpoint.objects.get(from_environment=True)
    # An endpoint that answered 410 stays off while the environment names the same URL...
    endpoint.is_active = False
    endpoint.save()
    book(1)
    assert len(webhook_deliveries()) == 1

    # ...and comes back when the operator names a new one.
    clinic_settings.N8N_WEBHOOK_URL = "http://127.0.0.1:9/second"
    clinic_settings.WEBHOOK_SECRET = "second-secret"
    book(2)
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.secret, endpoint.is_active) == (
        "http://127.0.0.1:9/second",
        "second-secret",
        True,
    )
    assert len(webhook_deliveries()) == 2

    clinic_settings.N8N_WEBHOOK_URL = ""
    book(3)
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert len(webhook_deliveries()) == 2
    assert WebhookEndpoint.objects.count() == 1


def test_payload_tells_who_where_and_when_but_nothing_medical(
    book: Callable[..., Appointment], patient: User, receiver: HTTPServer
) -> None:
    patient.patient_profile.medical_history = "Allergic to penicillin"
    patient.patient_profile.save()
    appointment = book(0)

    event = Event.objects.get()
    assert event.payload == {
        "id": str(event.id),
        "type": "appointment.booked",
        "timestamp": event.created_at.astimezone(dt.UTC).isoformat(),
        "data": {
            "appointment": {
                "id": str(appointment.public_id),
                "status": "scheduled",
                "starts_at": "2026-06-09T10:00:00+02:00",
                "ends_at": "2026-06-09T10:30:00+02:00",
                "time_zone": "Europe/Berlin",
                "price": f"{appointment.doctor.consultation_fee:.2f}",
                "currency": "EUR",
            },
            "dependant": None,
            "service": None,
            "doctor": {"name": "Dr. Dora Doctor", "specialty": "Cardiologist"},
            "branch": {"name": "Riverside", "address": "1 River Road", "phone": "+49 30 1000001"},
            "patient": {
                "name": "Alice Patient",
                "email": patient.email,
                "phone": patient.phone,
                "language": "en",
            },
        },
    }
    text = str(event.payload)
    for secret in ("penicillin", patient.national_id, "Chest"):
        assert secret not in text


def test_cancellation_and_reschedule_payloads_say_what_changed(
    book: Callable[..., Appointment], doctor: User, tuesday_slots: list[Slot], receiver: HTTPServer
) -> None:
    appointment = book(0)
    services.reschedule(
        appointment=appointment,
        by=appointment.patient,
        slot=tuesday_slots[3],
        date=appointment.date,
    )
    services.cancel(appointment=appointment, by=doctor, reason="Dr. Doctor is ill.")

    moved = Event.objects.get(type=EventType.APPOINTMENT_RESCHEDULED)
    assert moved.payload["data"]["appointment"]["previous_starts_at"] == "2026-06-09T10:00:00+02:00"
    assert moved.payload["data"]["appointment"]["starts_at"] == "2026-06-09T11:30:00+02:00"
    cancelled = Event.objects.get(type=EventType.APPOINTMENT_CANCELLED)
    assert cancelled.payload["data"]["appointment"]["status"] == "cancelled"
    assert cancelled.payload["data"]["appointment"]["cancelled_by"] == "doctor"
    assert cancelled.payload["data"]["appointment"]["cancellation_reason"] == "Dr. Doctor is ill."
    # The calendar versions: booked 0, moved 1, cancelled 2.
    assert list(Event.objects.order_by("created_at").values_list("type", "sequence")) == [
        ("appointment.booked", 0),
        ("appointment.rescheduled", 1),
        ("appointment.cancelled", 2),
    ]
