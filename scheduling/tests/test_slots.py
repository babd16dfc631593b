"""A doctor's weekly slots: never overlapping on one weekday, retired (never deleted) only once
no upcoming appointment uses them."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from accounts.models import DoctorProfile, User
from scheduling import availability, services
from scheduling.models import Appointment, Slot
from scheduling.tests.conftest import BERLIN, NEXT_MONDAY, NOW
from scheduling.tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db

T = dt.time


def add(doctor: DoctorProfile, weekday: int, start: dt.time, end: dt.time) -> Slot:
    return services.add_slot(doctor=doctor, weekday=weekday, start_time=start, end_time=end)


def dora_slots(dora: DoctorProfile) -> list[tuple[int, dt.time, dt.time]]:
    return list(
        Slot.objects.active()
        .filter(doctor=dora)
        .order_by("weekday", "start_time")
        .values_list("weekday", "start_time", "end_time")
    )


class TestAddSlot:
    def test_adds_a_weekly_slot(self, dora: DoctorProfile) -> None:
        slot = add(dora, 2, T(14), T(14, 20))

        slot.refresh_from_db()
        assert (slot.doctor, slot.is_active, slot.duration) == (
            dora,
            True,
            dt.timedelta(minutes=20),
        )
        assert dora_slots(dora) == [(2, T(14), T(14, 20))]

    @pytest.mark.parametrize(
        ("start", "end"),
        [
            (T(9), T(9, 30)),  # the same
            (T(9, 15), T(9, 45)),  # starts inside
            (T(8, 45), T(9, 15)),  # ends inside
            (T(9, 10), T(9, 20)),  # within
            (T(8), T(10)),  # around
        ],
    )
    def test_overlapping_slot_on_the_same_weekday_is_refused(
        self, dora: DoctorProfile, start: dt.time, end: dt.time
    ) -> None:
        add(dora, 0, T(9), T(9, 30))

        with pytest.raises(services.SchedulingError) as caught:
            add(dora, 0, start, end)

        assert caught.value.code == "overlap"
        assert "09:00-09:30" in caught.value.text
        assert dora_slots(dora) == [(0, T(9), T(9, 30))]

    def test_adjacent_slots_are_allowed(self, dora: DoctorProfile) -> None:
        add(dora, 0, T(9), T(9, 30))

        add(dora, 0, T(9, 30), T(10))
        add(dora, 0, T(8, 30), T(9))

        assert dora_slots(dora) == [
            (0, T(8, 30), T(9)),
            (0, T(9), T(9, 30)),
            (0, T(9, 30), T(10)),
        ]

    def test_same_time_on_another_weekday_is_allowed(self, dora: DoctorProfile) -> None:
        add(dora, 0, T(9), T(9, 30))

        add(dora, 1, T(9), T(9, 30))

        assert dora_slots(dora) == [(0, T(9), T(9, 30)), (1, T(9), T(9, 30))]

    def test_same_time_for_another_doctor_is_allowed(
        self, dora: DoctorProfile, other_doctor: User
    ) -> None:
        add(dora, 0, T(9), T(9, 30))

        add(other_doctor.doctor_profile, 0, T(9), T(9, 30))

        assert Slot.objects.filter(weekday=0, start_time=T(9)).count() == 2

    def test_a_retired_slot_does_not_block_a_new_one(self, dora: DoctorProfile) -> None:
        old = add(dora, 0, T(9), T(9, 30))
        services.deactivate_slot(slot=old)

        add(dora, 0, T(9), T(9, 45))

        assert dora_slots(dora) == [(0, T(9), T(9, 45))]
        assert Slot.objects.filter(doctor=dora).count() == 2

    @pytest.mark.parametrize(("start", "end"), [(T(9), T(9)), (T(10), T(9))])
    def test_slot_must_end_after_it_starts(
        self, dora: DoctorProfile, start: dt.time, end: dt.time
    ) -> None:
        with pytest.raises(services.SchedulingError) as caught:
            add(dora, 0, start, end)

        assert caught.value.code == "order"
        assert not Slot.objects.exists()

    def test_slot_of_under_five_minutes_is_refused(self, dora: DoctorProfile) -> None:
        with pytest.raises(services.SchedulingError) as caught:
            add(dora, 0, T(9), T(9, 4))

        assert caught.value.code == "too_short"
        assert not Slot.objects.exists()

    @pytest.mark.parametrize("weekday", [-1, 7])
    def test_weekday_must_be_a_day_of_the_week(self, dora: DoctorProfile, weekday: int) -> None:
        with pytest.raises(services.SchedulingError) as caught:
            add(dora, weekday, T(9), T(9, 30))

        assert caught.value.code == "weekday"
        assert not Slot.objects.exists()


class TestDeactivateSlot:
    def test_slot_with_an_upcoming_appointment_cannot_be_retired(
        self, dora: DoctorProfile, monday_9: Slot
    ) -> None:
        AppointmentFactory(slot=monday_9, date=NEXT_MONDAY)

        with pytest.raises(services.SchedulingError) as caught:
            services.deactivate_slot(slot=monday_9)

        assert caught.value.code == "slot_in_use"
        assert caught.value.text.startswith("1 upcoming appointment")
        monday_9.refresh_from_db()
        assert monday_9.is_active
        assert monday_9.deactivated_at is None

    def test_slot_in_use_right_now_cannot_be_retired(
        self, dora: DoctorProfile, monday_9: Slot
    ) -> None:
        appointment = AppointmentFactory(slot=monday_9, date=NEXT_MONDAY)
        services.check_in(
            appointment=appointment,
            by=dora.user,
            now=dt.datetime(2026, 6, 8, 8, 55, tzinfo=BERLIN),
        )

        with (
            time_machine.travel(dt.datetime(2026, 6, 8, 9, 10, tzinfo=BERLIN), tick=False),
            pytest.raises(services.SchedulingError),
        ):
            services.deactivate_slot(slot=monday_9)

        monday_9.refresh_from_db()
        assert monday_9.is_active

    def test_slot_with_only_past_and_cancelled_appointments_is_retired_and_kept(
        self, dora: DoctorProfile, monday_9: Slot, patient: User
    ) -> None:
        past = AppointmentFactory(
            slot=monday_9,
            date=NEXT_MONDAY - dt.timedelta(days=14),
            status=Appointment.Status.COMPLETED,
            completed_at=NOW - dt.timedelta(days=14),
        )
        upcoming = AppointmentFactory(patient=patient, slot=monday_9, date=NEXT_MONDAY)
        services.cancel(appointment=upcoming, by=patient)

        services.deactivate_slot(slot=monday_9)

        monday_9.refresh_from_db()
        assert monday_9.is_active is False
        assert monday_9.deactivated_at == NOW
        assert set(Appointment.objects.filter(slot=monday_9)) == {past, upcoming}

    def test_retired_slot_is_no_longer_offered(self, dora: DoctorProfile, monday_9: Slot) -> None:
        services.deactivate_slot(slot=monday_9)

        week = availability.days(dora, NEXT_MONDAY, NEXT_MONDAY + dt.timedelta(days=6))

        assert [o for day in week for o in day.openings] == []

    def test_retiring_twice_keeps_the_first_time(self, dora: DoctorProfile, monday_9: Slot) -> None:
        services.deactivate_slot(slot=monday_9)
        with time_machine.travel(NOW + dt.timedelta(days=1), tick=False):
            services.deactivate_slot(slot=monday_9)

        monday_9.refresh_from_db()
        assert monday_9.deactivated_at == NOW
