"""A booking racing a change of the doctor's calendar, on the database the suite runs on.

Both writers take the doctor's lock (a booking FOR NO KEY UPDATE, a calendar change FOR
UPDATE; SQLite serialises every writer anyway), so exactly one of them wins each round: the
booking commits and the change, seeing it, refuses; or the change commits and the booking,
seeing it, is refused. Never is an appointment left inside an absence or on a retired slot.
Real threads and committed rows (`transaction=True`), as in test_concurrent_booking.
"""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import DoctorProfile, User
from accounts.tests.factories import PatientFactory
from scheduling import clock, services
from scheduling.models import Appointment, Slot, TimeOff
from scheduling.tests.test_concurrent_booking import at_once, describe

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 6
T = dt.time


@pytest.fixture
def dora(doctor: User) -> DoctorProfile:
    return doctor.doctor_profile


def test_a_booking_racing_a_new_part_day_absence_one_wins(dora: DoctorProfile) -> None:
    start = clock.today() + dt.timedelta(days=3)
    for week in range(ROUNDS):
        date = start + dt.timedelta(days=7 * week)
        slot = Slot.objects.create(
            doctor=dora, weekday=date.weekday(), date=date, start_time=T(14), end_time=T(14, 30)
        )
        patient = PatientFactory()

        booking, absence = at_once(
            [
                lambda p=patient, d=date, s=slot: services.book(
                    patient=p, doctor=dora, slot=s, date=d
                ),
                lambda d=date: services.add_time_off(
                    doctor=dora, start_date=d, end_date=d, start_time=T(13), end_time=T(18)
                ),
            ]
        )

        outcomes = sorted([describe(booking), describe(absence)])
        if isinstance(booking, Appointment):
            assert outcomes == ["SchedulingError:has_bookings", "booked"], outcomes
            assert not TimeOff.objects.filter(start_date=date).exists()
            assert Appointment.objects.get(pk=booking.pk).status == Appointment.Status.SCHEDULED
        else:
            assert describe(booking) == "SchedulingError:time_off", outcomes
            assert isinstance(absence, TimeOff), outcomes
            assert not Appointment.objects.filter(date=date).exists()
        # Whoever won, no appointment sits inside an absence.
        for period in TimeOff.objects.active().filter(doctor=dora):
            assert (
                not Appointment.objects.open()
                .filter(
                    doctor=dora,
                    date__range=(period.start_date, period.end_date),
                    slot__start_time__lt=period.end_time,
                    slot__end_time__gt=period.start_time,
                )
                .exists()
            )


def test_a_booking_racing_an_hours_change_one_wins(dora: DoctorProfile) -> None:
    # Each round: the doctor previewed hours that retire the slot a patient is booking.
    start = clock.today() + dt.timedelta(days=3)
    for week in range(ROUNDS):
        date = start + dt.timedelta(days=7 * week)
        hour = 8 + week
        slot = services.add_slot(
            doctor=dora, weekday=date.weekday(), start_time=T(hour), end_time=T(hour, 30)
        )
        new_hours = {date.weekday(): [(T(17), T(18))]}
        preview = services.plan_working_hours(doctor=dora, hours=new_hours, visit_minutes=30)
        assert slot in preview.retire
        patient = PatientFactory()

        booking, change = at_once(
            [
                lambda p=patient, d=date, s=slot: services.book(
                    patient=p, doctor=dora, slot=s, date=d
                ),
                lambda h=new_hours, f=preview.fingerprint: services.set_working_hours(
                    doctor=dora, hours=h, visit_minutes=30, expected=f
                ),
            ]
        )

        slot.refresh_from_db()
        if isinstance(booking, Appointment):
            assert describe(change) == "PlanChanged:plan_changed", (booking, change)
            assert slot.is_active
            # Nothing of the refused change was saved.
            assert not Slot.objects.active().filter(doctor=dora, start_time__gte=T(17)).exists()
        else:
            assert describe(booking) == "SchedulingError:bad_slot", (booking, change)
            assert isinstance(change, services.HoursPlan), change
            assert not slot.is_active
            assert not Appointment.objects.filter(slot=slot).exists()
            assert Slot.objects.active().filter(doctor=dora, start_time__gte=T(17)).count() == 2
            # Back to a calendar with no 17:00 slots for the next round.
            for made in Slot.objects.active().filter(doctor=dora, start_time__gte=T(17)):
                services.deactivate_slot(slot=made)
        assert not Appointment.objects.open().filter(slot__is_active=False).exists()
