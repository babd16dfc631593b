"""Cancelling: before the start only, a doctor says why, only the parties may, the slot is free
again at once and the cancelled row stays."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from accounts.models import DoctorProfile, User
from scheduling import events, services
from scheduling.models import Appointment, Slot
from scheduling.tests.conftest import BERLIN, NEXT_MONDAY, NOW
from scheduling.tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db

Status = Appointment.Status


@pytest.fixture
def booked(monday_9: Slot, patient: User) -> Appointment:
    """Alice's appointment with Dora next Monday at 09:00."""
    return AppointmentFactory(patient=patient, slot=monday_9, date=NEXT_MONDAY)


def assert_still_scheduled(appointment: Appointment) -> None:
    appointment.refresh_from_db()
    assert appointment.status == Status.SCHEDULED
    assert appointment.cancelled_at is None
    assert appointment.cancelled_by is None


def test_patient_cancelling_frees_the_slot_for_someone_else(
    booked: Appointment,
    patient: User,
    other_patient: User,
    dora: DoctorProfile,
    monday_9: Slot,
    published: list,
) -> None:
    services.cancel(appointment=booked, by=patient)

    booked.refresh_from_db()
    assert booked.status == Status.CANCELLED
    assert booked.cancelled_at == NOW
    assert booked.cancelled_by == patient
    assert booked.cancellation_reason == ""

    rebooked = services.book(patient=other_patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)

    assert rebooked.pk != booked.pk
    rows = Appointment.objects.filter(slot=monday_9, date=NEXT_MONDAY)
    assert sorted(rows.values_list("patient", "status")) == sorted(
        [(patient.pk, Status.CANCELLED), (other_patient.pk, Status.SCHEDULED)]
    )
    assert [event for event, _ in published] == [events.CANCELLED, events.BOOKED]


def test_patient_can_book_the_slot_again_after_cancelling(
    booked: Appointment, patient: User, dora: DoctorProfile, monday_9: Slot
) -> None:
    services.cancel(appointment=booked, by=patient)

    again = services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)

    assert again.pk != booked.pk
    assert Appointment.objects.filter(patient=patient).count() == 2
    assert Appointment.objects.open().get() == again


def test_patient_can_cancel_a_minute_before_the_start(booked: Appointment, patient: User) -> None:
    with time_machine.travel(dt.datetime(2026, 6, 8, 8, 59, tzinfo=BERLIN), tick=False):
        services.cancel(appointment=booked, by=patient)

    booked.refresh_from_db()
    assert booked.status == Status.CANCELLED


@pytest.mark.parametrize("minutes_after_start", [0, 10, 60 * 24])
def test_cancelling_once_the_appointment_has_started_is_refused(
    booked: Appointment, patient: User, doctor: User, minutes_after_start: int
) -> None:
    later = dt.datetime(2026, 6, 8, 9, 0, tzinfo=BERLIN) + dt.timedelta(minutes=minutes_after_start)
    with time_machine.travel(later, tick=False):
        for who, reason in ((patient, ""), (doctor, "Running late")):
            with pytest.raises(services.SchedulingError) as caught:
                services.cancel(appointment=booked, by=who, reason=reason)
            assert caught.value.code == "started"

    assert_still_scheduled(booked)


def test_doctor_must_give_a_reason(booked: Appointment, doctor: User) -> None:
    with pytest.raises(services.SchedulingError) as caught:
        services.cancel(appointment=booked, by=doctor, reason="   ")

    assert caught.value.code == "reason"
    assert_still_scheduled(booked)


def test_doctor_cancels_with_a_reason(booked: Appointment, doctor: User, published: list) -> None:
    services.cancel(appointment=booked, by=doctor, reason="  Called away to surgery. ")

    booked.refresh_from_db()
    assert booked.status == Status.CANCELLED
    assert booked.cancelled_by == doctor
    assert booked.cancellation_reason == "Called away to surgery."
    assert [event for event, _ in published] == [events.CANCELLED]


def test_admin_cancels_with_a_reason(booked: Appointment, admin_user: User) -> None:
    with pytest.raises(services.SchedulingError) as caught:
        services.cancel(appointment=booked, by=admin_user)
    assert caught.value.code == "reason"

    services.cancel(appointment=booked, by=admin_user, reason="Clinic closed")

    booked.refresh_from_db()
    assert booked.status == Status.CANCELLED
    assert booked.cancelled_by == admin_user


@pytest.mark.parametrize("stranger", ["other_patient", "other_doctor"])
def test_stranger_cannot_cancel(
    booked: Appointment, stranger: str, request: pytest.FixtureRequest, published: list
) -> None:
    who = request.getfixturevalue(stranger)

    with pytest.raises(services.NotAllowed) as caught:
        services.cancel(appointment=booked, by=who, reason="Because")

    assert caught.value.code == "forbidden"
    assert_still_scheduled(booked)
    assert published == []


def test_deactivated_doctor_cannot_cancel_their_appointment(
    booked: Appointment, doctor: User
) -> None:
    User._base_manager.filter(pk=doctor.pk).update(is_active=False)
    doctor.refresh_from_db()

    with pytest.raises(services.NotAllowed):
        services.cancel(appointment=booked, by=doctor, reason="Leaving")

    assert_still_scheduled(booked)


@pytest.mark.parametrize(
    ("status", "stamp"),
    [
        (Status.COMPLETED, "completed_at"),
        (Status.NO_SHOW, "no_show_at"),
        (Status.CHECKED_IN, "checked_in_at"),
    ],
)
def test_visit_that_happened_cannot_be_cancelled(
    monday_9: Slot, patient: User, doctor: User, status: str, stamp: str
) -> None:
    appointment = AppointmentFactory(
        patient=patient, slot=monday_9, date=NEXT_MONDAY, status=status, **{stamp: NOW}
    )

    for who, reason in ((patient, ""), (doctor, "Tidying up")):
        with pytest.raises(services.SchedulingError) as caught:
            services.cancel(appointment=appointment, by=who, reason=reason)
        assert caught.value.code == "not_scheduled"

    appointment.refresh_from_db()
    assert appointment.status == status
    assert appointment.cancelled_at is None


def test_cancelling_twice_is_harmless(booked: Appointment, patient: User, published: list) -> None:
    services.cancel(appointment=booked, by=patient)
    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        again = services.cancel(appointment=booked, by=patient)

    assert again.status == Status.CANCELLED
    booked.refresh_from_db()
    assert booked.status == Status.CANCELLED
    assert booked.cancelled_at == NOW
    assert Appointment.objects.count() == 1
    assert [event for event, _ in published] == [events.CANCELLED]
