"""The availability grid: each date with its openings, free, taken or past, in the same few
queries however full the calendar is."""

from __future__ import annotations

import datetime as dt

import pytest
from pytest_django import DjangoAssertNumQueries

from accounts.models import DoctorProfile, User
from accounts.tests.factories import PatientFactory
from scheduling import availability, services
from scheduling.models import Slot
from scheduling.tests.conftest import BERLIN, NEXT_MONDAY, NOW, TODAY
from scheduling.tests.factories import AppointmentFactory, SlotFactory

pytestmark = pytest.mark.django_db

T = dt.time


def states(day: availability.Day) -> dict[dt.time, str]:
    return {o.slot.start_time: o.state for o in day.openings}


def test_every_date_in_the_range_is_listed_with_its_weekdays_slots(
    dora: DoctorProfile, monday_9: Slot
) -> None:
    SlotFactory(doctor=dora, weekday=2, start_time=T(14), end_time=T(14, 30))

    week = availability.days(dora, NEXT_MONDAY, NEXT_MONDAY + dt.timedelta(days=6))

    assert [day.date for day in week] == [NEXT_MONDAY + dt.timedelta(days=n) for n in range(7)]
    assert [[o.slot.start_time for o in day.openings] for day in week] == [
        [T(9)],
        [],
        [T(14)],
        [],
        [],
        [],
        [],
    ]
    monday = week[0].openings[0]
    assert (monday.starts_at, monday.ends_at) == (
        dt.datetime(2026, 6, 8, 9, 0, tzinfo=BERLIN),
        dt.datetime(2026, 6, 8, 9, 30, tzinfo=BERLIN),
    )
    assert not any(day.off for day in week)


def test_openings_are_in_time_order(dora: DoctorProfile) -> None:
    for hour in (15, 8, 11):
        SlotFactory(doctor=dora, weekday=0, start_time=T(hour))

    (day,) = availability.days(dora, NEXT_MONDAY, NEXT_MONDAY)

    assert [o.slot.start_time for o in day.openings] == [T(8), T(11), T(15)]


def test_openings_are_past_before_the_notice_and_free_after(dora: DoctorProfile) -> None:
    # 10:00 now, 60 minutes' notice: up to 10:59 is too late to book.
    for start in (T(9), T(10, 30), T(10, 59), T(11), T(16)):
        SlotFactory(doctor=dora, weekday=0, start_time=start)

    (today,) = availability.days(dora, TODAY, TODAY)

    assert states(today) == {
        T(9): availability.PAST,
        T(10, 30): availability.PAST,
        T(10, 59): availability.PAST,
        T(11): availability.FREE,
        T(16): availability.FREE,
    }
    assert today.free_count == 2


def test_booked_opening_is_taken_and_a_cancelled_one_free_again(
    dora: DoctorProfile, monday_9: Slot, patient: User
) -> None:
    monday_10 = SlotFactory(doctor=dora, weekday=0, start_time=T(10))
    AppointmentFactory(slot=monday_9, date=NEXT_MONDAY)
    cancelled = AppointmentFactory(patient=patient, slot=monday_10, date=NEXT_MONDAY)
    services.cancel(appointment=cancelled, by=patient)

    (day,) = availability.days(dora, NEXT_MONDAY, NEXT_MONDAY)

    assert states(day) == {T(9): availability.TAKEN, T(10): availability.FREE}
    assert [o.slot.pk for o in availability.free_openings(dora, NEXT_MONDAY, NEXT_MONDAY)] == [
        monday_10.pk
    ]


def test_a_booking_takes_only_its_own_date(
    dora: DoctorProfile, monday_9: Slot, patient: User
) -> None:
    services.book(patient=patient, doctor=dora, slot=monday_9, date=NEXT_MONDAY)

    later = availability.days(dora, NEXT_MONDAY, NEXT_MONDAY + dt.timedelta(days=7))

    assert [states(day) for day in later if day.openings] == [
        {T(9): availability.TAKEN},
        {T(9): availability.FREE},
    ]


def test_completed_and_no_show_visits_still_take_their_slot(
    dora: DoctorProfile, monday_9: Slot
) -> None:
    AppointmentFactory(
        slot=monday_9,
        date=NEXT_MONDAY,
        status="completed",
        completed_at=NOW,
    )

    (day,) = availability.days(dora, NEXT_MONDAY, NEXT_MONDAY)

    assert states(day) == {T(9): availability.TAKEN}


def test_other_doctors_calendars_do_not_show(
    dora: DoctorProfile, monday_9: Slot, other_doctor: User
) -> None:
    ottos_9 = SlotFactory(doctor=other_doctor.doctor_profile, weekday=0, start_time=T(9))
    AppointmentFactory(slot=ottos_9, date=NEXT_MONDAY)

    (day,) = availability.days(dora, NEXT_MONDAY, NEXT_MONDAY)

    assert [(o.slot.pk, o.state) for o in day.openings] == [(monday_9.pk, availability.FREE)]


def test_retired_slots_are_not_offered(dora: DoctorProfile, monday_9: Slot) -> None:
    Slot._base_manager.filter(pk=monday_9.pk).update(is_active=False)

    (day,) = availability.days(dora, NEXT_MONDAY, NEXT_MONDAY)

    assert day.openings == []


def fill_calendar(dora: DoctorProfile, weeks: int) -> None:
    """Five slots a weekday for Dora, every one of them booked for `weeks` weeks."""
    slots = [
        SlotFactory(doctor=dora, weekday=weekday, start_time=T(hour))
        for weekday in range(5)
        for hour in range(9, 14)
    ]
    patients = PatientFactory.create_batch(5)
    for week in range(weeks):
        for n, slot in enumerate(slots):
            AppointmentFactory(
                slot=slot,
                patient=patients[n % 5],
                date=NEXT_MONDAY + dt.timedelta(days=7 * week + slot.weekday),
            )
    services.add_time_off(
        doctor=dora,
        start_date=NEXT_MONDAY + dt.timedelta(days=7 * weeks),
        end_date=NEXT_MONDAY + dt.timedelta(days=7 * weeks + 2),
    )


@pytest.mark.parametrize("weeks", [1, 8])
def test_availability_takes_three_queries_however_full_the_calendar(
    dora: DoctorProfile, weeks: int, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    fill_calendar(dora, weeks)

    with django_assert_num_queries(3):
        grid = availability.days(dora, NEXT_MONDAY, NEXT_MONDAY + dt.timedelta(days=7 * 9 - 1))
        taken = sum(1 for day in grid for o in day.openings if o.state == availability.TAKEN)
        free = sum(day.free_count for day in grid)
        off = sum(1 for day in grid if day.off)

    # Nine weeks of 25 openings: the booked ones taken, three days (15 openings) off.
    assert len(grid) == 63
    assert taken == 25 * weeks
    assert off == 3
    assert free == 25 * 9 - 25 * weeks - 15
