"""A booking that passes every rule makes one scheduled appointment, announced once; the same
booking submitted again is the same appointment."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import DoctorProfile, User
from scheduling import events, services
from scheduling.models import Appointment, Slot
from scheduling.tests.conftest import BERLIN, NEXT_MONDAY, NOW

pytestmark = pytest.mark.django_db


def test_booking_makes_a_scheduled_appointment_at_the_slots_local_time(
    dora: DoctorProfile, monday_9: Slot, patient: User, published: list
) -> None:
    booked = services.book(
        patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY, reason="  Sore throat \n"
    )

    row = Appointment.objects.get()
    assert row.pk == booked.pk
    assert (row.patient, row.doctor, row.slot, row.date) == (patient, dora, monday_9, NEXT_MONDAY)
    assert row.status == Appointment.Status.SCHEDULED
    assert row.reason == "Sore throat"
    assert row.starts_at.utcoffset() is not None
    assert row.ends_at.utcoffset() is not None
    assert row.starts_at == dt.datetime(2026, 6, 8, 9, 0, tzinfo=BERLIN)
    assert row.ends_at == dt.datetime(2026, 6, 8, 9, 30, tzinfo=BERLIN)
    assert row.starts_at.astimezone(dt.UTC) == dt.datetime(2026, 6, 8, 7, 0, tzinfo=dt.UTC)
    assert row.created_at == NOW
    assert row.cancelled_at is None
    assert row.checked_in_at is None
    assert published == [(events.BOOKED, booked)]


def test_booked_appointment_has_a_random_public_id(
    dora: DoctorProfile, monday_9: Slot, patient: User, other_patient: User
) -> None:
    first = services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)
    second = services.book(
        patient=other_patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY + dt.timedelta(7)
    )

    assert first.public_id != second.public_id
    assert set(Appointment.objects.values_list("public_id", flat=True)) == {
        first.public_id,
        second.public_id,
    }


def test_submitting_the_same_booking_twice_returns_the_first_appointment(
    dora: DoctorProfile, monday_9: Slot, patient: User, published: list
) -> None:
    first = services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)
    again = services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)

    assert again.pk == first.pk
    assert again.public_id == first.public_id
    assert Appointment.objects.count() == 1
    assert [event for event, _ in published] == [events.BOOKED]


def test_slot_taken_by_another_patient_is_refused_with_alternatives(
    dora: DoctorProfile, monday_9: Slot, patient: User, other_patient: User
) -> None:
    mine = services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)

    with pytest.raises(services.SlotTaken) as caught:
        services.book(patient=other_patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)

    assert caught.value.code == "slot_taken"
    # Today's 09:00 has passed, so the nearest free times are the Mondays after.
    assert [(o.slot.pk, o.date) for o in caught.value.alternatives] == [
        (monday_9.pk, dt.date(2026, 6, 15)),
        (monday_9.pk, dt.date(2026, 6, 22)),
        (monday_9.pk, dt.date(2026, 6, 29)),
    ]
    assert list(Appointment.objects.all()) == [mine]
    assert Appointment.objects.get().patient == patient
