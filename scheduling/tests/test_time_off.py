"""Time off blocks days for booking; appointments already in those days are cancelled (with a
reason for the patient) only when the doctor confirms it."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import DoctorProfile, User
from scheduling import availability, events, services
from scheduling.models import Appointment, Slot, TimeOff
from scheduling.tests.conftest import NEXT_MONDAY, TODAY
from scheduling.tests.factories import AppointmentFactory, SlotFactory

pytestmark = pytest.mark.django_db

Status = Appointment.Status
NEXT_TUESDAY = NEXT_MONDAY + dt.timedelta(days=1)


@pytest.fixture
def tuesday_9(dora: DoctorProfile) -> Slot:
    return SlotFactory(doctor=dora, weekday=1, start_time=dt.time(9))


@pytest.fixture
def in_range(monday_9: Slot, tuesday_9: Slot) -> list[Appointment]:
    """Two appointments in the week of 8 June."""
    return [
        AppointmentFactory(slot=monday_9, date=NEXT_MONDAY),
        AppointmentFactory(slot=tuesday_9, date=NEXT_TUESDAY),
    ]


@pytest.fixture
def outside(monday_9: Slot) -> Appointment:
    """An appointment the Monday after."""
    return AppointmentFactory(slot=monday_9, date=NEXT_MONDAY + dt.timedelta(days=7))


def test_time_off_over_booked_days_is_refused_without_confirmation(
    dora: DoctorProfile, in_range: list[Appointment], outside: Appointment, published: list
) -> None:
    with pytest.raises(services.SchedulingError) as caught:
        services.add_time_off(doctor=dora, start_date=NEXT_MONDAY, end_date=NEXT_TUESDAY)

    assert caught.value.code == "has_bookings"
    assert caught.value.text.startswith("2 appointments are booked")
    assert not TimeOff.objects.exists()
    assert set(Appointment.objects.values_list("status", flat=True)) == {Status.SCHEDULED}
    assert published == []


def test_confirmed_time_off_cancels_the_appointments_in_it_with_a_reason(
    dora: DoctorProfile,
    doctor: User,
    in_range: list[Appointment],
    outside: Appointment,
    published: list,
) -> None:
    off = services.add_time_off(
        doctor=dora,
        start_date=NEXT_MONDAY,
        end_date=NEXT_TUESDAY,
        reason=" Conference ",
        cancel_booked=True,
    )

    off.refresh_from_db()
    assert (off.doctor, off.start_date, off.end_date, off.reason, off.is_active) == (
        dora,
        NEXT_MONDAY,
        NEXT_TUESDAY,
        "Conference",
        True,
    )
    for appointment in in_range:
        appointment.refresh_from_db()
        assert appointment.status == Status.CANCELLED
        assert appointment.cancelled_by == doctor
        assert "Dr. Dora Doctor is unavailable" in appointment.cancellation_reason
    outside.refresh_from_db()
    assert outside.status == Status.SCHEDULED
    assert sorted(a.pk for event, a in published if event == events.CANCELLED) == sorted(
        a.pk for a in in_range
    )


def test_time_off_over_free_days_needs_no_confirmation(
    dora: DoctorProfile, outside: Appointment
) -> None:
    services.add_time_off(doctor=dora, start_date=NEXT_MONDAY, end_date=NEXT_TUESDAY)

    assert TimeOff.objects.filter(doctor=dora).count() == 1
    outside.refresh_from_db()
    assert outside.status == Status.SCHEDULED


def test_cancelled_and_other_doctors_appointments_do_not_count(
    dora: DoctorProfile, monday_9: Slot, patient: User, other_doctor: User
) -> None:
    mine = AppointmentFactory(patient=patient, slot=monday_9, date=NEXT_MONDAY)
    services.cancel(appointment=mine, by=patient)
    ottos = AppointmentFactory(
        slot=SlotFactory(doctor=other_doctor.doctor_profile, weekday=0), date=NEXT_MONDAY
    )

    services.add_time_off(doctor=dora, start_date=NEXT_MONDAY, end_date=NEXT_MONDAY)

    ottos.refresh_from_db()
    assert ottos.status == Status.SCHEDULED
    assert TimeOff.objects.filter(doctor=dora).exists()


def test_booking_on_a_day_off_is_refused(
    dora: DoctorProfile, monday_9: Slot, patient: User
) -> None:
    services.add_time_off(doctor=dora, start_date=NEXT_MONDAY, end_date=NEXT_TUESDAY)

    with pytest.raises(services.SchedulingError) as caught:
        services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)

    assert caught.value.code == "time_off"
    assert not Appointment.objects.exists()


def test_availability_marks_the_days_off(
    dora: DoctorProfile, monday_9: Slot, tuesday_9: Slot
) -> None:
    services.add_time_off(doctor=dora, start_date=NEXT_MONDAY, end_date=NEXT_TUESDAY)

    week = availability.days(
        dora, NEXT_MONDAY - dt.timedelta(days=1), NEXT_MONDAY + dt.timedelta(days=7)
    )

    off = {day.date: day.off for day in week}
    assert [d for d, is_off in off.items() if is_off] == [NEXT_MONDAY, NEXT_TUESDAY]
    by_date = {day.date: day for day in week}
    assert by_date[NEXT_MONDAY].openings == []
    assert by_date[NEXT_TUESDAY].openings == []
    assert by_date[NEXT_MONDAY + dt.timedelta(days=7)].free_count == 1


def test_removing_time_off_opens_the_days_again(
    dora: DoctorProfile, monday_9: Slot, patient: User
) -> None:
    off = services.add_time_off(doctor=dora, start_date=NEXT_MONDAY, end_date=NEXT_MONDAY)

    services.remove_time_off(time_off=off)

    off.refresh_from_db()
    assert off.is_active is False
    (day,) = availability.days(dora, NEXT_MONDAY, NEXT_MONDAY)
    assert not day.off
    assert day.free_count == 1
    services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)
    assert Appointment.objects.filter(date=NEXT_MONDAY).exists()


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        (NEXT_TUESDAY, NEXT_MONDAY, "order"),
        (TODAY - dt.timedelta(days=1), NEXT_MONDAY, "starts_in_past"),
        (NEXT_MONDAY, NEXT_MONDAY + dt.timedelta(days=366), "too_long"),
    ],
)
def test_bad_ranges_are_refused(
    dora: DoctorProfile, start: dt.date, end: dt.date, code: str
) -> None:
    with pytest.raises(services.SchedulingError) as caught:
        services.add_time_off(doctor=dora, start_date=start, end_date=end)

    assert caught.value.code == code
    assert not TimeOff.objects.exists()


def test_time_off_from_today_keeps_todays_visits_that_have_begun(
    dora: DoctorProfile, doctor: User
) -> None:
    # It is 10:00: the 09:00 visit is under way and stays; the 14:00 one is cancelled.
    begun = AppointmentFactory(slot=SlotFactory(doctor=dora, weekday=0), date=TODAY)
    later = AppointmentFactory(
        slot=SlotFactory(doctor=dora, weekday=0, start_time=dt.time(14)), date=TODAY
    )

    services.add_time_off(doctor=dora, start_date=TODAY, end_date=TODAY, cancel_booked=True)

    begun.refresh_from_db()
    later.refresh_from_db()
    assert (begun.status, later.status) == (Status.SCHEDULED, Status.CANCELLED)
