"""The doctor's day: today's appointments in slot order, arrivals numbered as they check in."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from accounts.models import DoctorProfile, User
from accounts.tests.factories import PatientFactory
from scheduling import selectors, services
from scheduling.models import Appointment
from scheduling.tests.conftest import BERLIN, NEXT_MONDAY
from scheduling.tests.factories import AppointmentFactory, SlotFactory

pytestmark = pytest.mark.django_db


def monday_at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 6, 8, hour, minute, tzinfo=BERLIN)


def test_queue_lists_today_in_slot_order_and_numbers_arrivals_in_check_in_order(
    dora: DoctorProfile, doctor: User, other_doctor: User
) -> None:
    at = {
        hour: AppointmentFactory(
            slot=SlotFactory(doctor=dora, weekday=0, start_time=dt.time(hour)),
            date=NEXT_MONDAY,
            patient=PatientFactory(full_name=f"Patient at {hour}"),
        )
        for hour in (11, 9, 10, 12)
    }
    # Not in Dora's queue today: a cancelled visit, next week's, and Otto's.
    cancelled = AppointmentFactory(
        slot=SlotFactory(doctor=dora, weekday=0, start_time=dt.time(13)), date=NEXT_MONDAY
    )
    next_week = AppointmentFactory(slot=at[9].slot, date=NEXT_MONDAY + dt.timedelta(days=7))
    ottos = AppointmentFactory(
        slot=SlotFactory(doctor=other_doctor.doctor_profile, weekday=0), date=NEXT_MONDAY
    )

    with time_machine.travel(monday_at(8, 0), tick=False):
        services.cancel(appointment=cancelled, by=cancelled.patient)
    # The 11:00 patient arrives first, then the 9:00 one; 10:00 and 12:00 have not come.
    for hour, minute in ((11, 5), (9, 20)):
        with time_machine.travel(monday_at(8, minute), tick=False):
            services.check_in(appointment=at[hour], by=doctor)
    # A visit that is over keeps its number.
    with time_machine.travel(monday_at(9, 20), tick=False):
        services.complete(appointment=at[9], by=doctor)

    with time_machine.travel(monday_at(9, 30), tick=False):
        queue = selectors.todays_queue(dora)

    assert [a.pk for a in queue] == [at[9].pk, at[10].pk, at[11].pk, at[12].pk]
    assert [a.queue_number for a in queue] == [2, None, 1, None]
    assert [a.status for a in queue] == [
        Appointment.Status.COMPLETED,
        Appointment.Status.SCHEDULED,
        Appointment.Status.CHECKED_IN,
        Appointment.Status.SCHEDULED,
    ]
    shown = {a.pk for a in queue}
    assert not shown & {cancelled.pk, next_week.pk, ottos.pk}


def test_queue_is_empty_on_a_day_without_appointments(dora: DoctorProfile) -> None:
    AppointmentFactory(slot=SlotFactory(doctor=dora, weekday=0), date=NEXT_MONDAY)

    with time_machine.travel(monday_at(9) - dt.timedelta(days=1), tick=False):
        assert selectors.todays_queue(dora) == []
    with time_machine.travel(monday_at(9), tick=False):
        assert len(selectors.todays_queue(dora)) == 1


def test_queue_numbers_follow_check_in_time_not_booking_order(
    dora: DoctorProfile, doctor: User
) -> None:
    early, late = (
        AppointmentFactory(
            slot=SlotFactory(doctor=dora, weekday=0, start_time=dt.time(hour)), date=NEXT_MONDAY
        )
        for hour in (9, 10)
    )
    with time_machine.travel(monday_at(8, 30), tick=False):
        services.check_in(appointment=late, by=doctor)
    with time_machine.travel(monday_at(8, 45), tick=False):
        services.check_in(appointment=early, by=doctor)

    with time_machine.travel(monday_at(8, 50), tick=False):
        queue = selectors.todays_queue(dora)

    assert [(a.pk, a.queue_number) for a in queue] == [(early.pk, 2), (late.pk, 1)]
