"""Slots are wall-clock times in the clinic's zone: 09:00 stays 09:00 across the clock changes
of Europe/Berlin, and the half hour skipped in spring cannot be offered or booked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine
from pytest_django.fixtures import Settings

from accounts.models import DoctorProfile, User
from accounts.tests.factories import DoctorFactory
from scheduling import availability, services
from scheduling.models import Appointment
from scheduling.tests.conftest import BERLIN
from scheduling.tests.factories import SlotFactory

pytestmark = pytest.mark.django_db

SUNDAY = 6
SPRING_FORWARD = dt.date(2027, 3, 28)  # 02:00 CET → 03:00 CEST
FALL_BACK = dt.date(2027, 10, 31)  # 03:00 CEST → 02:00 CET
WEEK = dt.timedelta(days=7)
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def berlin(settings: Settings) -> None:
    settings.TIME_ZONE = "Europe/Berlin"
    settings.BOOKING_HORIZON_DAYS = 60
    settings.BOOKING_MIN_NOTICE_MINUTES = 60


@pytest.fixture
def before_spring(berlin: None) -> Iterator[None]:
    with time_machine.travel(dt.datetime(2027, 3, 10, 12, 0, tzinfo=BERLIN), tick=False):
        yield


@pytest.fixture
def before_autumn(berlin: None) -> Iterator[None]:
    with time_machine.travel(dt.datetime(2027, 10, 15, 12, 0, tzinfo=BERLIN), tick=False):
        yield


@pytest.fixture
def sunday_doctor() -> DoctorProfile:
    return DoctorFactory(full_name="Sunny Sunday").doctor_profile


def book_sunday_9(doctor: DoctorProfile, patient: User, date: dt.date) -> Appointment:
    slot = SlotFactory(doctor=doctor, weekday=SUNDAY, start_time=dt.time(9))
    booked = services.book(patient=patient, doctor=doctor, slot=slot, date=date)
    return Appointment.objects.get(pk=booked.pk)


def local(instant: dt.datetime) -> dt.datetime:
    return instant.astimezone(BERLIN)


@pytest.mark.usefixtures("before_spring")
class TestSpringForward:
    def test_nine_oclock_is_nine_oclock_on_both_sides(
        self, sunday_doctor: DoctorProfile, patient: User
    ) -> None:
        before = book_sunday_9(sunday_doctor, patient, SPRING_FORWARD - WEEK)
        after = Appointment.objects.get(
            pk=services.book(
                patient=patient, doctor=sunday_doctor, slot=before.slot, date=SPRING_FORWARD
            ).pk
        )

        assert [local(a.starts_at).time() for a in (before, after)] == [dt.time(9)] * 2
        assert local(before.starts_at).utcoffset() == HOUR
        assert local(after.starts_at).utcoffset() == 2 * HOUR
        assert before.starts_at.astimezone(dt.UTC).time() == dt.time(8)
        assert after.starts_at.astimezone(dt.UTC).time() == dt.time(7)
        assert [a.ends_at - a.starts_at for a in (before, after)] == [dt.timedelta(minutes=30)] * 2

    def test_availability_offers_nine_oclock_at_the_local_time(
        self, sunday_doctor: DoctorProfile
    ) -> None:
        SlotFactory(doctor=sunday_doctor, weekday=SUNDAY, start_time=dt.time(9))

        days = availability.days(sunday_doctor, SPRING_FORWARD - WEEK, SPRING_FORWARD)

        openings = [o for day in days for o in day.openings]
        assert [o.starts_at.astimezone(dt.UTC).time() for o in openings] == [
            dt.time(8),
            dt.time(7),
        ]
        assert [local(o.starts_at).time() for o in openings] == [dt.time(9), dt.time(9)]

    def test_skipped_half_hour_is_not_offered(self, sunday_doctor: DoctorProfile) -> None:
        SlotFactory(doctor=sunday_doctor, weekday=SUNDAY, start_time=dt.time(2, 30))

        days = availability.days(sunday_doctor, SPRING_FORWARD - WEEK, SPRING_FORWARD + WEEK)

        assert [o.date for day in days for o in day.openings] == [
            SPRING_FORWARD - WEEK,
            SPRING_FORWARD + WEEK,
        ]
        assert next(d for d in days if d.date == SPRING_FORWARD).free_count == 0

    def test_booking_the_skipped_half_hour_is_refused(
        self, sunday_doctor: DoctorProfile, patient: User
    ) -> None:
        slot = SlotFactory(doctor=sunday_doctor, weekday=SUNDAY, start_time=dt.time(2, 30))

        with pytest.raises(services.SchedulingError) as caught:
            services.book(patient=patient, doctor=sunday_doctor, slot=slot, date=SPRING_FORWARD)

        assert caught.value.code == "no_such_time"
        assert not Appointment.objects.exists()
        # The same slot a week later exists and books.
        services.book(patient=patient, doctor=sunday_doctor, slot=slot, date=SPRING_FORWARD + WEEK)
        assert Appointment.objects.get().date == SPRING_FORWARD + WEEK

    def test_slot_ending_in_the_skipped_hour_is_refused(
        self, sunday_doctor: DoctorProfile, patient: User
    ) -> None:
        slot = SlotFactory(
            doctor=sunday_doctor, weekday=SUNDAY, start_time=dt.time(1, 45), end_time=dt.time(2, 15)
        )

        with pytest.raises(services.SchedulingError) as caught:
            services.book(patient=patient, doctor=sunday_doctor, slot=slot, date=SPRING_FORWARD)

        assert caught.value.code == "no_such_time"
        assert not Appointment.objects.exists()


@pytest.mark.usefixtures("before_autumn")
class TestFallBack:
    def test_nine_oclock_is_nine_oclock_on_both_sides(
        self, sunday_doctor: DoctorProfile, patient: User
    ) -> None:
        before = book_sunday_9(sunday_doctor, patient, FALL_BACK - WEEK)
        after = Appointment.objects.get(
            pk=services.book(
                patient=patient, doctor=sunday_doctor, slot=before.slot, date=FALL_BACK
            ).pk
        )

        assert [local(a.starts_at).time() for a in (before, after)] == [dt.time(9)] * 2
        assert local(before.starts_at).utcoffset() == 2 * HOUR
        assert local(after.starts_at).utcoffset() == HOUR
        assert before.starts_at.astimezone(dt.UTC).time() == dt.time(7)
        assert after.starts_at.astimezone(dt.UTC).time() == dt.time(8)

    def test_repeated_half_hour_means_the_first_one(
        self, sunday_doctor: DoctorProfile, patient: User
    ) -> None:
        slot = SlotFactory(
            doctor=sunday_doctor, weekday=SUNDAY, start_time=dt.time(2, 30), end_time=dt.time(2, 50)
        )

        (day,) = availability.days(sunday_doctor, FALL_BACK, FALL_BACK)
        booked = services.book(patient=patient, doctor=sunday_doctor, slot=slot, date=FALL_BACK)

        assert day.free_count == 1
        row = Appointment.objects.get(pk=booked.pk)
        # 02:30 CEST is 00:30 UTC; the second 02:30 (CET) would be 01:30 UTC.
        assert row.starts_at == dt.datetime(2027, 10, 31, 0, 30, tzinfo=dt.UTC)
        assert row.ends_at == dt.datetime(2027, 10, 31, 0, 50, tzinfo=dt.UTC)
