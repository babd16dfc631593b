"""Rescheduling moves the appointment in place to another free time of the same doctor; when
the move fails, the old time stays held."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from accounts.models import DoctorProfile, User
from scheduling import events, services
from scheduling.models import Appointment, Slot
from scheduling.tests.conftest import BERLIN, NEXT_MONDAY, NOW
from scheduling.tests.factories import AppointmentFactory, SlotFactory

pytestmark = pytest.mark.django_db

Status = Appointment.Status
NEXT_WEDNESDAY = NEXT_MONDAY + dt.timedelta(days=2)


@pytest.fixture
def booked(monday_9: Slot, patient: User) -> Appointment:
    """Alice's appointment with Dora next Monday at 09:00."""
    return AppointmentFactory(patient=patient, slot=monday_9, date=NEXT_MONDAY)


@pytest.fixture
def wednesday_14(dora: DoctorProfile) -> Slot:
    return SlotFactory(doctor=dora, weekday=2, start_time=dt.time(14), end_time=dt.time(14, 45))


def assert_unmoved(appointment: Appointment, slot: Slot) -> None:
    appointment.refresh_from_db()
    assert (appointment.slot, appointment.date) == (slot, NEXT_MONDAY)
    assert appointment.starts_at == dt.datetime(2026, 6, 8, 9, 0, tzinfo=BERLIN)
    assert appointment.status == Status.SCHEDULED
    assert appointment.rescheduled_at is None


def test_patient_moves_the_appointment_in_place(
    booked: Appointment,
    patient: User,
    monday_9: Slot,
    wednesday_14: Slot,
    other_patient: User,
    dora: DoctorProfile,
    published: list,
) -> None:
    public_id = booked.public_id

    services.reschedule(appointment=booked, by=patient, slot=wednesday_14, date=NEXT_WEDNESDAY)

    moved = Appointment.objects.get()
    assert (moved.pk, moved.public_id) == (booked.pk, public_id)
    assert (moved.slot, moved.date) == (wednesday_14, NEXT_WEDNESDAY)
    assert moved.starts_at == dt.datetime(2026, 6, 10, 14, 0, tzinfo=BERLIN)
    assert moved.ends_at == dt.datetime(2026, 6, 10, 14, 45, tzinfo=BERLIN)
    assert moved.status == Status.SCHEDULED
    assert moved.rescheduled_at == NOW
    assert [event for event, _ in published] == [events.RESCHEDULED]

    # The old time is free for someone else.
    services.book(patient=other_patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)
    assert Appointment.objects.filter(slot=monday_9, date=NEXT_MONDAY).get().patient == (
        other_patient
    )


def test_doctor_moves_the_appointment_to_the_same_slot_a_week_later(
    booked: Appointment, doctor: User, monday_9: Slot
) -> None:
    week_later = NEXT_MONDAY + dt.timedelta(days=7)

    services.reschedule(appointment=booked, by=doctor, slot=monday_9, date=week_later)

    booked.refresh_from_db()
    assert (booked.slot, booked.date) == (monday_9, week_later)
    assert Appointment.objects.count() == 1


def test_moving_to_a_time_taken_by_someone_else_keeps_the_old_time(
    booked: Appointment,
    patient: User,
    monday_9: Slot,
    wednesday_14: Slot,
    other_patient: User,
    dora: DoctorProfile,
    published: list,
) -> None:
    theirs = AppointmentFactory(patient=other_patient, slot=wednesday_14, date=NEXT_WEDNESDAY)

    with pytest.raises(services.SlotTaken) as caught:
        services.reschedule(appointment=booked, by=patient, slot=wednesday_14, date=NEXT_WEDNESDAY)

    assert caught.value.code == "slot_taken"
    assert_unmoved(booked, monday_9)
    theirs.refresh_from_db()
    assert (theirs.patient, theirs.status) == (other_patient, Status.SCHEDULED)
    assert published == []
    # The old time is still held by Alice.
    with pytest.raises(services.SlotTaken):
        services.book(patient=other_patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)
    assert Appointment.objects.count() == 2


def test_cannot_move_to_another_doctors_slot(
    booked: Appointment, patient: User, monday_9: Slot, other_doctor: User
) -> None:
    ottos_slot = SlotFactory(doctor=other_doctor.doctor_profile, weekday=2)

    with pytest.raises(services.SchedulingError) as caught:
        services.reschedule(appointment=booked, by=patient, slot=ottos_slot, date=NEXT_WEDNESDAY)

    assert caught.value.code == "bad_slot"
    assert_unmoved(booked, monday_9)


def test_cannot_move_to_the_same_time(booked: Appointment, patient: User, monday_9: Slot) -> None:
    with pytest.raises(services.SchedulingError) as caught:
        services.reschedule(appointment=booked, by=patient, slot=monday_9, date=NEXT_MONDAY)

    assert caught.value.code == "same_time"
    assert_unmoved(booked, monday_9)


def test_the_booking_rules_apply_to_the_new_time(
    booked: Appointment, patient: User, monday_9: Slot, wednesday_14: Slot
) -> None:
    with pytest.raises(services.SchedulingError) as caught:
        services.reschedule(
            appointment=booked, by=patient, slot=wednesday_14, date=dt.date(2026, 8, 5)
        )

    assert caught.value.code == "beyond_horizon"
    assert_unmoved(booked, monday_9)


def test_moving_to_an_overlapping_time_of_the_same_appointment_is_allowed(
    booked: Appointment, patient: User, dora: DoctorProfile
) -> None:
    # The appointment does not clash with itself.
    monday_915 = SlotFactory(doctor=dora, weekday=0, start_time=dt.time(9, 15))

    services.reschedule(appointment=booked, by=patient, slot=monday_915, date=NEXT_MONDAY)

    booked.refresh_from_db()
    assert booked.slot == monday_915


def test_cannot_move_an_appointment_that_has_started(
    booked: Appointment, patient: User, doctor: User, monday_9: Slot, wednesday_14: Slot
) -> None:
    with time_machine.travel(dt.datetime(2026, 6, 8, 9, 5, tzinfo=BERLIN), tick=False):
        for who in (patient, doctor):
            with pytest.raises(services.SchedulingError) as caught:
                services.reschedule(
                    appointment=booked, by=who, slot=wednesday_14, date=NEXT_WEDNESDAY
                )
            assert caught.value.code == "started"

    assert_unmoved(booked, monday_9)


@pytest.mark.parametrize(
    ("status", "stamp"),
    [
        (Status.CHECKED_IN, "checked_in_at"),
        (Status.COMPLETED, "completed_at"),
        (Status.NO_SHOW, "no_show_at"),
        (Status.CANCELLED, "cancelled_at"),
    ],
)
def test_cannot_move_an_appointment_that_is_not_scheduled(
    patient: User, monday_9: Slot, wednesday_14: Slot, status: str, stamp: str
) -> None:
    appointment = AppointmentFactory(
        patient=patient, slot=monday_9, date=NEXT_MONDAY, status=status, **{stamp: NOW}
    )

    with pytest.raises(services.SchedulingError) as caught:
        services.reschedule(
            appointment=appointment, by=patient, slot=wednesday_14, date=NEXT_WEDNESDAY
        )

    assert caught.value.code == "not_scheduled"
    appointment.refresh_from_db()
    assert (appointment.slot, appointment.status) == (monday_9, status)


@pytest.mark.parametrize("stranger", ["other_patient", "other_doctor"])
def test_stranger_cannot_move_the_appointment(
    booked: Appointment,
    monday_9: Slot,
    wednesday_14: Slot,
    stranger: str,
    request: pytest.FixtureRequest,
) -> None:
    with pytest.raises(services.NotAllowed):
        services.reschedule(
            appointment=booked,
            by=request.getfixturevalue(stranger),
            slot=wednesday_14,
            date=NEXT_WEDNESDAY,
        )

    assert_unmoved(booked, monday_9)
