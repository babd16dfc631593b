"""The patient's e-mails carry a calendar invitation that updates in place; a doctor who
opted in hears of new bookings; a mail server that is down delays mail, never a booking."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import icalendar
import pytest
from django.core import mail
from pytest_django.fixtures import Settings
from time_machine import TimeMachineFixture

from accounts.models import DoctorProfile, User
from notifications.models import Delivery
from notifications.tests.conftest import free_port, run_worker
from scheduling import services
from scheduling.models import Appointment, Slot

pytestmark = pytest.mark.django_db


def invitation(message: mail.EmailMessage) -> tuple[icalendar.Event, str, str]:
    [attachment] = message.attachments
    assert attachment.filename == "appointment.ics"
    calendar = icalendar.Calendar.from_ical(attachment.content)
    [vevent] = calendar.walk("VEVENT")
    return vevent, str(calendar["METHOD"]), attachment.mimetype


def test_confirmation_has_text_html_and_an_invitation(
    book: Callable[..., Appointment], patient: User
) -> None:
    patient.patient_profile.medical_history = "Allergic to penicillin"
    patient.patient_profile.save()
    appointment = book()

    run_worker()

    [message] = mail.outbox
    assert message.to == [patient.email]
    assert message.subject == (
        "Your appointment with Dr. Dora Doctor on Tuesday 9 June 2026 at 10:00 is booked"
    )
    assert "Tuesday 9 June 2026, 10:00–10:30 (Europe/Berlin)" in message.body
    assert "Riverside, 1 River Road" in message.body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert "<strong>booked</strong>" in html
    assert "Dr. Dora Doctor, Cardiologist" in html
    for text in (message.body, html):
        assert "penicillin" not in text
        assert patient.national_id not in text
    vevent, method, mimetype = invitation(message)
    assert method == "REQUEST"
    assert mimetype == "text/calendar; method=REQUEST"
    assert str(vevent["UID"]) == f"{appointment.public_id}@clinic"
    assert vevent["SEQUENCE"] == 0
    assert str(vevent["STATUS"]) == "CONFIRMED"
    assert vevent.decoded("DTSTART") == appointment.starts_at
    assert vevent.decoded("DTEND") == appointment.ends_at
    assert str(vevent["LOCATION"]) == "Riverside, 1 River Road"
    assert str(vevent["ATTENDEE"]) == f"mailto:{patient.email}"


def test_moves_and_cancellation_update_the_same_calendar_entry(
    book: Callable[..., Appointment], tuesday_slots: list[Slot], doctor: User
) -> None:
    appointment = book(0)
    services.reschedule(
        appointment=appointment,
        by=appointment.patient,
        slot=tuesday_slots[4],
        date=appointment.date,
    )
    services.cancel(appointment=appointment, by=doctor, reason="Dr. Doctor is ill.")

    run_worker()

    booked, moved, cancelled = sorted(mail.outbox, key=lambda m: invitation(m)[0]["SEQUENCE"])
    uids = {str(invitation(m)[0]["UID"]) for m in mail.outbox}
    assert uids == {f"{appointment.public_id}@clinic"}
    assert "has moved to Tuesday 9 June 2026 at 12:00" in moved.subject
    assert "from Tuesday 9 June 2026 at 10:00" in moved.body
    vevent, method, _ = invitation(moved)
    assert (method, vevent["SEQUENCE"], str(vevent["STATUS"])) == ("REQUEST", 1, "CONFIRMED")
    assert vevent.decoded("DTSTART") == appointment.starts_at.replace(hour=12)
    vevent, method, mimetype = invitation(cancelled)
    assert (method, vevent["SEQUENCE"], str(vevent["STATUS"])) == ("CANCEL", 2, "CANCELLED")
    assert mimetype == "text/calendar; method=CANCEL"
    assert "Reason: Dr. Doctor is ill." in cancelled.body
    assert invitation(booked)[0]["SEQUENCE"] == 0


def test_doctor_who_opted_in_hears_of_each_new_booking(
    book: Callable[..., Appointment], dora: DoctorProfile, doctor: User
) -> None:
    book(0)
    dora.email_on_new_booking = True
    dora.save()
    appointment = book(1)
    services.cancel(appointment=appointment, by=appointment.patient)

    run_worker()

    to_doctor = [m for m in mail.outbox if m.to == [doctor.email]]
    [message] = to_doctor
    assert message.subject == "New booking: Alice Patient on Tuesday 9 June 2026 at 10:30"
    # True whoever booked it: the patient, or the front desk for them.
    assert "Alice Patient is booked in with you" in message.body
    assert message.attachments == []
    assert len(mail.outbox) == 4  # two confirmations, one cancellation, one to the doctor


def test_mail_server_down_delays_the_mail_not_the_booking(
    book: Callable[..., Appointment],
    clinic_settings: Settings,
    time_machine: TimeMachineFixture,
) -> None:
    clinic_settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port(), "timeout": 2},
        }
    }
    appointment = book()
    assert appointment.status == "scheduled"

    run_worker()
    confirmation = Delivery.objects.get(channel="email")
    assert confirmation.status == "pending"
    assert "ConnectionRefusedError" in confirmation.last_error
    assert mail.outbox == []

    clinic_settings.MAILERS = {
        "default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    }
    time_machine.shift(dt.timedelta(minutes=2))
    run_worker()

    confirmation.refresh_from_db()
    assert (confirmation.status, confirmation.attempts) == ("delivered", 2)
    assert len(mail.outbox) == 1
