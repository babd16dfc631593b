"""The doctor's notes on an appointment never leave the clinic: not in an e-mail, a calendar
invitation, a webhook payload or a calendar feed, whatever happens to the appointment."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.core import mail

from accounts.models import DoctorProfile, User
from notifications import feeds
from notifications.models import Event
from notifications.tests.conftest import NEXT_TUESDAY, run_worker
from scheduling import services
from scheduling.models import Appointment, Slot

pytestmark = pytest.mark.django_db

NOTE = "Suspected arrhythmia, private to Dora"


def test_notes_are_in_no_email_webhook_or_feed(
    book: Callable[..., Appointment],
    dora: DoctorProfile,
    patient: User,
    tuesday_slots: list[Slot],
) -> None:
    dora.email_on_new_booking = True
    dora.save()
    appointment = book()
    services.set_doctor_notes(appointment=appointment, by=dora.user, notes=NOTE)
    services.reschedule(
        appointment=appointment, by=dora.user, slot=tuesday_slots[1], date=NEXT_TUESDAY
    )
    services.cancel(appointment=appointment, by=dora.user, reason="The doctor is ill.")

    run_worker()

    assert len(mail.outbox) == 4  # booked (to the patient and to Dora), moved, cancelled
    for message in mail.outbox:
        parts = [message.subject, message.body]
        parts += [str(content) for content, _ in message.alternatives]
        parts += [
            a.content.decode() if isinstance(a.content, bytes) else str(a.content)
            for a in message.attachments
        ]
        assert not any(NOTE in part for part in parts), message.subject
    payloads = [json.dumps(e.payload) for e in Event.objects.all()]
    assert len(payloads) == 3
    assert not any(NOTE in p for p in payloads)
    for user in (patient, dora.user):
        assert NOTE not in feeds.build(user, base_url="https://clinic.example").decode()
    assert Appointment.objects.get(pk=appointment.pk).doctor_notes == NOTE
